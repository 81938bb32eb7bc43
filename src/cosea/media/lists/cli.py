"""``cosea lists``: create, import, export, inspect and switch hash lists.

A thin layer over :mod:`cosea.media.lists`; errors are :class:`CoseaError` and
name the file and line, printed by the top-level CLI without a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from cosea.errors import CoseaError, InputError

if TYPE_CHECKING:
    from cosea.media.lists import ImportReport, ListStore

app = typer.Typer(no_args_is_help=True, help="Hash lists (banks) of known material.")
console = Console()

_SUFFIX_FORMATS = {
    ".txt": "text",
    ".csv": "csv",
    ".db": "nsrl",
    ".sqlite": "nsrl",
    ".sqlite3": "nsrl",
}


def _store() -> ListStore:
    from cosea.media.lists import ListStore

    return ListStore()


def _guess_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffix]
    if suffix == ".json" and path.is_file():
        with path.open("rb") as handle:
            head = handle.read(8192).decode("utf-8", "replace").lower()
        if "odata" in head:
            return "vics"
        if '"bundle"' in head:
            return "stix"
    raise InputError(path, "cannot tell the format from the name: give --format")


def _options(values: list[str] | None) -> dict[str, str]:
    options: dict[str, str] = {}
    for value in values or []:
        key, sep, setting = value.partition("=")
        if not sep or not key.strip():
            raise InputError("--option", f"expected KEY=VALUE, got {value!r}")
        options[key.strip()] = setting.strip()
    return options


@app.command("create")
def create_command(
    name: str = typer.Argument(..., help="Name of the new list."),
    scheme: str = typer.Option("default", help="Category scheme: default, vics, caid."),
    kind: str = typer.Option(
        "known-material", help="known-material, or known-files (a filter list such as NSRL)."
    ),
    description: str | None = typer.Option(None, help="What the list holds and where from."),
    source: str | None = typer.Option(None, help="Default source of its entries."),
) -> None:
    """Create an empty hash list."""
    info = _store().create_list(
        name, description=description, scheme=scheme, kind=kind, source=source
    )
    console.print(
        f"Created list [bold]{info.name}[/] ({info.kind}, scheme {info.category_scheme})."
    )


def _print_report(report: ImportReport) -> None:
    table = Table(title=f"Import into {report.list_name} ({report.format})", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_column("where")
    table.add_row("added", f"{report.added:,}", "")
    table.add_row(
        "duplicates in the file",
        f"{report.duplicates_in_file:,}",
        ", ".join(report.duplicate_lines),
    )
    table.add_row(
        "already in the list",
        f"{report.already_in_list:,}",
        ", ".join(report.already_in_list_lines),
    )
    table.add_row("skipped (invalid)", f"{report.skipped:,}", "")
    for kind, count in sorted(report.unsupported.items()):
        table.add_row(f"unsupported: {kind}", f"{count:,}", "skipped")
    table.add_row("seconds", f"{report.seconds:.2f}", f"change seq {report.seq}")
    console.print(table)
    if report.errors:
        console.print(f"[yellow]Skipped {report.skipped} invalid item(s):[/]")
        for error in report.errors[:20]:
            console.print(f"  {report.source}: {error}", highlight=False)
        if report.skipped > 20:
            console.print(f"  ... and {report.skipped - 20} more")


@app.command("import")
def import_command(
    name: str = typer.Argument(..., help="List to import into."),
    file: Path = typer.Argument(..., help="File to import."),
    format_name: str | None = typer.Option(
        None, "--format", "-f", help="text, csv, vics, nsrl or stix (default: from the name)."
    ),
    signal: str | None = typer.Option(
        None, help="Signal of the hashes (md5, sha1, sha256, pdq); nsrl: comma-separated."
    ),
    category: str | None = typer.Option(
        None, help="Category for entries the file gives none (in the list's scheme)."
    ),
    column_map: str | None = typer.Option(
        None, "--map", help="CSV columns: FIELD=COLUMN,... e.g. hash=MD5,category=Cat."
    ),
    source: str | None = typer.Option(None, help="Source of the entries (e.g. the partner)."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid lines and report the others."
    ),
    create: bool = typer.Option(False, "--create", help="Create the list if it does not exist."),
    scheme: str | None = typer.Option(None, help="Scheme of a list made by --create."),
    kind: str | None = typer.Option(None, help="Kind of a list made by --create."),
    option: list[str] | None = typer.Option(
        None, "--option", "-o", help="Format option KEY=VALUE (nsrl: view=FILE)."
    ),
) -> None:
    """Import a file into a list: all of it or, on any bad line, nothing."""
    from cosea.media.lists import import_file
    from cosea.media.lists.formats.csv import parse_column_map

    chosen = format_name or _guess_format(file)
    store = _store()
    with console.status(f"Importing {file} ({chosen})…"):
        report = import_file(
            store,
            name,
            file,
            chosen,
            signal=signal,
            category=category,
            source=source,
            column_map=parse_column_map(column_map),
            options=_options(option),
            skip_invalid=skip_invalid,
            create=create,
            scheme=scheme,
            kind=kind,
        )
    _print_report(report)


@app.command("export")
def export_command(
    name: str = typer.Argument(..., help="List to export."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    format_name: str | None = typer.Option(
        None, "--format", "-f", help="text, csv, vics, nsrl or stix (default: from the name)."
    ),
    signal: str | None = typer.Option(None, help="Only entries of this signal."),
    tlp: str = typer.Option("amber", help="STIX: TLP marking (white, green, amber, red)."),
    source: str | None = typer.Option(None, help="STIX: name of the exporting identity."),
    include_disabled: bool = typer.Option(
        False, "--include-disabled", help="Also write disabled entries."
    ),
) -> None:
    """Export a list's entries to a file."""
    from cosea.media.lists import export_file

    chosen = format_name or _SUFFIX_FORMATS.get(out.suffix.lower())
    if chosen is None:
        raise InputError(out, "cannot tell the format from the name: give --format")
    count = export_file(
        _store(),
        name,
        out,
        chosen,
        signal=signal,
        tlp=tlp,
        source=source,
        include_disabled=include_disabled,
    )
    console.print(f"Wrote {count:,} entries of [bold]{name}[/] to {out} ({chosen}).")


