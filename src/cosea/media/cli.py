import typer

from cosea.media.lists.cli import app as lists_app

media_app = typer.Typer(no_args_is_help=True)

__all__ = ["lists_app", "media_app"]
