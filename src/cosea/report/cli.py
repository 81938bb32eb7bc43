import typer

app = typer.Typer(no_args_is_help=True)


def playbook_command(
    target: str = typer.Argument(..., help="Alert id or case name."),
    audience: str = typer.Option("platform", help="Stakeholder to write for."),
) -> None:
    """Recommended actions for each stakeholder."""
    raise typer.Exit(code=1)