@app.command("show")
def show_command(name: str = typer.Argument(..., help="List to show.")) -> None:
    """Counts by signal, category and state, and the list's digest."""
    from cosea.media.lists import get_scheme

    store = _store()
    info = store.get_list(name)
    stats = store.stats(name)
    scheme = get_scheme(info.category_scheme)
    console.print(
        f"[bold]{info.name}[/] — {info.kind}, scheme {info.category_scheme}, "
        f"{'enabled' if info.enabled else '[red]disabled[/]'}, created {info.created_at:%Y-%m-%d}"
    )
    if info.description:
        console.print(info.description, highlight=False)
    if info.source:
        console.print(f"source: {info.source}", highlight=False)
    signals = Table(title="Entries by signal")
    signals.add_column("signal")
    signals.add_column("enabled", justify="right")
    signals.add_column("disabled", justify="right")
    for signal, counts in stats["by_signal"].items():
        signals.add_row(signal, f"{counts['enabled']:,}", f"{counts['disabled']:,}")
    signals.add_row("[bold]total", f"{stats['enabled']:,}", f"{stats['disabled']:,}")
    console.print(signals)
    categories = Table(title="Enabled entries by category")
    categories.add_column("category")
    categories.add_column("label")
    categories.add_column("entries", justify="right")
    labels = {c.code: c.label for c in scheme.categories}
    for category, count in stats["by_category"].items():
        categories.add_row(category, labels.get(category, ""), f"{count:,}")
    console.print(categories)
    console.print(f"digest (sha256 of enabled entries): {store.list_digest(name)}")


