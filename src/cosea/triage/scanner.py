"""``cosea triage scan``: sources → case, in parallel, resumable, with custody.

The scanning process walks the sources, hands batches of files to worker processes
(``ProcessPoolExecutor``) and is the only writer of the case: workers send their
records back through a queue and it stores them in transactions committed every
second or so. What a killed scan committed stays; what it did not is simply done
again on the next run, and every record is keyed by its logical path, so a resumed
scan never stores a file twice. Files stored by an earlier run are skipped when
their size and modification time (for archive members: size, time and CRC) are
unchanged. An archive is only skipped once every member of it was stored.

Who analyses the batches is pluggable: ``scan(options, runner=...)`` takes a
:data:`ScanRunner` (``cosea.scale`` passes one that sends them to Dask workers);
planning, storing, custody and clustering stay here whatever the runner.
"""

from __future__ import annotations

import gc
import getpass
import hashlib
import json
import multiprocessing
import os
import platform
import queue
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from cosea import __version__
from cosea.errors import InputError
from cosea.triage import custody
from cosea.triage.analyze import AnalysisSettings, Analyzer, DiskItem
from cosea.triage.case import UPSERT_FILE_ROW, Case, db_text, file_row
from cosea.triage.clusters import DEFAULT_THRESHOLD, near_duplicate_groups
from cosea.triage.known import CaseMatcher, open_known_files
from cosea.triage.walk import Found, walk_source

MiB = 1024 * 1024


@contextmanager
def _one_faiss_thread() -> Iterator[None]:
    """FAISS on one thread in the scanning process while it matches file by file.

    Its OpenMP threads spin between the many small searches and took the cores the
    workers need (measured: a 2-worker scan ran 3× slower than one worker). Clustering,
    one large search at the end, gets every thread back.
    """
    try:
        import faiss
    except ImportError:
        yield
        return
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@dataclass
class ScanOptions:
    case: str
    sources: list[Path]
    lists: list[str] = field(default_factory=list)
    known_files: str | None = None
    examiner: str | None = None
    workers: int = field(default_factory=default_workers)
    cases_dir: Path | None = None
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    cluster_threshold: int = DEFAULT_THRESHOLD
    commit_seconds: float = 1.0
    commit_records: int = 2000
    batch_files: int = 64
    batch_bytes: int = 64 * MiB
    # Up to this many files (and as many MiB) are read in this process, workers or not
    # (the CLI sets 64 for local scans; 0 keeps every scan on the worker pool).
    small_scan_files: int = 0


@dataclass
class ScanSummary:
    case: str
    case_path: str
    scan_id: int
    resumed_scans: list[int]
    stored: int  # records written by this run
    skipped: int  # unchanged files not read again
    bytes_read: int
    seconds: float
    errors_this_run: int
    totals: dict[str, Any]
    custody_head: str

    @property
    def files_per_second(self) -> float:
        return self.stored / self.seconds if self.seconds else 0.0

    @property
    def mb_per_second(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "case_path": self.case_path,
            "scan_id": self.scan_id,
            "resumed_scans": self.resumed_scans,
            "stored": self.stored,
            "skipped": self.skipped,
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "files_per_second": round(self.files_per_second, 1),
            "mb_per_second": round(self.mb_per_second, 1),
            "errors_this_run": self.errors_this_run,
            "totals": self.totals,
            "custody_head": self.custody_head,
        }


# --- worker processes -------------------------------------------------------------------

