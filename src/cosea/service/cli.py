import typer


def serve_command(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    demo: bool = typer.Option(False, "--demo", help="Load demo data and print a login."),
) -> None:
    """Run the API and the reviewer console."""
    raise typer.Exit(code=1)
