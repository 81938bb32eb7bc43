"""``cosea media``: hash files and match them against hash lists.

A thin layer over :mod:`cosea.media.hashing` and :mod:`cosea.media.match`. Output
is JSON lines (one object per file); progress and summaries go to stderr. The
commands never display or open a picture for a person: only hashes leave them.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from cosea.errors import InputError
from cosea.media.lists.cli import app as lists_app

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.progress import Task

media_app = typer.Typer(no_args_is_help=True, help="Hash media files and match them against lists.")
index_app = typer.Typer(no_args_is_help=True, help="The saved match indexes of hash lists.")
media_app.add_typer(index_app, name="index")
console = Console(stderr=True)

__all__ = ["lists_app", "media_app"]


class _FilesPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} files/s" if speed else "- files/s", style="progress.data.speed")


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _FilesPerSecond(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@contextmanager
def _output(out: Path | None) -> Iterator[TextIO]:
    if out is None or str(out) == "-":
        yield sys.stdout
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        yield handle


@contextmanager
def _pool(workers: int | None, files: int) -> Iterator[Any]:
    """Worker processes, started before the progress bar's thread; none for small jobs."""
    import os

    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or files < 4 * count:
        yield None
        return
    from cosea.media.hashing import process_pool

    with process_pool(count) as pool:
        yield pool


def _signals(text: str) -> tuple[str, ...]:
    from cosea.media.hashing import normalise_signals

    try:
        return normalise_signals(text)
    except (KeyError, ValueError) as error:
        raise InputError("--signals", str(error).strip("\"'")) from None


def _files(paths: list[Path]) -> list[Path]:
    from cosea.media.hashing import iter_files

    missing = [p for p in paths if not p.exists()]
    if missing:
        raise InputError(missing[0], "no such file or folder")
    return list(iter_files(paths))


_SCHEDULER_HELP = (
    "Dask scheduler address (or local[:N]): run on that cluster, results also in the "
    "database. Inputs may be s3:// or file:// URLs."
)


@media_app.command("hash")
def hash_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders (recursive)."),
    signals: str = typer.Option(
        "md5,sha1,sha256,pdq", "--signals", "-s", help="Comma-separated signal types."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="JSON lines output (default: stdout)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Processes (default: one per core)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", envvar="COSEA_DASK_SCHEDULER", help=_SCHEDULER_HELP
    ),
) -> None:
    """Hash every file: exact digests, PDQ for pictures, vPDQ for videos (with ffmpeg)."""
    from cosea.media.hashing import hash_paths
    from cosea.scale import wants_cluster

    chosen = _signals(signals)
    if wants_cluster(scheduler, paths):
        from cosea.scale.commands import media_hash

        return media_hash(paths, chosen, out, scheduler)
    files = _files(paths)
    kinds: Counter[str] = Counter()
    errors = low_quality = 0
    started = time.perf_counter()
    with _pool(workers, len(files)) as pool, _output(out) as handle, _progress() as progress:
        task = progress.add_task("hashing", total=len(files))
        for hashes in hash_paths(files, chosen, workers=1, pool=pool):
            handle.write(json.dumps(hashes.to_dict()) + "\n")
            kinds[hashes.kind or "other"] += 1
            errors += hashes.error is not None
            low_quality += hashes.pdq_low_quality
            progress.advance(task)
    elapsed = time.perf_counter() - started
    table = Table(title="cosea media hash", show_header=False)
    table.add_row("files", f"{len(files):,}")
    for kind, count in sorted(kinds.items()):
        table.add_row(f"  {kind}", f"{count:,}")
    table.add_row("low-quality PDQ (kept, not matched)", f"{low_quality:,}")
    table.add_row("errors (recorded in the output)", f"{errors:,}")
    table.add_row("time", f"{elapsed:.1f} s ({len(files) / max(elapsed, 1e-9):,.1f} files/s)")
    if out is not None and str(out) != "-":
        table.add_row("written to", str(out))
    console.print(table)


