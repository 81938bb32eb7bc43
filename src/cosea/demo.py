"""``cosea demo``: the main job on the bundled demo data, with embedded SQLite and no server.

Each capability contributes one step; the demo runs them in order and writes its
outputs to one folder a new user can open.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console


def demo_command(
    out: Path = typer.Option(Path("demo-output"), help="Folder for the demo's outputs."),
) -> None:
    """Run the main job on the bundled demo data."""
    console = Console()
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]cosea demo[/] writing to {out}/")