_worker_analyzer: Analyzer | None = None
_worker_queue: Any = None


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when the scanning process dies (even by kill -9).

    Forked workers share the task pipe's write end, so without this they would wait
    on it forever after their parent was killed.
    """
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_worker_scope: Any = None


def _init_worker(settings: AnalysisSettings, results: Any, parent: int) -> None:
    global _worker_analyzer, _worker_queue, _worker_scope
    _die_with_parent(parent)
    from cosea.triage.adapters import media_scope

    _worker_scope = media_scope()
    _worker_scope.__enter__()  # for the worker's whole life
    _worker_queue = results
    _worker_analyzer = Analyzer(settings, _emit_matched)


# The case's matcher, set before the workers are forked so each inherits it (its index
# is read-only memory): list matching then runs in parallel, in the workers.
_worker_matcher: CaseMatcher | None = None


def _emit_matched(message: tuple[Any, ...]) -> None:
    if message[0] == "file" and _worker_matcher is not None:
        record = message[1]
        if record.get("status") == "ok":
            record["matches"] = _worker_matcher.match(record)
            record.pop("pdq_variants", None)  # used; not worth sending
    _worker_outbox.append(message)


def _run_task(task_id: int, items: list[DiskItem]) -> int:
    assert _worker_analyzer is not None
    for item in items:
        _worker_analyzer.disk_file(item)  # the outbox sends as it fills or ages
    _worker_outbox.send()
    _worker_queue.put(("done", task_id, None))
    return task_id


# Results leave a worker in slices of this many messages or this many seconds, so the
# members of a big archive are committed (and survive a kill) while it is being read.
_SLICE_MESSAGES = 256
_SLICE_SECONDS = 0.5


class _FlushingOutbox(list):  # type: ignore[type-arg]
    """The worker's outbox: sends when it fills or ages, so a huge archive streams out."""

    last_sent = 0.0

    def append(self, message: tuple[Any, ...]) -> None:  # type: ignore[override]
        super().append(message)
        if len(self) >= _SLICE_MESSAGES or time.monotonic() - self.last_sent >= _SLICE_SECONDS:
            self.send()

    def send(self) -> None:
        self.last_sent = time.monotonic()
        if self and _worker_queue is not None:
            chunk = list(self)
            self.clear()
            _worker_queue.put(("batch", -1, chunk))


_worker_outbox = _FlushingOutbox()


# --- the writer (scanning process) ------------------------------------------------------


_READ_ERROR_KINDS = (
    "'permission-denied', 'unreadable', 'vanished', 'read-error', 'not-regular-file', "
    "'internal-error', 'worker-crashed'"
)


