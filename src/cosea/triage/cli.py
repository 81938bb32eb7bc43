"""``cosea triage``: scan seized media into a case, verify it, view a file, report on it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from cosea.errors import InputError

app = typer.Typer(no_args_is_help=True)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``512M``, ``32G``, ``1.5GiB``, ``1000`` → bytes (K/M/G/T are powers of 1024)."""
    match = _SIZE.match(text)
    if not match:
        raise InputError(None, f"not a size: {text!r} (examples: 512M, 32G)")
    number = float(match.group(1))
    unit = (match.group(2) or "").lower().rstrip("b").rstrip("i")
    factor = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit]
    return int(number * factor)


def _cases_dir_option() -> Path | None:
    return typer.Option(
        None, "--cases-dir", help="Folder holding cases [default: COSEA_HOME/cases]."
    )


@app.command("scan")
def scan_command(
    sources: list[Path] = typer.Argument(..., help="Folders and archives (zip, tar*, 7z) to scan."),
    case: str = typer.Option(..., "--case", help="Case name (created if new, resumed if not)."),
    lists: str = typer.Option("", "--lists", help="Hash lists to match against, comma-separated."),
    known_files: str | None = typer.Option(
        None, "--known-files", help="An NSRL RDSv3 SQLite file, or the name of a known-files list."
    ),
    examiner: str | None = typer.Option(None, "--examiner", help="Who runs the scan (custody)."),
    workers: int = typer.Option(0, "--workers", help="Worker processes [default: all cores]."),
    cases_dir: Path | None = _cases_dir_option(),
    crypto_only: bool = typer.Option(
        False, "--crypto-only", help="Only MD5/SHA-1/SHA-256 and type: no PDQ, EXIF or chats."
    ),
    no_archives: bool = typer.Option(False, "--no-archives", help="Hash archives, do not open."),
    robust: bool = typer.Option(
        False, "--robust", help="Robust PDQ matching (mirrored, cropped, rotated copies)."
    ),
    max_depth: int = typer.Option(8, help="Deepest archive nesting opened."),
    max_ratio: float = typer.Option(
        200.0, help="Largest compression ratio before a bomb is called."
    ),
    max_archive_size: str = typer.Option(
        "32G", help="Most bytes decompressed from one archive (nested included)."
    ),
    max_member_memory: str = typer.Option(
        "512M", help="Largest member held in memory (nested archives, pictures, chats)."
    ),
    cluster_threshold: int = typer.Option(31, help="PDQ distance for near-duplicate clusters."),
    commit_seconds: float = typer.Option(
        1.0, help="Commit at least this often: the most work a crash or kill can lose."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        envvar="COSEA_DASK_SCHEDULER",
        help="Dask scheduler address (or local[:N]): analyse on that cluster (sources on a "
        "file system every worker mounts); s3:// sources are fetched into the case first.",
    ),
) -> None:
    """Scan folders and archives into a case: hashes, types, PDQ, EXIF, matches, chats.

    Killed or interrupted, the same command resumes where it stopped; run again later,
    it reads only files that changed.
    """
    from cosea.scale import wants_cluster
    from cosea.triage.analyze import AnalysisSettings
    from cosea.triage.archives import Limits
    from cosea.triage.scanner import ScanOptions, default_workers, scan

    limits = Limits(
        max_depth=max_depth,
        max_ratio=max_ratio,
        max_archive_bytes=parse_size(max_archive_size),
        max_buffer=parse_size(max_member_memory),
    )
    analysis = AnalysisSettings(
        pdq=not crypto_only,
        exif=not crypto_only,
        vpdq=not crypto_only,
        chats=not crypto_only,
        open_archives=not no_archives,
        robust=robust and not crypto_only,
        limits=limits,
    )
    options = ScanOptions(
        case=case,
        sources=sources,
        lists=[name.strip() for name in lists.split(",") if name.strip()],
        known_files=known_files,
        examiner=examiner,
        workers=workers or default_workers(),
        cases_dir=cases_dir,
        analysis=analysis,
        cluster_threshold=cluster_threshold,
        commit_seconds=commit_seconds,
    )
    console = Console(stderr=True)
    try:
        if wants_cluster(scheduler, sources):
            from cosea.scale.commands import triage_scan

            summary = triage_scan(options, scheduler, console, not quiet and not as_json)
        else:
            summary = scan(options, console=console, progress=not quiet and not as_json)
    except KeyboardInterrupt:
        console.print(
            "[yellow]interrupted[/]: what was stored is kept; run the same command to resume"
        )
        raise typer.Exit(130) from None
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    _print_summary(Console(), summary)


