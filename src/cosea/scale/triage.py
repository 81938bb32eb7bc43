"""Triage scans on a Dask cluster: the case stays one SQLite file, the reading spreads out.

``cosea triage scan`` plans the scan (walks the sources in path order, skips
unchanged files, cuts the rest into batches of neighbouring paths; an archive is a
batch of its own, its members — nested archives too — read by one worker), and its
writer stores every record in the case in transactions, with the chain of custody.
All of that stays exactly as in a local scan. Only the analysing processes change:
the scan is given a runner (``scanner.scan(..., runner=dask_runner(client))``) that
sends the batches to Dask workers instead of a local process pool, each task returns
the messages of its batch, and the writer stores them as they arrive. Lists and known
files are matched in the writer, where the case's matcher is loaded once.

A worker lost mid-batch costs nothing: Dask runs the batch again elsewhere and the
writer receives its messages once (and records are keyed by logical path anyway, so
even a re-sent record would update, not duplicate). A batch that kills its workers
again and again is split into single files; a file that still does is recorded as
an error, as a local scan records a crashed worker.

The sources must be readable by every worker at the same path (a shared or network
file system); sources on object storage are fetched into the case folder first, and
the fetch is recorded in the chain of custody.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosea.errors import CoseaError
from cosea.scale import cluster, inputs

if TYPE_CHECKING:
    from cosea.triage.scanner import ScanRunner, ScanWriter

_worker_scope: Any = None


def analyse_batch(items: list[Any], settings: Any) -> tuple[list[tuple[Any, ...]], float]:
    """Task: analyse a batch of files on a worker; the writer's messages come back
    (with the CPU time they took)."""
    from cosea.triage.adapters import media_scope
    from cosea.triage.analyze import Analyzer

    global _worker_scope
    cluster.tune_worker_process()
    cpu_started = time.process_time()
    if _worker_scope is None:
        # As the scanner's own workers do: one BLAS thread, set up once per process.
        _worker_scope = media_scope()
        _worker_scope.__enter__()
    messages: list[tuple[Any, ...]] = []
    analyzer = Analyzer(settings, messages.append)
    for item in items:
        analyzer.disk_file(item)
    return messages, time.process_time() - cpu_started


def dask_runner(client: Any, stats: dict[str, float] | None = None) -> ScanRunner:
    """A scan runner (``scanner.scan(..., runner=...)``) that analyses the batches on the
    workers of ``client`` (a ``distributed.Client``).

    ``stats``, when given, receives the workers' CPU seconds (``cpu_seconds``).
    """
    totals = stats if stats is not None else {}

    def run(batches: Iterator[list[Any]], writer: ScanWriter, options: Any) -> None:
        _run_on_dask(client, totals, batches, writer, options)

    return run


def _run_on_dask(
    client: Any, stats: dict[str, float], batches: Iterator[list[Any]], writer: Any, options: Any
) -> None:
    """The scan's batches on the cluster, their messages to the scan's writer."""
    from distributed import KilledWorker, as_completed

    token = uuid.uuid4().hex[:12]
    numbers = itertools.count()
    settings = client.scatter([options.analysis], broadcast=True)[0]
    # Two batches in flight per worker (at least four), so none waits for work.
    limit = 2 * max(2, options.workers)
    inflight: dict[Any, tuple[list[Any], int]] = {}
    completed = as_completed()
    retry: list[tuple[list[Any], int]] = []

    def submit(items: list[Any], attempt: int) -> None:
        future = client.submit(
            analyse_batch,
            items,
            settings,
            key=f"cosea-triage-{token}-{next(numbers)}",
            pure=False,
        )
        inflight[future] = (items, attempt)
        completed.add(future)

    def refill() -> None:
        while len(inflight) < limit:
            if retry:
                submit(*retry.pop(0))
                continue
            batch = next(batches, None)
            if batch is None:
                return
            submit(batch, 0)

    refill()
    try:
        for future in completed:
            items, attempt = inflight.pop(future)
            try:
                messages, cpu = future.result()
                stats["cpu_seconds"] = stats.get("cpu_seconds", 0.0) + cpu
            except KilledWorker:
                if attempt == 0:
                    retry.extend(([item], 1) for item in items)
                else:
                    for item in items:
                        writer.error(
                            item.path,
                            "worker-crashed",
                            "the analysing worker died while reading this file (each time "
                            "it was tried); it was not analysed",
                        )
                messages = []
            for start in range(0, len(messages), 256):  # the local pool's slice size
                writer.handle_batch(messages[start : start + 256])
            writer.maybe_commit()
            if writer.on_progress is not None:
                writer.on_progress()
            refill()
    except BaseException:
        for future in inflight:
            future.cancel()
        raise


def _object_manifest(files: list[inputs.InputFile]) -> str:
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.location):
        digest.update(f"{file.location}\t{file.size}\n".encode())
    return digest.hexdigest()


def fetch_sources(options: Any, examiner: str | None) -> Any:
    """Object-storage sources copied into the case folder; the copy goes in the custody log."""
    from cosea.triage import custody
    from cosea.triage.case import Case

    sources: list[Path] = []
    remote = [inputs.restore_url(s) for s in options.sources if inputs.is_remote(s)]
    if not remote:
        return replace(options, sources=[Path(inputs.local_path(s)) for s in options.sources])
    case = Case.create_or_open(options.case, options.cases_dir)
    try:
        fetched_root = case.db_path.parent / "fetched"
        for raw in options.sources:
            url = inputs.restore_url(raw)
            if not inputs.is_remote(url):
                sources.append(Path(inputs.local_path(url)))
                continue
            files = inputs.expand_remote(url)
            scheme, rest = url.split("://", 1)
            target = fetched_root / scheme / rest.strip("/")
            prefix = url.rstrip("/")
            for file in files:
                relative = file.location[len(prefix) :].lstrip("/")
                destination = target / relative if relative else target
                destination.parent.mkdir(parents=True, exist_ok=True)
                if destination.exists() and destination.stat().st_size == file.size:
                    continue  # fetched by an earlier, interrupted run
                with inputs.open_input(file.location) as source, destination.open("wb") as sink:
                    while block := source.read(8 << 20):
                        sink.write(block)
            local = target
            if case.count("SELECT COUNT(*) FROM custody") == 0:
                custody.append(case, "case-created", {"case": case.name}, examiner)
            custody.append(
                case,
                "source-fetched",
                {
                    "url": url,
                    "local_path": str(local),
                    "objects": len(files),
                    "bytes": sum(f.size or 0 for f in files),
                    "listing_sha256": _object_manifest(files),
                    "method": "fsspec copy; the local copy is hashed as the scan's source",
                },
                examiner,
            )
            sources.append(local)
    finally:
        case.close()
    return replace(options, sources=sources)


def _check_sources_visible(client: Any, sources: list[Path]) -> None:
    paths = [os.path.abspath(s) for s in sources]

    def missing(paths: list[str] = paths) -> list[str]:
        return [p for p in paths if not os.path.exists(p)]

    for worker, absent in client.run(missing).items():
        if absent:
            raise CoseaError(
                f"Dask worker {worker} cannot see {absent[0]}: triage sources must be on a "
                "file system every worker mounts at the same path"
            )


def scan_on_cluster(
    options: Any,
    scheduler: Any,
    console: Any = None,
    progress: bool = True,
    stats: dict[str, float] | None = None,
) -> Any:
    """``cosea triage scan`` with the analysing processes on a Dask cluster.

    ``options`` is a :class:`cosea.triage.scanner.ScanOptions` (sources may be URLs);
    returns the scanner's ``ScanSummary``. ``stats``, when given, receives the
    workers' CPU seconds (``cpu_seconds``).
    """
    from cosea.triage import scanner

    options = fetch_sources(options, options.examiner)
    with cluster.connect(scheduler) as client:
        workers = cluster.worker_count(client)
        _check_sources_visible(client, options.sources)
        options = replace(options, workers=workers)  # recorded with the scan's settings
        return scanner.scan(
            options, console=console, progress=progress, runner=dask_runner(client, stats)
        )