class _Writer:
    """Stores what the workers send, a batch of messages per statement where it can."""

    def __init__(
        self,
        case: Case,
        scan_id: int,
        known: Any,
        matcher: CaseMatcher,
        options: ScanOptions,
    ) -> None:
        self.case = case
        self.scan_id = scan_id
        self.known = known
        self.matcher = matcher
        self.options = options
        self.stored = 0
        self.bytes_read = 0
        self.top_bytes_done = 0
        self.errors = 0
        self.alerts = 0
        self.matches = 0
        self.pending = 0
        self.last_commit = time.monotonic()
        self.on_progress: Any = None
        # Results of earlier runs to clear when a file is stored again. In a new case
        # there are none, and the two or three statements per file are skipped.
        self.clear_matches = case.count("SELECT COUNT(*) FROM matches") > 0 or (
            case.count("SELECT COUNT(*) FROM chat_assessments") > 0
        )
        self.clear_errors = (
            case.count("SELECT COUNT(*) FROM errors WHERE scan_id < ?", (scan_id,)) > 0
        )

    def _begin(self) -> None:
        if not self.case.conn.in_transaction:
            self.case.conn.execute("BEGIN IMMEDIATE")

    def handle(self, message: tuple[Any, ...]) -> None:
        self.handle_batch([message])

    def error(self, path: str, kind: str, reason: str) -> None:
        self.handle(("error", path, kind, reason))

    def handle_batch(self, messages: list[tuple[Any, ...]]) -> None:
        if not messages:
            return
        self._begin()
        conn = self.case.conn
        conn.execute("SAVEPOINT batch")
        try:
            counts = self._apply(messages)
        except Exception as error:  # the database refused a record, or a lookup failed
            conn.execute("ROLLBACK TO batch")
            conn.execute("RELEASE batch")
            if len(messages) > 1:
                for message in messages:  # find the one that fails
                    self.handle_batch([message])
                return
            message = messages[0]
            kind = message[0]
            path = message[1]["path"] if kind in {"file", "container"} else str(message[1])
            self.case.add_error(
                path,
                "internal-error",
                f"could not store it ({type(error).__name__}: {error})",
                self.scan_id,
            )
            self.errors += 1
            return
        except BaseException:
            # Interrupted: a half-stored batch must not be committed on the way out (a
            # file without its matches would look finished to the next run).
            conn.execute("ROLLBACK TO batch")
            conn.execute("RELEASE batch")
            raise
        conn.execute("RELEASE batch")
        stored, size, top, errors, matches, alerts = counts
        self.stored += stored
        self.bytes_read += size
        self.top_bytes_done += top
        self.errors += errors
        self.matches += matches
        self.alerts += alerts
        self.pending += len(messages)
        self.maybe_commit()

    def _apply(self, messages: list[tuple[Any, ...]]) -> tuple[int, int, int, int, int, int]:
        case = self.case
        conn = case.conn
        rows: list[list[Any]] = []
        paths: list[tuple[str]] = []
        follow_ups: list[tuple[str, list[dict[str, Any]], dict[str, Any] | None]] = []
        errors: list[tuple[str, str, str]] = []
        containers: list[dict[str, Any]] = []
        size = top = 0
        for message in messages:
            kind = message[0]
            if kind == "file":
                record = message[1]
                label = None
                found: list[dict[str, Any]] = []
                chats = None
                if record.get("status") == "ok":
                    label = self.known.lookup(record) if self.known is not None else None
                    found = record["matches"] if "matches" in record else self.matcher.match(record)
                    chats = record.get("chats")
                rows.append(file_row(record, self.scan_id, label))
                path = db_text(record["path"])
                paths.append((path,))
                if found or chats:
                    follow_ups.append((path, found, chats))
                length = int(record.get("size") or 0)
                size += length
                if record.get("container") is None:
                    top += length
            elif kind == "error":
                errors.append((message[1], message[2], message[3]))
            elif kind == "container":
                containers.append(message[1])
        if rows:
            conn.executemany(UPSERT_FILE_ROW, rows)
            if self.clear_matches:
                for table in ("matches", "chat_assessments"):
                    conn.executemany(
                        f"DELETE FROM {table} WHERE file_id = (SELECT id FROM files WHERE path = ?)",
                        paths,
                    )
            if self.clear_errors:  # read errors a file stored now no longer has
                conn.executemany(
                    f"DELETE FROM errors WHERE path = ? AND scan_id < {int(self.scan_id)} "
                    f"AND kind IN ({_READ_ERROR_KINDS})",
                    paths,
                )
        matches = alerts = 0
        for path, found, chats in follow_ups:
            file_id = conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0]
            for match in found:
                case.add_match(file_id, match)
                matches += 1
            for assessment in (chats or {}).get("assessments") or []:
                case.add_chat_assessment(file_id, assessment)
                alerts += 1 if assessment.get("alert") else 0
        for path, error_kind, reason in errors:
            case.add_error(path, error_kind, reason, self.scan_id)
        for info in containers:
            case.mark_container(db_text(info["path"]), info, self.scan_id)
        return len(rows), size, top, len(errors), matches, alerts

    def maybe_commit(self, force: bool = False) -> None:
        now = time.monotonic()
        if (
            not force
            and self.pending < self.options.commit_records
            and (now - self.last_commit < self.options.commit_seconds)
        ):
            return
        if self.case.conn.in_transaction:
            self.case.conn.execute("COMMIT")
        self.pending = 0
        self.last_commit = now
        if self.on_progress is not None:
            self.on_progress()


# --- planning ---------------------------------------------------------------------------


@dataclass
class _Plan:
    items: list[DiskItem]
    skipped: int
    total_bytes: int


def _source_kind(path: Path) -> str:
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "file"
    raise InputError(path, "no such file or folder (a source must be a folder or a file)")


def _found_for_file(path: Path) -> Found:
    info = path.stat()
    return Found(
        path=os.path.abspath(path),
        relative=path.name,
        size=info.st_size,
        mtime_ns=info.st_mtime_ns,
        ctime_ns=info.st_ctime_ns,
        atime_ns=info.st_atime_ns,
    )


