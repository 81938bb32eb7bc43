"""The ``cosea`` command: a thin layer over the library.

Each capability owns its sub-command group in ``cosea/<capability>/cli.py``;
heavy libraries are imported inside the commands so ``cosea --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from cosea import __version__
from cosea.chats.cli import app as chats_app
from cosea.demo import demo_command
from cosea.errors import CoseaError
from cosea.matrix.cli import app as matrix_app
from cosea.media.cli import lists_app, media_app
from cosea.report.cli import app as report_app
from cosea.report.cli import playbook_command
from cosea.service.cli import admin_app, serve_command
from cosea.triage.cli import app as triage_app

app = typer.Typer(
    name="cosea",
    help="Detect and respond to child online sexual exploitation and abuse (COSEA).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(matrix_app, name="matrix", help="The COSEA matrix: tactics, techniques, mitigations.")
app.add_typer(chats_app, name="chats", help="Analyse conversations for offender techniques.")
app.add_typer(media_app, name="media", help="Hash media files and match them against lists.")
app.add_typer(lists_app, name="lists", help="Hash lists (banks) of known material.")
app.add_typer(triage_app, name="triage", help="Scan seized media into a case; verify; report.")
app.add_typer(report_app, name="report", help="Evidence packages, CyberTipline reports, STIX.")
app.command("playbook", help="Recommended actions for each stakeholder.")(playbook_command)
app.command("serve", help="Run the API and the reviewer console.")(serve_command)
app.add_typer(admin_app, name="service", help="Administer the service: users, API keys, retention.")
app.command("demo", help="Run the main job on the bundled demo data.")(demo_command)


@app.command("version")
def version() -> None:
    """Print the cosea version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except CoseaError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
