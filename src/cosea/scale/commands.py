"""What ``--scheduler`` (or a URL input) turns the capability commands into.

``cosea chats analyze``, ``cosea media hash|match`` and ``cosea triage scan`` parse
their options as always and hand over here when a Dask scheduler is named (by
``--scheduler`` or ``COSEA_DASK_SCHEDULER``) or an input is a URL; without either
they run locally exactly as before. URL inputs without a scheduler run on a local
cluster of one worker process per core.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cosea.scale.cluster import scheduler_address


def _scheduler(option: str | None) -> str:
    return scheduler_address(option) or "local"


def _redacted(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _run_rows(table: Table, run: Any) -> None:
    table.add_row("run id", run.run_id)
    table.add_row("cluster", f"{run.scheduler} ({run.workers} workers)")
    table.add_row("results in", _redacted(run.database_url))


def _size(count: int) -> str:
    return f"{count / 1e6:,.1f} MB" if count >= 1e6 else f"{count / 1e3:,.1f} kB"


def _run_line(run: Any) -> str:
    return (
        f"run {run.run_id} on {run.scheduler} ({run.workers} workers); "
        f"results in {_redacted(run.database_url)}"
    )


def chats_analyze(
    files: Sequence[str | Path],
    out: str | Path,
    scheduler: str | None,
    reader: str | None,
    options: dict[str, Any],
    strict: bool,
    model: Path | None,
    top: int,
) -> None:
    """``cosea chats analyze`` on a cluster: predictions in the database and in ``out``."""
    from cosea.scale.chats import analyze_chats
    from cosea.scale.results import top_flagged

    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]analysing on the cluster[/]"),
        BarColumn(),
        TextColumn("{task.fields[conversations]} conversations · {task.fields[messages]} messages"),
        TextColumn("· [red]{task.fields[alerts]} alerts[/]"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task("analyse", total=None, conversations=0, messages=0, alerts=0)

        def update(run: Any) -> None:
            progress.update(
                task, conversations=run.conversations, messages=run.messages, alerts=run.alerts
            )

        run = analyze_chats(
            files,
            scheduler=_scheduler(scheduler),
            out=out,
            reader=reader,
            strict=strict,
            options=options,
            model=model,
            on_progress=update,
        )
    report = run.report
    for error in report.errors[:20]:
        console.print(f"[yellow]skipped:[/] {escape(str(error))}", highlight=False)
    if len(report.errors) > 20:
        console.print(f"[yellow]... and {len(report.errors) - 20} more skipped record(s)[/]")
    alerts = top_flagged(run.database_url, run.run_id, top) if top > 0 else []
    if alerts:
        from cosea.chats.cli import alerts_table

        rows = [
            (row["item"], row["class"], row["score"], row["suspect"], row["alert_message"],
             row["stage"], row["reasons"])
            for row in alerts
        ]  # fmt: skip
        console.print(alerts_table(rows, run.alerts, run.conversations))
    for note in run.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    console.print(
        f"{report.summary()}; {run.alerts} alert(s); wrote {run.out_lines} prediction(s) to "
        f"{run.out} ({run.messages_per_second:,.0f} messages/s)",
        highlight=False,
    )
    console.print(_run_line(run), highlight=False, soft_wrap=True)


def _media_progress(console: Console, description: str) -> Progress:
    return Progress(
        TextColumn(f"[progress.description]{description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _print_lines(run: Any) -> None:
    from cosea.scale.results import iter_results

    for _, _, payload in iter_results(run.database_url, run.run_id):
        sys.stdout.write(payload + "\n")


def media_hash(
    paths: Sequence[str | Path], signals: Sequence[str], out: Path | None, scheduler: str | None
) -> None:
    """``cosea media hash`` on a cluster."""
    from cosea.scale.media import hash_media

    console = Console(stderr=True)
    with _media_progress(console, "hashing on the cluster") as progress:
        task = progress.add_task("hash", total=None)

        def update(run: Any) -> None:
            progress.update(task, total=run.files, completed=run.done)

        run = hash_media(
            paths, scheduler=_scheduler(scheduler), signals=signals, out=out, on_progress=update
        )
    if out is None or str(out) == "-":
        _print_lines(run)
    table = Table(title="cosea media hash (distributed)", show_header=False)
    table.add_row("files", f"{run.files:,}")
    for kind, count in sorted(run.kinds.items()):
        table.add_row(f"  {kind}", f"{count:,}")
    table.add_row("low-quality PDQ (kept, not matched)", f"{run.low_quality:,}")
    table.add_row("errors (recorded in the output)", f"{run.errors:,}")
    table.add_row("time", f"{run.seconds:.1f} s ({run.files_per_second:,.1f} files/s)")
    if run.out:
        table.add_row("written to", run.out)
    _run_rows(table, run)
    console.print(table)


def media_match(
    paths: Sequence[str | Path],
    lists: Sequence[str],
    out: Path | None,
    scheduler: str | None,
    *,
    robust: bool,
    threshold: int,
    match_low_quality: bool,
) -> None:
    """``cosea media match`` on a cluster; each list's index reaches each worker once."""
    from cosea.media.match import Matcher
    from cosea.scale.media import match_media

    console = Console(stderr=True)
    matcher = Matcher.for_lists(
        list(lists), robust=robust, threshold=threshold, match_low_quality=match_low_quality
    )
    for report in matcher.reports:
        how = "built" if report.built else f"+{report.added} -{report.disabled} since last use"
        console.print(
            f"list [bold]{escape(report.list_name)}[/]: {report.entries:,} entries in the index "
            f"({how})",
            highlight=False,
        )
    with _media_progress(console, "matching on the cluster") as progress:
        task = progress.add_task("match", total=None)

        def update(run: Any) -> None:
            progress.update(task, total=run.files, completed=run.done)

        run = match_media(
            paths,
            lists=lists,
            scheduler=_scheduler(scheduler),
            matcher=matcher,
            out=out,
            on_progress=update,
        )
    if out is None or str(out) == "-":
        _print_lines(run)
    table = Table(title="cosea media match (distributed)", show_header=False)
    table.add_row("files", f"{run.files:,}")
    table.add_row("files with a match", f"{run.matched_files:,}")
    for name, count in sorted(run.by_list.items()):
        table.add_row(f"  matches in {name}", f"{count:,}")
    for category, count in sorted(run.by_category.items()):
        table.add_row(f"  category {category}", f"{count:,}")
    table.add_row("errors (recorded in the output)", f"{run.errors:,}")
    table.add_row("mode", "robust" if robust else f"default (PDQ distance <= {threshold})")
    table.add_row("index broadcast", f"{_size(run.index_bytes)}, once per worker")
    if run.out:
        table.add_row("written to", run.out)
    _run_rows(table, run)
    console.print(table)


def triage_scan(options: Any, scheduler: str | None, console: Any, progress: bool) -> Any:
    """``cosea triage scan`` with its analysing processes on a cluster; the scan summary."""
    from cosea.scale.triage import scan_on_cluster

    return scan_on_cluster(options, _scheduler(scheduler), console=console, progress=progress)