def _plan(case: Case, sources: list[tuple[str, str]], writer: _Writer) -> _Plan:
    """Every file to read, and the unchanged ones marked as seen without reading."""
    items: list[DiskItem] = []
    skipped = 0
    total = 0
    seen: list[str] = []
    containers = case.complete_containers()
    for source, kind in sources:
        stored = case.known_top_level(db_text(source))
        found: Iterable[Found] = (
            walk_source(Path(source), writer.error)
            if kind == "folder"
            else [_found_for_file(Path(source))]
        )
        for entry in found:
            key = db_text(entry.path)
            previous = stored.get(key)
            item = DiskItem(
                path=entry.path,
                source=source,
                size=entry.size,
                mtime_ns=entry.mtime_ns,
                ctime_ns=entry.ctime_ns,
                atime_ns=entry.atime_ns,
            )
            if previous is not None and previous[:2] == (entry.size, entry.mtime_ns):
                archive = previous[2]
                finished = containers.get(key)
                if archive is None or (
                    finished is not None and finished[:2] == (entry.size, entry.mtime_ns)
                ):
                    skipped += 1
                    seen.append(key)
                    if archive is not None:
                        writer._begin()
                        case.mark_seen_under(key, writer.scan_id)
                    continue
                item.skip_record = True
                item.done_members = case.members_under(key)
                item.done_containers = frozenset(case.complete_containers(key))
                seen.append(key)
            elif previous is not None and previous[2] is not None:
                writer._begin()
                case.forget_container(key)  # changed archive: its members may differ now
            items.append(item)
            total += entry.size
            if len(seen) >= 5000:
                writer._begin()
                case.mark_seen(seen, writer.scan_id)
                seen.clear()
    if seen:
        writer._begin()
        case.mark_seen(seen, writer.scan_id)
    writer.maybe_commit(force=True)
    return _Plan(items, skipped, total)


def _batches(items: list[DiskItem], options: ScanOptions) -> Iterator[list[DiskItem]]:
    batch: list[DiskItem] = []
    size = 0
    for item in items:
        # Archives and big files travel alone so one worker does not hoard the rest.
        alone = item.size >= options.batch_bytes or item.skip_record or _may_be_archive(item.path)
        if alone:
            if batch:
                yield batch
                batch, size = [], 0
            yield [item]
            continue
        batch.append(item)
        size += item.size
        if len(batch) >= options.batch_files or size >= options.batch_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz", ".7z")


def _may_be_archive(path: str) -> bool:
    return path.lower().endswith(_ARCHIVE_SUFFIXES)


# --- running ----------------------------------------------------------------------------


class ScanWriter(Protocol):
    """What a runner may use of the scan's writer, the only writer of the case.

    Every call is made from the thread that called :func:`scan`.
    """

    #: Refreshes the progress bar (None when there is none); call it while waiting.
    on_progress: Callable[[], None] | None

    def handle_batch(self, messages: list[tuple[Any, ...]]) -> None:
        """Store the messages an :class:`~cosea.triage.analyze.Analyzer` emitted."""

    def error(self, path: str, kind: str, reason: str) -> None:
        """Record an error for a file that could not be analysed (e.g. ``worker-crashed``)."""

    def maybe_commit(self, force: bool = False) -> None:
        """Commit when enough time or records went by since the last commit."""


#: Analyses every batch of planned files and hands the analyser's messages to the
#: writer, returning once all are stored: ``runner(batches, writer, options)``. The
#: default runs the batches on a local process pool (in this process for one worker).
ScanRunner = Callable[[Iterator[list[DiskItem]], ScanWriter, ScanOptions], None]


def _run_inline(batches: Iterator[list[DiskItem]], writer: _Writer, options: ScanOptions) -> None:
    outbox: list[tuple[Any, ...]] = []
    last_sent = [time.monotonic()]

    def emit(message: tuple[Any, ...]) -> None:
        outbox.append(message)
        now = time.monotonic()
        if len(outbox) >= _SLICE_MESSAGES or now - last_sent[0] >= _SLICE_SECONDS:
            writer.handle_batch(outbox[:])  # a big archive is stored in slices
            outbox.clear()
            last_sent[0] = now

    from cosea.triage.adapters import media_scope

    analyzer = Analyzer(options.analysis, emit)
    with media_scope():
        for batch in batches:
            for item in batch:
                analyzer.disk_file(item)
        writer.handle_batch(outbox[:])
        outbox.clear()


def _ping() -> bool:
    return True


