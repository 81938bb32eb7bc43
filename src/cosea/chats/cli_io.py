"""``cosea chats readers`` and ``cosea chats convert``: the chat readers from the command line.

The chats CLI registers these command functions; :func:`reader_options` turns
``--map`` and ``--option KEY=VALUE`` into reader options for any command that
reads conversations (``cosea chats analyze --reader csv --map ...``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cosea.errors import InputError
from cosea.types import Conversation

ReaderArg = Annotated[
    str | None,
    typer.Option(
        "--reader", "-r", help="Input format (see `cosea chats readers`); detected when left out."
    ),
]
MapArg = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="CSV column mapping, e.g. conversation=thread_id,from=sender,text=body,ts=sent_at",
    ),
]
OptionArg = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-O",
        help="Reader option KEY=VALUE (tz=Europe/Berlin, date_order=mdy, time_format=..., "
        "delimiter=;, grouped=true); repeatable.",
    ),
]
StrictArg = Annotated[
    bool, typer.Option("--strict", help="Stop at the first bad record instead of skipping it.")
]


def reader_options(
    reader: str | None, map: str | None = None, options: list[str] | None = None
) -> dict[str, Any]:
    """Reader options from ``--map`` and ``--option KEY=VALUE``, checked against the reader.

    Raises :class:`InputError` for a malformed mapping or option, an option the
    named reader does not take, or a mapping given to a reader other than csv.
    """
    from cosea.chats.io import get_reader, parse_mapping

    result: dict[str, Any] = {}
    if map:
        if reader not in (None, "csv"):
            raise InputError("--map", f"only the csv reader takes a column mapping, not {reader!r}")
        result["mapping"] = parse_mapping(map)
    for item in options or []:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise InputError("--option", f"{item!r} is not KEY=VALUE")
        result[key.strip()] = value.strip()
    if reader is not None:
        get_reader(reader).check_options(result)
    return result


def readers_command() -> None:
    """List the chat formats cosea reads, with their options."""
    from cosea.chats.io import get_reader, reader_names
    from cosea.chats.io.base import COMMON_OPTIONS

    table = Table(title="Chat readers", show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("extensions")
    table.add_column("format")
    table.add_column("options")
    for name in reader_names():
        reader = get_reader(name)
        own = ", ".join(reader.options) if reader.options else "-"
        table.add_row(name, " ".join(reader.extensions), reader.description, own)
    console = Console()
    console.print(table)
    console.print(
        "Every reader also takes: "
        + "; ".join(f"{key} ({option.help})" for key, option in COMMON_OPTIONS.items()),
        highlight=False,
    )


def convert_command(
    files: Annotated[list[Path], typer.Argument(help="Chat files to read.", show_default=False)],
    reader: ReaderArg = None,
    map: MapArg = None,
    strict: StrictArg = False,
    out: Annotated[
        str, typer.Option("--out", "-o", help="Output JSONL file ('-' for standard output).")
    ] = "-",
    option: OptionArg = None,
    with_labels: Annotated[
        bool, typer.Option("--with-labels", help="Keep gold labels of labelled input.")
    ] = False,
) -> None:
    """Convert chat exports of any supported format into cosea's JSON Lines format."""
    from rich.markup import escape
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from cosea.chats.io import ReadReport, read_conversations, write_jsonl

    options = reader_options(reader, map, option)
    report = ReadReport()
    errors = Console(stderr=True, soft_wrap=True)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} conversation(s)"),
        console=errors,
        transient=True,
    )

    def conversations() -> Iterator[Conversation]:
        task = progress.add_task("converting", total=None)
        for conversation in read_conversations(
            files, reader=reader, strict=strict, report=report, **options
        ):
            progress.advance(task)
            yield conversation

    with progress:
        if out == "-":
            write_jsonl(conversations(), sys.stdout, with_labels=with_labels)
        else:
            # Written beside the target and moved into place at the end, so a
            # failed run leaves an earlier output file as it was.
            target = Path(out)
            partial = target.with_name(target.name + ".partial")
            try:
                write_jsonl(conversations(), partial, with_labels=with_labels)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            os.replace(partial, target)
    shown = 20
    for error in report.errors[:shown]:
        errors.print(f"[yellow]skipped:[/] {escape(str(error))}", highlight=False)
    if len(report.errors) > shown or report.skipped > len(report.errors):
        errors.print(f"... and {report.skipped - shown} more", highlight=False)
    for warning in report.warnings[:shown]:
        errors.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    errors.print(report.summary(), highlight=False)
    if report.skipped and not report.conversations:
        raise typer.Exit(1)  # nothing usable came out: a wrong mapping, format or file