@app.command("list")
def list_command() -> None:
    """All lists with their entry counts."""
    store = _store()
    counts = store.entry_counts()
    table = Table(title="Hash lists")
    for column in ("name", "kind", "scheme", "enabled entries", "all entries", "state", "source"):
        table.add_column(column, justify="right" if "entries" in column else "left")
    for info in store.lists():
        enabled, total = counts.get(info.name, (0, 0))
        table.add_row(
            info.name,
            info.kind,
            info.category_scheme,
            f"{enabled:,}",
            f"{total:,}",
            "enabled" if info.enabled else "[red]disabled[/]",
            info.source or "",
        )
    console.print(table)


def _targets(hashes: list[str] | None, file: Path | None) -> list[str | int]:
    targets: list[str | int] = []
    for value in hashes or []:
        targets.append(int(value[1:]) if value.startswith("#") and value[1:].isdigit() else value)
    if file is not None:
        if not file.is_file():
            raise InputError(file, "no such file")
        with file.open(encoding="utf-8-sig") as handle:
            for line in handle:
                text = line.split("#", 1)[0].strip()
                if text:
                    targets.append(text)
    return targets


def _switch(name: str, hashes: list[str] | None, file: Path | None, enabled: bool) -> None:
    store = _store()
    verb = "Enabled" if enabled else "Disabled"
    targets = _targets(hashes, file)
    if not targets and (hashes or file):
        raise CoseaError("no hashes given")
    if not targets:
        changed = store.enable_list(name) if enabled else store.disable_list(name)
        console.print(f"{verb} list [bold]{name}[/] ({changed:,} entries).")
        return
    if enabled:
        changed = store.enable_entries(name, targets)
    else:
        changed = store.disable_entries(name, targets)
    console.print(f"{verb} {changed:,} of {len(targets):,} named entries in [bold]{name}[/].")


@app.command("disable")
def disable_command(
    name: str = typer.Argument(..., help="List."),
    hashes: list[str] | None = typer.Option(
        None, "--hash", help="Hash (or #ID) to disable; repeatable. None: the whole list."
    ),
    file: Path | None = typer.Option(None, "--file", help="File of hashes, one a line."),
) -> None:
    """Disable entries (by hash, id or file) or the whole list; matching stops using them."""
    _switch(name, hashes, file, enabled=False)


@app.command("enable")
def enable_command(
    name: str = typer.Argument(..., help="List."),
    hashes: list[str] | None = typer.Option(
        None, "--hash", help="Hash (or #ID) to enable; repeatable. None: the whole list."
    ),
    file: Path | None = typer.Option(None, "--file", help="File of hashes, one a line."),
) -> None:
    """Enable entries (by hash, id or file) or the whole list again."""
    _switch(name, hashes, file, enabled=True)


@app.command("delete")
def delete_command(
    name: str = typer.Argument(..., help="List to delete with all its entries."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a list and its entries (asks first)."""
    store = _store()
    counts = store.entry_counts()
    store.get_list(name)
    total = counts.get(name, (0, 0))[1]
    if not yes and not typer.confirm(f"Delete list {name!r} and its {total:,} entries?"):
        raise typer.Exit(1)
    removed = store.delete_list(name)
    console.print(f"Deleted list [bold]{name}[/] ({removed:,} entries).")


@app.command("schemes")
def schemes_command(name: str | None = typer.Argument(None, help="Scheme to show.")) -> None:
    """Category schemes and their categories."""
    from cosea.media.lists import get_scheme, scheme_names

    for scheme_name in [name] if name else scheme_names():
        scheme = get_scheme(scheme_name)
        table = Table(title=f"{scheme.name}: {scheme.title}")
        table.add_column("code")
        table.add_column("label")
        table.add_column("description")
        table.add_column("maps to")
        for category in scheme.categories:
            maps = ", ".join(f"{k}:{v}" for k, v in sorted(category.maps_to.items()))
            table.add_row(category.code, category.label, category.description, maps)
        console.print(table)