def _print_summary(console: Console, summary: object) -> None:
    from rich.table import Table

    data = summary.to_dict()  # type: ignore[attr-defined]
    totals = data["totals"]
    table = Table(title=f"case {data['case']} — scan {data['scan_id']}", show_header=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("stored this run", f"{data['stored']:,}"),
        ("unchanged, skipped", f"{data['skipped']:,}"),
        ("speed", f"{data['files_per_second']:,.0f} files/s, {data['mb_per_second']:,.1f} MB/s"),
        ("files in the case", f"{totals['files']:,} ({totals['in_archives']:,} in archives)"),
        ("known files set aside", f"{totals['known']:,}"),
        ("files matching a list", f"{totals['matched_files']:,}"),
        ("near-duplicate clusters", f"{totals['clusters']:,}"),
        ("chat alerts", f"{totals['chat_alerts']:,} of {totals['chat_conversations']:,}"),
        ("extension mismatches", f"{totals['ext_mismatch']:,}"),
        ("errors recorded", f"{totals['errors']:,}"),
        ("custody head", data["custody_head"][:32] + "…"),
    ]
    if data["resumed_scans"]:
        rows.insert(0, ("resumed interrupted scan(s)", ", ".join(map(str, data["resumed_scans"]))))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"case database: {escape(data['case_path'])}", soft_wrap=True)