def _run_pool(batches: Iterator[list[DiskItem]], writer: _Writer, options: ScanOptions) -> None:
    """Batches on worker processes; a worker that dies costs only the file it died on.

    When a worker dies (a crash in a decoder, the kernel's out-of-memory killer), the
    pool is replaced and the files of the batches that were in flight are tried again
    one at a time, alone in the pool, so the file that kills a worker again is named
    exactly and recorded as an error, and the others are analysed.
    """
    # fork: workers start at once with the analysis code already imported. It is safe
    # here because the scanning process runs no other thread when they are forked (the
    # progress bar is refreshed by hand) and the children never touch the case database.
    context = multiprocessing.get_context("fork")
    from cosea.triage.adapters import preload

    preload(chats=options.analysis.chats)
    global _worker_matcher
    _worker_matcher = writer.matcher
    # Objects that exist now are never collected in the workers: without this every full
    # collection in a worker walks (and copies, page by page) the parent's whole heap.
    gc.freeze()
    try:
        _pool_loop(batches, writer, options, context)
    finally:
        gc.unfreeze()
        _worker_matcher = None


def _pool_loop(
    batches: Iterator[list[DiskItem]], writer: _Writer, options: ScanOptions, context: Any
) -> None:
    suspects: deque[DiskItem] = deque()  # files to try again, one at a time
    next_id = 0
    pending = iter(batches)
    exhausted = False
    failed_starts = 0
    while True:
        results = context.Queue()
        pool = ProcessPoolExecutor(
            options.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(options.analysis, results, os.getpid()),
        )
        inflight: dict[int, tuple[Future[int], list[DiskItem], bool]] = {}
        broken = False
        try:
            try:
                pool.submit(_ping).result(timeout=120)
            except Exception:
                failed_starts += 1
                raise BrokenProcessPool("worker processes do not start") from None
            failed_starts = 0
            while True:
                while not broken:
                    if suspects:
                        if inflight:
                            break  # a suspect runs alone
                        items, alone = [suspects.popleft()], True
                    elif len(inflight) < options.workers * 2 and not exhausted:
                        try:
                            items, alone = next(pending), False
                        except StopIteration:
                            exhausted = True
                            continue
                    else:
                        break
                    next_id += 1
                    try:
                        future = pool.submit(_run_task, next_id, items)
                    except BrokenProcessPool:
                        suspects.extendleft(reversed(items))
                        broken = True
                        break
                    inflight[next_id] = (future, items, alone)
                if broken or not inflight:
                    break
                try:
                    message = results.get(timeout=0.2)
                except queue.Empty:
                    writer.maybe_commit()
                    if writer.on_progress is not None:
                        writer.on_progress()
                    if any(f.done() and f.exception() is not None for f, _, _ in inflight.values()):
                        broken = True
                        break
                    continue
                kind, task_id, payload = message
                if kind == "batch":
                    writer.handle_batch(payload)
                elif kind == "done":
                    inflight.pop(task_id, None)
        except BrokenProcessPool:
            broken = True
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        if not broken:
            return
        # Whatever the dead pool's workers sent is stored, finished batches included.
        while True:
            try:
                message = results.get(timeout=0.5)
            except (queue.Empty, OSError, EOFError, ValueError):
                break
            if message[0] == "batch":
                writer.handle_batch(message[2])
            elif message[0] == "done":
                inflight.pop(message[1], None)
        for _future, items, alone in inflight.values():
            if alone:
                writer.error(
                    items[0].path,
                    "worker-crashed",
                    "the analysing process died while reading this file (twice); "
                    "it was not analysed",
                )
            else:
                suspects.extend(items)
        writer.maybe_commit(force=True)
        if failed_starts >= 3:
            # Worker processes cannot run here at all: finish in this process.
            rest = [[item] for item in suspects]
            suspects.clear()
            _run_inline(iter([*rest, *pending]), writer, options)
            return


