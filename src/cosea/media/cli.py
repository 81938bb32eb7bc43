import typer

media_app = typer.Typer(no_args_is_help=True)
lists_app = typer.Typer(no_args_is_help=True)