@app.command("verify")
def verify_command(
    case: str = typer.Argument(..., help="Case name, folder or case.db."),
    cases_dir: Path | None = _cases_dir_option(),
    examiner: str | None = typer.Option(None, "--examiner"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Re-hash the sources and check the custody chain; exit 1 on any difference."""
    from cosea.triage.case import Case
    from cosea.triage.verify import verify_case

    with Case.open(case, cases_dir) as opened:
        result = verify_case(opened, examiner=examiner)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        console = Console()
        chain = result.chain
        state = "[green]intact[/]" if chain.intact else "[red]BROKEN[/]"
        console.print(f"custody log: {state}, {chain.entries} entries")
        console.print(f"  head {chain.head}", soft_wrap=True)
        for problem in chain.problems:
            console.print(f"  [red]✗[/] {escape(problem)}", soft_wrap=True)
        for source in result.sources:
            mark = "[green]✓[/]" if source.ok else "[red]✗[/]"
            console.print(f"{mark} {source.kind} {escape(source.path)}", soft_wrap=True)
            console.print(f"  SHA-256 {source.current or '-'}", soft_wrap=True)
            for difference in source.differences:
                console.print(f"  [red]{escape(difference)}[/]", soft_wrap=True)
        console.print(
            "[green]verified: evidence and custody log unchanged[/]"
            if result.ok
            else "[red]verification FAILED[/]"
        )
    if not result.ok:
        raise typer.Exit(1)


@app.command("report")
def report_command(
    case: str = typer.Argument(..., help="Case name, folder or case.db."),
    fmt: str = typer.Option("html", "--format", help="html, pdf, json or vics."),
    out: Path = typer.Option(..., "--out", help="File to write."),
    thumbnails: bool = typer.Option(
        False, "--thumbnails", help="Include blurred greyscale thumbnails (HTML: reveal on click)."
    ),
    max_thumbnails: int = typer.Option(200, help="Most thumbnails in one report."),
    examiner: str | None = typer.Option(None, "--examiner"),
    country: str | None = typer.Option(
        None,
        "--country",
        help="ISO country code choosing where the playbooks say to report "
        "(default: the report policy's country, else international bodies only).",
    ),
    cases_dir: Path | None = _cases_dir_option(),
) -> None:
    """Write the case report (the export is recorded in the chain of custody)."""
    from cosea.triage.case import Case
    from cosea.triage.reports import export_report

    with Case.open(case, cases_dir) as opened:
        record = export_report(
            opened,
            fmt,
            out,
            thumbnails=thumbnails,
            examiner=examiner,
            max_thumbnails=max_thumbnails,
            country=country,
        )
    Console(stderr=True).print(
        f"wrote {fmt} report {escape(str(out))} ({record['bytes']:,} bytes, "
        f"SHA-256 {record['sha256']})",
        soft_wrap=True,
    )


@app.command("view")
def view_command(
    case: str = typer.Argument(..., help="Case name, folder or case.db."),
    file_id: int = typer.Argument(..., help="File id (from a report)."),
    thumbnail: Path | None = typer.Option(
        None, "--thumbnail", help="Also write a blurred greyscale thumbnail (PNG) here."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why you look (recorded)."),
    examiner: str | None = typer.Option(None, "--examiner"),
    cases_dir: Path | None = _cases_dir_option(),
) -> None:
    """Show one file's metadata (never its content); the view is recorded in custody."""
    from cosea.triage.case import Case
    from cosea.triage.viewing import view_file

    with Case.open(case, cases_dir) as opened:
        facts = view_file(opened, file_id, examiner=examiner, thumbnail=thumbnail, reason=reason)
    typer.echo(json.dumps(facts, indent=2, sort_keys=True, default=str, ensure_ascii=False))


@app.command("show")
def show_command(
    case: str = typer.Argument(..., help="Case name, folder or case.db."),
    cases_dir: Path | None = _cases_dir_option(),
) -> None:
    """The case's totals and its scans."""
    from rich.table import Table

    from cosea.triage.case import Case
    from cosea.triage.scanner import case_totals

    with Case.open(case, cases_dir) as opened:
        totals = case_totals(opened)
        scans = list(opened.conn.execute("SELECT id, started_at, ended_at, status FROM scans"))
        name, path = opened.name, opened.db_path
    console = Console()
    table = Table(title=f"case {name}", show_header=False)
    for key, value in totals.items():
        table.add_row(key.replace("_", " "), f"{value:,}")
    console.print(table)
    for scan_id, started, ended, status in scans:
        console.print(f"scan {scan_id}: {status}, {started} → {ended or '…'}")
    console.print(f"case database: {escape(str(path))}", soft_wrap=True)


@app.command("demo-folder")
def demo_folder_command(
    out: Path = typer.Argument(..., help="Folder to create."),
    make_lists: bool = typer.Option(
        True, "--lists/--no-lists", help="Also create the demo hash list and known-files list."
    ),
) -> None:
    """Generate a benign demo folder (pictures with EXIF, copies, archives, chats, a bad file)."""
    from cosea.triage.demo import build_demo_lists, demo_folder

    info = demo_folder(out)
    console = Console(stderr=True)
    console.print(f"demo folder: {escape(info['folder'])}", soft_wrap=True)
    if make_lists:
        lists = build_demo_lists(info)
        console.print(
            f"hash list {lists['list']!r} ({lists['entries']} entries), known-files list "
            f"{lists['known_list']!r}"
        )
        console.print(
            f"next: cosea triage scan {out} --case demo --lists {lists['list']} "
            f"--known-files {lists['known_list']}"
        )


if __name__ == "__main__":  # pragma: no cover
    app(sys.argv[1:])