def _match_signature(lists: list[dict[str, Any]], known: dict[str, Any] | None) -> str:
    """What the known/match results of a scan depend on: list contents and the filter."""
    payload = json.dumps({"lists": lists, "known": known}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _scan_settings(options: ScanOptions, matcher: CaseMatcher, signature: str) -> dict[str, Any]:
    from cosea.triage import adapters

    return {
        "match_signature": signature,
        "workers": options.workers,
        "analysis": options.analysis.to_dict(),
        "cluster_threshold": options.cluster_threshold,
        "lists": options.lists,
        "known_files": options.known_files,
        "capabilities": {
            "media_hashing": adapters._media_images() is not None,
            "vpdq": options.analysis.vpdq and adapters.vpdq_available(),
            "chats": options.analysis.chats and adapters.chats_available(),
            "matcher": "cosea.media.match" if matcher._matcher is not None else "triage",
        },
    }


def scan(
    options: ScanOptions,
    console: Console | None = None,
    progress: bool = True,
    runner: ScanRunner | None = None,
) -> ScanSummary:
    """Scan the sources into the case; see the module docstring.

    ``runner`` analyses the batches (see :data:`ScanRunner`); without one, the local
    process pool of ``options.workers`` processes does, or this process for one worker
    or a small scan. A runner given is used for every scan, small ones included.
    """
    if not options.sources:
        raise InputError(None, "give at least one source folder or file")
    sources = [(os.path.abspath(s), _source_kind(Path(s))) for s in options.sources]
    if options.workers < 1:
        raise InputError(None, "--workers must be at least 1")
    known = open_known_files(options.known_files)
    matcher = CaseMatcher(options.lists, robust=options.analysis.robust)
    examiner = options.examiner or _default_examiner()
    case = Case.create_or_open(options.case, options.cases_dir)
    started = time.monotonic()
    try:
        resumed = case.interrupted_scans()
        lists_used = matcher.describe()
        known_used = known.describe() if known is not None else None
        signature = _match_signature(lists_used, known_used)
        settings = _scan_settings(options, matcher, signature)
        with case.transaction():
            if case.count("SELECT COUNT(*) FROM custody") == 0:
                custody.append(case, "case-created", {"case": case.name}, examiner)
            scan_id = case.start_scan(examiner, settings)
            previous = {row["path"]: row["sha256"] for row in case.sources()}
            for source, kind in sources:
                case.upsert_source(db_text(source), kind)
            custody.append(
                case,
                "scan-started",
                {
                    "scan": scan_id,
                    "tool": "cosea",
                    "version": __version__,
                    "python": platform.python_version(),
                    "host": platform.node(),
                    "command": " ".join(sys.argv[:1] + [a for a in sys.argv[1:]]),
                    "examiner": examiner,
                    "sources": [
                        {"path": db_text(s), "kind": k, "previous_sha256": previous.get(db_text(s))}
                        for s, k in sources
                    ],
                    "settings": settings,
                    "lists": lists_used,
                    "known_files": known_used,
                    "resumes": resumed,
                },
                examiner,
            )
        writer = _Writer(case, scan_id, known, matcher, options)
        if console is not None and progress:
            console.print("[bold]walking the sources[/] (unchanged files are skipped) …")
        plan = _plan(case, sources, writer)
        if console is not None and progress:
            console.print(
                f"{len(plan.items):,} file(s) to read ({plan.total_bytes / 1e6:,.1f} MB), "
                f"{plan.skipped:,} unchanged"
            )
        one_thread = _one_faiss_thread()
        one_thread.__enter__()  # until the files are stored; clustering gets every thread
        rematched = _rematch_unchanged(case, writer, signature)
        if rematched and console is not None and progress:
            console.print(f"{rematched:,} unchanged file(s) matched again: the lists changed")
        batches = _batches(plan.items, options)
        with _progress(console, progress, plan, writer):
            # A handful of files is read faster here than by starting worker processes
            # (each would load the image and conversation analysers first).
            small = (
                len(plan.items) <= options.small_scan_files
                and plan.total_bytes <= options.small_scan_files * MiB
            )
            if runner is not None:
                runner(batches, writer, options)
            elif options.workers == 1 or small:
                _run_inline(batches, writer, options)
            else:
                _run_pool(batches, writer, options)
            writer.maybe_commit(force=True)
        one_thread.__exit__(None, None, None)
        totals = _finish(case, scan_id, sources, options, examiner, writer, plan, started)
    except BaseException:
        if case.conn.in_transaction:
            case.conn.execute("COMMIT")  # keep what was stored: the next run resumes from it
        case.close()
        raise
    head, _ = custody.head(case)
    summary = ScanSummary(
        case=case.name,
        case_path=str(case.db_path),
        scan_id=scan_id,
        resumed_scans=resumed,
        stored=writer.stored,
        skipped=plan.skipped,
        bytes_read=writer.bytes_read,
        seconds=time.monotonic() - started,
        errors_this_run=writer.errors,
        totals=totals,
        custody_head=head,
    )
    case.close()
    if known is not None:
        known.close()
    return summary


def _default_examiner() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def folder_manifest(lines: Iterable[tuple[str, str | None]]) -> str:
    """SHA-256 over sorted ``relative path<TAB>sha256`` lines (``-`` for unreadable files)."""
    digest = hashlib.sha256()
    for relative, sha256 in sorted(lines):
        digest.update(f"{relative}\t{sha256 or '-'}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def source_manifest(case: Case, source: str, scan_id: int | None = None) -> tuple[str, int, int]:
    """(manifest hash, files, bytes) of a folder source as stored in the case."""
    prefix = source.rstrip("/") + "/"
    query = (
        "SELECT path, sha256, status, size FROM files WHERE source = ? AND container IS NULL"
        + (" AND seen_scan = ?" if scan_id is not None else "")
    )
    params: tuple[Any, ...] = (source, scan_id) if scan_id is not None else (source,)
    lines = []
    total = 0
    for path, sha256, status, size in case.conn.execute(query, params):
        relative = path[len(prefix) :] if path.startswith(prefix) else path
        lines.append((relative, sha256 if status == "ok" else None))
        total += int(size or 0)
    return folder_manifest(lines), len(lines), total


def _rematch_unchanged(case: Case, writer: _Writer, signature: str) -> int:
    """Known/match results of files not read again, redone from their stored hashes when
    the lists or the known-files filter differ from those of the scan that stored them."""
    stale: list[int] = []
    for scan_id, settings in case.conn.execute("SELECT id, settings FROM scans WHERE id < ?",
                                                (writer.scan_id,)):  # fmt: skip
        try:
            previous = json.loads(settings).get("match_signature")
        except (TypeError, ValueError):
            previous = None
        if previous != signature:
            stale.append(int(scan_id))
    if not stale:
        return 0
    marks = ",".join("?" for _ in stale)
    rows = list(
        case.conn.execute(
            "SELECT id, path, md5, sha1, sha256, pdq, pdq_quality, pdq_low_quality, type_group "
            f"FROM files WHERE seen_scan = ? AND scan_id IN ({marks}) AND status = 'ok'",
            (writer.scan_id, *stale),
        )
    )
    for start in range(0, len(rows), 1000):
        writer._begin()
        for row in rows[start : start + 1000]:
            record = dict(row)
            label = writer.known.lookup(record) if writer.known is not None else None
            case.conn.execute(
                "UPDATE files SET known = ?, known_source = ?, scan_id = ? WHERE id = ?",
                (1 if label else 0, label, writer.scan_id, row["id"]),
            )
            case.conn.execute("DELETE FROM matches WHERE file_id = ?", (row["id"],))
            for match in writer.matcher.match(record):
                case.add_match(row["id"], match)
        writer.maybe_commit(force=True)
    return len(rows)


def _finish(
    case: Case,
    scan_id: int,
    sources: list[tuple[str, str]],
    options: ScanOptions,
    examiner: str,
    writer: _Writer,
    plan: _Plan,
    started: float,
) -> dict[str, Any]:
    with case.transaction():
        cluster_count = rebuild_clusters(case, options.cluster_threshold)
        for source, kind in sources:
            key = db_text(source)
            if kind == "folder":
                digest, files, size = source_manifest(case, key, scan_id)
            else:
                row = case.conn.execute(
                    "SELECT sha256, size FROM files WHERE path = ?", (key,)
                ).fetchone()
                digest, files, size = (row[0] if row else None), 1, int(row[1] or 0) if row else 0
            case.set_source_hash(key, digest or "-", files, size)
            custody.append(
                case,
                "source-hashed",
                {
                    "scan": scan_id,
                    "source": key,
                    "kind": kind,
                    "sha256": digest,
                    "files": files,
                    "bytes": size,
                    "method": (
                        "SHA-256 over sorted 'relative path<TAB>file SHA-256' lines"
                        if kind == "folder"
                        else "SHA-256 of the file"
                    ),
                },
                examiner,
            )
        totals = case_totals(case)
        totals["clusters"] = cluster_count
        run = {
            "stored": writer.stored,
            "skipped": plan.skipped,
            "bytes_read": writer.bytes_read,
            "errors": writer.errors,
            "seconds": round(time.monotonic() - started, 3),
        }
        case.end_scan(scan_id, {"run": run, "totals": totals})
        custody.append(
            case, "scan-ended", {"scan": scan_id, "run": run, "totals": totals}, examiner
        )
    return totals


def rebuild_clusters(case: Case, threshold: int) -> int:
    rows = list(
        case.conn.execute(
            "SELECT id, pdq FROM files WHERE pdq IS NOT NULL AND known = 0 "
            "AND COALESCE(pdq_low_quality, 0) = 0 AND status = 'ok' ORDER BY id"
        )
    )
    case.conn.execute("UPDATE files SET cluster_id = NULL WHERE cluster_id IS NOT NULL")
    case.conn.execute("DELETE FROM clusters")
    groups = near_duplicate_groups([row[1] for row in rows], threshold)
    for number, (indices, spread) in enumerate(groups, start=1):
        ids = [rows[i][0] for i in indices]
        case.conn.execute(
            "INSERT INTO clusters(id, size, representative, max_distance) VALUES (?, ?, ?, ?)",
            (number, len(ids), ids[0], spread),
        )
        case.conn.executemany(
            "UPDATE files SET cluster_id = ? WHERE id = ?", [(number, i) for i in ids]
        )
    return len(groups)


def case_totals(case: Case) -> dict[str, Any]:
    count = case.count
    return {
        "files": count("SELECT COUNT(*) FROM files"),
        "bytes": count("SELECT COALESCE(SUM(size), 0) FROM files"),
        "in_archives": count("SELECT COUNT(*) FROM files WHERE container IS NOT NULL"),
        "images": count("SELECT COUNT(*) FROM files WHERE type_group = 'image'"),
        "known": count("SELECT COUNT(*) FROM files WHERE known = 1"),
        "for_review": count("SELECT COUNT(*) FROM files WHERE known = 0 AND status = 'ok'"),
        "matched_files": count("SELECT COUNT(DISTINCT file_id) FROM matches"),
        "matches": count("SELECT COUNT(*) FROM matches"),
        "ext_mismatch": count("SELECT COUNT(*) FROM files WHERE ext_mismatch = 1"),
        "errors": count("SELECT COUNT(*) FROM errors"),
        "chat_conversations": count("SELECT COUNT(*) FROM chat_assessments"),
        "chat_alerts": count("SELECT COUNT(*) FROM chat_assessments WHERE alert = 1"),
        "clusters": count("SELECT COUNT(*) FROM clusters"),
    }


class _progress:
    """A Rich progress bar with files/s and MB/s, fed from the writer's commits."""

    def __init__(self, console: Console | None, enabled: bool, plan: _Plan, writer: _Writer):
        self.console = console
        self.enabled = enabled and console is not None
        self.plan = plan
        self.writer = writer
        self.started = time.monotonic()
        self.progress: Any = None

    def __enter__(self) -> _progress:
        if not self.enabled:
            return self
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        # No refresh thread (auto_refresh off): workers are forked from this process,
        # which must not run other threads then; the writer refreshes on each commit.
        self.progress = Progress(
            TextColumn("[bold]scanning[/]"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TextColumn("{task.fields[files]} files"),
            TextColumn("{task.fields[rate]:.0f} files/s"),
            TextColumn("{task.fields[mbs]:.1f} MB/s"),
            TextColumn("{task.fields[errors]} errors"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            auto_refresh=False,
        )
        self.task = self.progress.add_task(
            "scan", total=max(self.plan.total_bytes, 1), files=0, rate=0.0, mbs=0.0, errors=0
        )
        self.progress.start()
        self.writer.on_progress = self.update
        return self

    def update(self) -> None:
        if self.progress is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        writer = self.writer
        self.progress.update(
            self.task,
            completed=min(writer.top_bytes_done, self.plan.total_bytes),
            files=writer.stored,
            rate=writer.stored / elapsed,
            mbs=writer.bytes_read / 1e6 / elapsed,
            errors=writer.errors,
        )
        self.progress.refresh()

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.update()
            if not any(exc):
                self.progress.update(self.task, completed=max(self.plan.total_bytes, 1))
            self.progress.stop()
            self.writer.on_progress = None
