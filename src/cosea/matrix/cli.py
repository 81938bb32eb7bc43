"""``cosea matrix``: browse, search, export and validate the COSEA matrix.

A thin layer over :mod:`cosea.matrix`; every command takes ``--data`` (or the
``COSEA_MATRIX`` environment variable) to work on an organisation's own copy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cosea.errors import CoseaError

if TYPE_CHECKING:
    from cosea.matrix.matrix import Matrix
    from cosea.matrix.models import Mitigation, Stakeholder, Tactic, Technique

app = typer.Typer(no_args_is_help=True)
console = Console()
error_console = Console(stderr=True)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="COSEA_MATRIX",
        help="A matrix YAML file or folder to use instead of the bundled one.",
        show_default=False,
    ),
]


class ListKind(StrEnum):
    techniques = "techniques"
    tactics = "tactics"
    mitigations = "mitigations"
    stakeholders = "stakeholders"


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print cosea errors plainly and exit 2, as the top-level command does."""
    try:
        yield
    except CoseaError as error:
        error_console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(2) from None


def _load(data: Path | None) -> Matrix:
    from cosea.matrix import load

    return load(data)


def _kind_style(kind: str) -> str:
    return {
        "prevent": "green",
        "detect": "blue",
        "disrupt": "magenta",
        "respond": "dark_orange",
        "support": "cyan",
    }.get(kind, "white")


def _mitigation_table(matrix: Matrix, mitigations: list[Mitigation], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False, expand=True)
    table.add_column("ID", style="bold", no_wrap=True)
    table.add_column("Mitigation", ratio=3)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Stakeholders", ratio=2)
    for mitigation in mitigations:
        table.add_row(
            mitigation.id,
            mitigation.name,
            Text(mitigation.kind, style=_kind_style(mitigation.kind)),
            ", ".join(matrix.stakeholders[s].name for s in mitigation.stakeholders),
        )
    return table


def _technique_table(matrix: Matrix, techniques: list[Technique], title: str) -> Table:
    table = Table(title=title, title_justify="left", expand=True)
    table.add_column("ID", style="bold", no_wrap=True)
    table.add_column("Technique", ratio=1)
    table.add_column("Tactic", ratio=1)
    table.add_column("Scope", ratio=3)
    for technique in techniques:
        tactic = matrix.tactic(technique.tactic)
        table.add_row(technique.id, technique.name, f"{tactic.id} {tactic.name}", technique.scope)
    return table


def _bullets(items: list[str]) -> Text:
    return Text("\n".join(f"• {item}" for item in items))


def _list_tactics(matrix: Matrix) -> Table:
    table = Table(title=f"{matrix.name} {matrix.version}: tactics in kill-chain order")
    for column in ("Step", "ID", "Tactic", "Techniques", "Scope"):
        table.add_column(column, no_wrap=column in ("Step", "ID"))
    for tactic in matrix.tactics:
        table.add_row(
            str(matrix.tactic_order(tactic.id)),
            tactic.id,
            tactic.name,
            str(len(matrix.techniques_of(tactic.id))),
            tactic.scope,
        )
    return table


def _list_mitigations(matrix: Matrix, tactic: str | None, stakeholder: str | None) -> Table:
    mitigations = (
        matrix.mitigations_of(stakeholder) if stakeholder else list(matrix.mitigations.values())
    )
    if tactic:
        wanted = {t.id for t in matrix.techniques_of(tactic)}
        mitigations = [
            m
            for m in mitigations
            if any(t.id in wanted for t in matrix.techniques_mitigated_by(m.id))
        ]
    table = Table(title=f"{len(mitigations)} mitigations", title_justify="left", expand=True)
    for column in ("ID", "Mitigation", "Kind", "Stakeholders", "Counters"):
        table.add_column(column, no_wrap=column == "ID", style="bold" if column == "ID" else None)
    for mitigation in mitigations:
        table.add_row(
            mitigation.id,
            mitigation.name,
            Text(mitigation.kind, style=_kind_style(mitigation.kind)),
            ", ".join(mitigation.stakeholders),
            ", ".join(t.id for t in matrix.techniques_mitigated_by(mitigation.id)),
        )
    return table


def _list_stakeholders(matrix: Matrix) -> Table:
    table = Table(title="Stakeholders", title_justify="left", expand=True)
    for column in ("ID", "Stakeholder", "Mitigations", "Role"):
        table.add_column(column, no_wrap=column == "ID", ratio=3 if column == "Role" else None)
    for stakeholder in matrix.stakeholders.values():
        table.add_row(
            stakeholder.id,
            stakeholder.name,
            str(len(matrix.mitigations_of(stakeholder.id))),
            stakeholder.role,
        )
    return table


