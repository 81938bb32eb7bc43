"""``cosea demo``: the main job on the bundled demo data, with embedded SQLite and no server.

Each capability contributes one step (``cosea/<capability>/demo.py: run_demo``);
the demo runs them in the order an investigation would (conversations first,
then the matrix heated by what they showed, media matching, a triage case, the
reports) and writes every output into one folder a new user can open. The
database is a fresh SQLite file inside that folder, so the demo never touches a
user's own data.
"""

from __future__ import annotations

import importlib
import json
import os
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table

# (title, module); every module exposes run_demo(out, console) -> dict
STEPS: list[tuple[str, str]] = [
    ("Conversations", "cosea.chats.demo"),
    ("COSEA matrix", "cosea.matrix.demo"),
    ("Media matching", "cosea.media.demo"),
    ("Triage case", "cosea.triage.demo"),
    ("Reports and intelligence", "cosea.report.demo"),
]


def _technique_counts(predictions: Path) -> dict[str, int]:
    counts: Counter[str] = Counter()
    if predictions.is_file():
        for line in predictions.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for techniques in json.loads(line).get("techniques", {}).values():
                    counts.update(techniques)
    return dict(counts)


def run(out: Path, console: Console) -> dict[str, Any]:
    """Run every available step; a failing step is reported and the others still run."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["COSEA_HOME"] = str(out / "cosea-home")
    os.environ.pop("COSEA_DATABASE_URL", None)
    summary: dict[str, Any] = {"out": str(out), "steps": {}}
    for title, module_name in STEPS:
        console.print(Rule(f"[bold]{title}"))
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            summary["steps"][title] = {"status": "not available"}
            console.print("[dim]not available in this build[/]")
            continue
        started = time.perf_counter()
        try:
            if module_name == "cosea.matrix.demo":
                counts = _technique_counts(out / "chats-predictions.jsonl")
                result = module.run_demo(out, console, counts=counts or None)
            else:
                result = module.run_demo(out, console)
            status = "ok"
        except Exception as error:  # a demo step failing must not hide the others
            result = {"error": f"{type(error).__name__}: {error}"}
            status = "failed"
            console.print(f"[bold red]{title} failed:[/] {escape(str(error))}")
            console.print(escape(traceback.format_exc()), style="dim")
        summary["steps"][title] = {
            "status": status,
            "seconds": round(time.perf_counter() - started, 2),
            "result": result,
        }
    (out / "demo-summary.json").write_text(
        json.dumps(summary, indent=2, default=str), encoding="utf-8"
    )
    return summary


def demo_command(
    out: Path = typer.Option(Path("demo-output"), help="Folder for the demo's outputs."),
) -> None:
    """Run the main job on the bundled demo data (embedded SQLite, no server)."""
    console = Console()
    console.print(f"[bold]cosea demo[/]: outputs go to {out}/")
    summary = run(out, console)
    console.print(Rule("[bold]Summary"))
    table = Table("step", "status", "seconds")
    for title, step in summary["steps"].items():
        colour = {"ok": "green", "failed": "red"}.get(step["status"], "dim")
        table.add_row(title, f"[{colour}]{step['status']}[/]", str(step.get("seconds", "")))
    console.print(table)
    outputs = sorted(p.name for p in Path(summary["out"]).iterdir() if p.name != "cosea-home")
    console.print(f"Outputs in {summary['out']}: " + ", ".join(outputs))
    if any(step["status"] == "failed" for step in summary["steps"].values()):
        raise typer.Exit(code=1)