@media_app.command("match")
def match_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders (recursive)."),
    lists: list[str] = typer.Option(
        ..., "--list", "-l", help="Hash list to match against (repeat for several)."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="JSON lines output (default: stdout)."
    ),
    robust: bool = typer.Option(
        False, "--robust", help="Also find mirrored, rotated and cropped copies."
    ),
    threshold: int = typer.Option(
        31, "--threshold", "-t", min=0, max=255, help="Largest PDQ distance that matches."
    ),
    match_low_quality: bool = typer.Option(
        False, "--match-low-quality", help="Match PDQ hashes of quality below 50 too."
    ),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1, help="Processes (default: one per core)."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", envvar="COSEA_DASK_SCHEDULER", help=_SCHEDULER_HELP
    ),
) -> None:
    """Match files against hash lists; one JSON object per file, pictures never shown."""
    from cosea.media.match import Matcher, match_record
    from cosea.scale import wants_cluster

    if wants_cluster(scheduler, paths):
        from cosea.scale.commands import media_match

        options = {"robust": robust, "threshold": threshold, "match_low_quality": match_low_quality}
        return media_match(paths, lists, out, scheduler, **options)
    files = _files(paths)
    matcher = Matcher.for_lists(
        lists, robust=robust, threshold=threshold, match_low_quality=match_low_quality
    )
    for report in matcher.reports:
        how = "built" if report.built else f"+{report.added} -{report.disabled} since last use"
        console.print(
            f"list [bold]{report.list_name}[/]: {report.entries:,} entries in the index ({how})",
            highlight=False,
        )
    matched_files = errors = 0
    by_list: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    with _pool(workers, len(files)) as pool, _output(out) as handle, _progress() as progress:
        task = progress.add_task("matching", total=len(files))
        for hashes, matches in matcher.match_paths(files, workers=1, pool=pool):
            handle.write(json.dumps(match_record(hashes, matches)) + "\n")
            matched_files += bool(matches)
            errors += hashes.error is not None
            for match in matches:
                by_list[match.list_name] += 1
                by_category[match.category or "-"] += 1
            progress.advance(task)
    table = Table(title="cosea media match", show_header=False)
    table.add_row("files", f"{len(files):,}")
    table.add_row("files with a match", f"{matched_files:,}")
    for name, count in sorted(by_list.items()):
        table.add_row(f"  matches in {name}", f"{count:,}")
    for category, count in sorted(by_category.items()):
        table.add_row(f"  category {category}", f"{count:,}")
    table.add_row("errors (recorded in the output)", f"{errors:,}")
    table.add_row("mode", "robust" if robust else f"default (PDQ distance <= {threshold})")
    if out is not None and str(out) != "-":
        table.add_row("written to", str(out))
    console.print(table)


@media_app.command("signals")
def signals_command() -> None:
    """The signal types this installation can compute and match."""
    from cosea.media.signals import get_signal, signal_names
    from cosea.media.signals.vpdq import ffmpeg_path

    table = Table(title="signal types")
    for column in ("name", "applies to", "kind", "default threshold", "available"):
        table.add_column(column)
    for name in signal_names():
        signal = get_signal(name)
        available = "yes"
        if name == "vpdq" and ffmpeg_path() is None:
            available = "no: needs the ffmpeg program"
        table.add_row(
            name,
            signal.applies_to,
            "exact" if signal.exact else "distance",
            str(signal.default_threshold),
            available,
        )
    Console().print(table)


def _list_names(lists: list[str] | None) -> list[str]:
    from cosea.media.lists import ListStore

    if lists:
        return lists
    return [info.name for info in ListStore().lists()]


@index_app.command("rebuild")
def index_rebuild_command(
    lists: list[str] | None = typer.Option(
        None, "--list", "-l", help="List to rebuild (default: every list)."
    ),
) -> None:
    """Rebuild the saved match index of lists from the store."""
    from cosea.media.lists import ListStore
    from cosea.media.match import open_list_index

    store = ListStore()
    for name in _list_names(lists):
        started = time.perf_counter()
        index, report = open_list_index(store, name, rebuild=True)
        console.print(
            f"{name}: {report.entries:,} entries, PDQ {index.pdq.strategy}, "
            f"{time.perf_counter() - started:.1f} s -> {report.folder}",
            highlight=False,
        )


@index_app.command("info")
def index_info_command(
    lists: list[str] | None = typer.Option(
        None, "--list", "-l", help="List to describe (default: every list)."
    ),
    sync: bool = typer.Option(True, help="Catch up with the store's changes first."),
) -> None:
    """Entries, PDQ strategy, change sequence and size of each list's saved index."""
    from cosea.media.lists import ListStore
    from cosea.media.match import MatchIndex, index_folder, open_list_index

    store = ListStore()
    table = Table(title="match indexes")
    for column in ("list", "entries", "by signal", "PDQ search", "synced seq", "on disk"):
        table.add_column(column)
    for name in _list_names(lists):
        if sync:
            index, report = open_list_index(store, name)
            folder = report.folder
        else:
            folder = index_folder(name, str(store.engine.url))
            try:
                index = MatchIndex.load(folder)
            except FileNotFoundError:
                table.add_row(name, "-", "-", "-", "-", "not built")
                continue
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder else 0
        counts = ", ".join(f"{k} {v:,}" for k, v in index.counts().items()) or "-"
        table.add_row(
            name,
            f"{len(index):,}",
            counts,
            index.pdq.strategy,
            str(index.synced_seq),
            f"{size / 1e6:,.1f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB",
        )
    Console().print(table)