def _list_techniques(matrix: Matrix, tactic: str | None) -> Table:
    tactics = [matrix.tactic(tactic)] if tactic else matrix.tactics
    table = Table(title=f"{matrix.name} {matrix.version}", title_justify="left", expand=True)
    table.add_column("Tactic", ratio=1)
    table.add_column("ID", style="bold", no_wrap=True)
    table.add_column("Technique", ratio=1)
    table.add_column("Scope", ratio=3)
    for item in tactics:
        techniques = matrix.techniques_of(item.id)
        for index, technique in enumerate(techniques):
            table.add_row(
                f"{item.id} {item.name}" if index == 0 else "",
                technique.id,
                technique.name,
                technique.scope,
                end_section=index == len(techniques) - 1,
            )
    return table


@app.command("list")
def list_entries(
    kind: Annotated[ListKind, typer.Argument(help="What to list.")] = ListKind.techniques,
    tactic: Annotated[
        str | None, typer.Option("--tactic", "-t", help="Only this tactic, e.g. TA04.")
    ] = None,
    stakeholder: Annotated[
        str | None,
        typer.Option("--stakeholder", "-s", help="Only mitigations this stakeholder owns."),
    ] = None,
    data: DataOption = None,
) -> None:
    """List techniques (by tactic, in kill-chain order), tactics, mitigations or stakeholders."""
    with _user_errors():
        matrix = _load(data)
        if kind is ListKind.tactics:
            table = _list_tactics(matrix)
        elif kind is ListKind.mitigations:
            table = _list_mitigations(matrix, tactic, stakeholder)
        elif kind is ListKind.stakeholders:
            table = _list_stakeholders(matrix)
        else:
            table = _list_techniques(matrix, tactic)
        console.print(table)


def _show_tactic(matrix: Matrix, tactic: Tactic) -> None:
    order = matrix.tactic_order(tactic.id)
    parts: list = [Text(tactic.scope, style="italic"), Text(""), Text(tactic.description)]
    if tactic.research_stages:
        stages = Table(title="Research models", title_justify="left", expand=True)
        stages.add_column("Model", ratio=1)
        stages.add_column("Stage", ratio=1)
        for stage in tactic.research_stages:
            stages.add_row(matrix.research_models[stage.model].name, stage.stage)
        parts += [Text(""), stages]
    parts += [Text(""), _technique_table(matrix, matrix.techniques_of(tactic.id), "Techniques")]
    console.print(
        Panel(
            Group(*parts),
            title=f"[bold]{tactic.id} {escape(tactic.name)}[/]",
            subtitle=f"tactic, step {order} of {len(matrix.tactics)}",
        )
    )


def _show_technique(matrix: Matrix, technique: Technique, stakeholder: str | None) -> None:
    tactic = matrix.tactic(technique.tactic)
    mitigations = matrix.mitigations_for(technique.id, stakeholder)
    sources = ", ".join(matrix.data_sources[s].name for s in technique.data_sources)
    related = ", ".join(f"{r} {matrix.techniques[r].name}" for r in technique.related) or "-"
    parts: list = [
        Text(technique.scope, style="italic"),
        Text(""),
        Text(technique.description),
        Text(""),
        Text("Indicators", style="bold"),
        _bullets(list(technique.indicators)),
        Text(""),
        Text.assemble(("Data sources: ", "bold"), sources),
        Text.assemble(("Detection: ", "bold"), technique.detection),
        Text.assemble(("Related: ", "bold"), related),
        Text(""),
        _mitigation_table(
            matrix,
            mitigations,
            "Mitigations" + (f" owned by {stakeholder}" if stakeholder else ""),
        ),
    ]
    console.print(
        Panel(
            Group(*parts),
            title=f"[bold]{technique.id} {escape(technique.name)}[/]",
            subtitle=f"technique of {tactic.id} {escape(tactic.name)}",
        )
    )


def _show_mitigation(matrix: Matrix, mitigation: Mitigation) -> None:
    owners = ", ".join(matrix.stakeholders[s].name for s in mitigation.stakeholders)
    parts: list = [
        Text(mitigation.description),
        Text(""),
        Text.assemble(("Kind: ", "bold"), (mitigation.kind, _kind_style(mitigation.kind))),
        Text.assemble(("Stakeholders: ", "bold"), owners),
        Text(""),
        _technique_table(matrix, matrix.techniques_mitigated_by(mitigation.id), "Counters"),
    ]
    console.print(
        Panel(
            Group(*parts),
            title=f"[bold]{mitigation.id} {escape(mitigation.name)}[/]",
            subtitle="mitigation",
        )
    )


def _show_stakeholder(matrix: Matrix, stakeholder: Stakeholder) -> None:
    parts: list = [
        Text(stakeholder.role),
        Text(""),
        Text("Strategic initiatives", style="bold"),
        _bullets(list(stakeholder.strategic_initiatives)),
        Text(""),
        _mitigation_table(matrix, matrix.mitigations_of(stakeholder.id), "Mitigations it owns"),
    ]
    console.print(
        Panel(
            Group(*parts),
            title=f"[bold]{escape(stakeholder.name)}[/]",
            subtitle=f"stakeholder {stakeholder.id}",
        )
    )


@app.command("show")
def show(
    identifier: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A tactic (TA04), technique (T0401), mitigation (M0111) or stakeholder id.",
        ),
    ],
    stakeholder: Annotated[
        str | None,
        typer.Option(
            "--stakeholder", "-s", help="For a technique: only this stakeholder's mitigations."
        ),
    ] = None,
    data: DataOption = None,
) -> None:
    """Show one entry in full: description, indicators, detection, mitigations."""
    from cosea.matrix.models import Mitigation, Stakeholder, Tactic, Technique

    with _user_errors():
        matrix = _load(data)
        entry = matrix.get(identifier)
        if isinstance(entry, Tactic):
            _show_tactic(matrix, entry)
        elif isinstance(entry, Technique):
            _show_technique(matrix, entry, stakeholder)
        elif isinstance(entry, Mitigation):
            _show_mitigation(matrix, entry)
        elif isinstance(entry, Stakeholder):
            _show_stakeholder(matrix, entry)


@app.command("search")
def search(
    words: Annotated[list[str], typer.Argument(help="Words to look for, e.g. gift cards.")],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many.")] = 15,
    data: DataOption = None,
) -> None:
    """Search names, scopes, indicators and descriptions; best matches first."""
    with _user_errors():
        matrix = _load(data)
        hits = matrix.search(words, limit=limit)
        if not hits:
            console.print(f"No entry matches {' '.join(words)!r}.")
            raise typer.Exit(1)
        table = Table(title=f"Matches for {' '.join(words)!r}", title_justify="left", expand=True)
        table.add_column("Kind", no_wrap=True)
        table.add_column("ID", style="bold", no_wrap=True)
        table.add_column("Name", ratio=2)
        table.add_column("Score", justify="right", no_wrap=True)
        table.add_column("Scope or role", ratio=3)
        for hit in hits:
            detail = getattr(hit.entry, "scope", None) or getattr(hit.entry, "role", None)
            detail = detail or getattr(hit.entry, "description", "")
            if len(detail) > 140:
                detail = detail[:139].rsplit(" ", 1)[0] + "…"
            table.add_row(hit.kind, hit.id, hit.name, f"{hit.score:.1f}", detail)
        console.print(table)


@app.command("export")
def export(
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="stix, navigator, csv, markdown or html."),
    ],
    counts: Annotated[
        Path | None,
        typer.Option(
            "--counts",
            "-c",
            help="Observed technique counts: JSON {id: n}, CSV technique,count, or JSONL "
            "conversations/predictions. Scores the Navigator layer and heats the HTML.",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of to standard output.")
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Title for html or navigator.")
    ] = None,
    data: DataOption = None,
) -> None:
    """Export the matrix as a STIX 2.1 bundle, Navigator layer, CSV, Markdown or HTML."""
    from cosea.matrix.counts import read_counts
    from cosea.matrix.export import export_matrix

    with _user_errors():
        matrix = _load(data)
        observed = read_counts(counts, matrix) if counts else None
        text = export_matrix(matrix, format, observed, title=title)
        if out is None:
            sys.stdout.write(text)
            return
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        error_console.print(
            f"wrote {out} ({format}, {len(text.encode()):,} bytes)", highlight=False
        )


@app.command("validate")
def validate(
    path: Annotated[
        Path,
        typer.Argument(metavar="FILE_OR_DIR", help="A matrix YAML file, or a folder of them."),
    ],
) -> None:
    """Check a matrix file or folder (for example an organisation's extended copy)."""
    from cosea.matrix.loader import read_matrix
    from cosea.matrix.matrix import Matrix

    raw, problems = read_matrix(path)
    if problems:
        error_console.print(
            f"[bold red]{escape(str(path))}: {len(problems)} problem(s)[/]", highlight=False
        )
        for problem in problems:
            error_console.print(f"  - {escape(problem)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    matrix = Matrix(raw)
    console.print(
        f"[bold green]valid[/] {escape(str(path))}: {matrix.name} {matrix.version}, "
        f"schema {matrix.schema_version}: {len(matrix.tactics)} tactics, "
        f"{len(matrix.techniques)} techniques, {len(matrix.mitigations)} mitigations, "
        f"{len(matrix.stakeholders)} stakeholders",
        highlight=False,
    )
