"""Media hashing and list matching on a Dask cluster, with the same output as one process.

Files are listed once, in the order ``cosea media hash|match`` uses (folders walked
recursively in sorted order; an object-storage prefix listed in sorted order), and
cut into contiguous ranges of that list: each task hashes (and matches) one range
and stores one row per file in the database, keyed by the file's place in the list,
in one idempotent batch.

For matching, each list's index (exact-hash tables and the PDQ index, saved in the
index's own safe format) is packed into bytes once and broadcast to every worker
with ``Client.scatter(..., broadcast=True)``; a worker unpacks and memory-maps it
the first time a task needs it and keeps it for the rest of the run, so the lists
cross the network once per worker, not once per task.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosea.errors import InputError
from cosea.scale import cluster, inputs, results


@dataclass
class MediaRun:
    """What a distributed hash or match run did."""

    run_id: str
    kind: str  # media-hash | media-match
    database_url: str
    scheduler: str
    workers: int
    files: int
    tasks: int
    done: int = 0
    written: int = 0
    errors: int = 0
    low_quality: int = 0
    matched_files: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    by_list: Counter[str] = field(default_factory=Counter)
    by_category: Counter[str] = field(default_factory=Counter)
    index_bytes: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # CPU time of every task on the workers
    out: str | None = None
    out_lines: int = 0

    @property
    def files_per_second(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "scheduler": self.scheduler,
            "workers": self.workers,
            "files": self.files,
            "tasks": self.tasks,
            "written": self.written,
            "errors": self.errors,
            "low_quality": self.low_quality,
            "matched_files": self.matched_files,
            "kinds": dict(self.kinds),
            "by_list": dict(self.by_list),
            "by_category": dict(self.by_category),
            "index_bytes": self.index_bytes,
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
            "files_per_second": round(self.files_per_second, 1),
            "out": self.out,
        }


# --- listing (driver) --------------------------------------------------------------------


def list_files(paths: Sequence[str | Path]) -> list[inputs.InputFile]:
    """Every file to hash, in the order a single process hashes them."""
    from cosea.media.hashing import iter_files

    found: list[inputs.InputFile] = []
    for raw in paths:
        text = inputs.restore_url(raw)
        if inputs.is_remote(text):
            found.extend(inputs.expand_remote(text))
            continue
        local = Path(inputs.local_path(text))
        if not local.exists():
            raise InputError(local, "no such file or folder")
        found.extend(inputs.InputFile(str(p), str(p)) for p in iter_files([local]))
    return found


# --- the broadcast index -----------------------------------------------------------------


def pack_indexes(indexes: Sequence[Any]) -> dict[str, Any]:
    """Each list index saved in its own format, as bytes keyed by relative file name."""
    files: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="cosea-pack-") as folder:
        for number, index in enumerate(indexes):
            root = Path(folder) / f"{number:03d}"
            index.save(root)
            for path in sorted(root.rglob("*")):
                if path.is_file() and path.name != ".lock":
                    files[path.relative_to(folder).as_posix()] = path.read_bytes()
    digest = hashlib.sha256()
    for name, data in files.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return {"key": digest.hexdigest()[:24], "files": files, "count": len(indexes)}


_MATCHERS: dict[tuple[str, str], Any] = {}
_LOADS = 0  # indexes unpacked by this worker process (one per run)


def _unpacked_matcher(packed: dict[str, Any], settings: dict[str, Any]) -> Any:
    """The run's matcher on this worker: unpacked and loaded on first use, then kept."""
    from cosea.media.match import Matcher, MatchIndex

    global _LOADS
    cache_key = (packed["key"], json.dumps(settings, sort_keys=True))
    matcher = _MATCHERS.get(cache_key)
    if matcher is not None:
        return matcher
    root = Path(tempfile.gettempdir()) / f"cosea-scale-index-{os.getpid()}-{packed['key']}"
    if not root.exists():
        staging = root.with_name(root.name + ".partial")
        for name, data in packed["files"].items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        staging.rename(root)
        atexit.register(shutil.rmtree, root, True)
    indexes = [MatchIndex.load(root / f"{n:03d}") for n in range(packed["count"])]
    matcher = Matcher(indexes, **settings)
    _LOADS += 1
    _MATCHERS.clear()  # one run's lists at a time per worker
    _MATCHERS[cache_key] = matcher
    return matcher


# --- hashing (worker) --------------------------------------------------------------------


def _relabel(record: dict[str, Any], local: str, label: str) -> dict[str, Any]:
    """Name a fetched object by its URL, not by the worker's temporary copy."""
    if local == label:
        return record
    record["path"] = label
    for key in ("error",):
        if isinstance(record.get(key), str):
            record[key] = record[key].replace(local, label)
    if isinstance(record.get("notes"), list):
        record["notes"] = [n.replace(local, label) for n in record["notes"]]
    return record


def hash_range(
    items: list[tuple[int, str, str]],
    signals: tuple[str, ...],
    packed: dict[str, Any] | None,
    settings: dict[str, Any] | None,
    database_url: str,
    run_id: str,
) -> dict[str, Any]:
    """Task: hash (and, with lists, match) a range of files; store one row per file."""
    from cosea.media.hashing import hash_file
    from cosea.media.match import match_record
    from cosea.media.match.matcher import hash_file_robust

    cluster.tune_worker_process()
    cpu_started = time.process_time()
    matcher = _unpacked_matcher(packed, settings or {}) if packed is not None else None
    rows: list[results.ResultRow] = []
    kinds: Counter[str] = Counter()
    by_list: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    errors = low_quality = matched = 0
    with tempfile.TemporaryDirectory(prefix="cosea-fetch-") as folder:
        for position, location, label in items:
            try:
                local = str(inputs.fetch(location, Path(folder)))
            except InputError as error:
                local = location
                record: dict[str, Any] = {"path": label, "size": None, "kind": None}
                record["error"] = str(error)
                hashes = None
            else:
                hashes = None
                if matcher is None:
                    hashes = hash_file(local, signals)
                    record = hashes.to_dict()
                else:
                    hashes = hash_file_robust(local, matcher.hash_signals(), matcher.robust)
                    matches = matcher.match_hashes(hashes)
                    record = match_record(hashes, matches)
                    for match in matches:
                        by_list[match.list_name] += 1
                        by_category[match.category or "-"] += 1
                record = _relabel(record, local, label)
                if local != location:
                    Path(local).unlink(missing_ok=True)
            kinds[(hashes.kind if hashes is not None else None) or "other"] += 1
            errors += record.get("error") is not None
            low_quality += bool(record.get("pdq_low_quality"))
            found = record.get("matches") or []
            matched += bool(found)
            rows.append(
                results.ResultRow(
                    position=position,
                    item=label,
                    flagged=bool(found),
                    score=float(min(m["distance"] for m in found)) if found else None,
                    payload=json.dumps(record),
                )
            )
    written = results.write_results(database_url, run_id, rows)
    return {
        "files": len(rows),
        "written": written,
        "errors": errors,
        "low_quality": low_quality,
        "matched": matched,
        "kinds": dict(kinds),
        "by_list": dict(by_list),
        "by_category": dict(by_category),
        "cpu_seconds": time.process_time() - cpu_started,
    }


# --- the driver ---------------------------------------------------------------------------


def _run(
    kind: str,
    paths: Sequence[str | Path],
    *,
    scheduler: Any,
    signals: tuple[str, ...],
    matcher: Any,
    out: str | Path | None,
    database_url: str | None,
    run_id: str | None,
    files_per_task: int | None,
    parameters: dict[str, Any],
    on_progress: Callable[[MediaRun], None] | None,
) -> MediaRun:
    from distributed import as_completed

    from cosea.settings import database_url as configured_database

    database_url = database_url or configured_database()
    started = time.perf_counter()
    files = list_files(paths)
    with cluster.connect(scheduler) as client:
        workers = cluster.worker_count(client)
        cluster.check_database_reachable(client, database_url)
        size = files_per_task or max(1, min(256, -(-len(files) // (workers * 8))))
        ranges = [files[i : i + size] for i in range(0, len(files), size)]
        run_id = results.start_run(
            database_url,
            kind,
            {**parameters, "inputs": [inputs.restore_url(p) for p in paths], "files": len(files)},
            run_id=run_id,
            scheduler=cluster.describe(client),
            workers=workers,
        )
        run = MediaRun(
            run_id=run_id,
            kind=kind,
            database_url=database_url,
            scheduler=cluster.describe(client),
            workers=workers,
            files=len(files),
            tasks=len(ranges),
        )
        packed_ref = settings = None
        if matcher is not None:
            packed = pack_indexes(matcher.indexes)
            run.index_bytes = sum(len(v) for v in packed["files"].values())
            packed_ref = client.scatter([packed], broadcast=True)[0]
            settings = {
                "threshold": matcher.threshold,
                "robust": matcher.robust,
                "variant_threshold": matcher.variant_threshold,
                "match_low_quality": matcher.match_low_quality,
                "signals": list(matcher.signals),
            }
        futures = []
        offset = 0
        for number, chunk in enumerate(ranges):
            items = [(offset + i, f.location, f.label) for i, f in enumerate(chunk)]
            offset += len(chunk)
            futures.append(
                client.submit(
                    hash_range,
                    items,
                    signals,
                    packed_ref,
                    settings,
                    database_url,
                    run_id,
                    key=f"cosea-{kind}-{run_id}-{number}",
                    pure=False,
                )
            )
        try:
            for future in as_completed(futures):
                done = future.result()
                run.done += done["files"]
                run.written += done["written"]
                run.errors += done["errors"]
                run.low_quality += done["low_quality"]
                run.matched_files += done["matched"]
                run.kinds.update(done["kinds"])
                run.by_list.update(done["by_list"])
                run.by_category.update(done["by_category"])
                run.cpu_seconds += done["cpu_seconds"]
                if on_progress is not None:
                    on_progress(run)
        except BaseException:
            for future in futures:
                future.cancel()
            results.finish_run(database_url, run_id, {"error": "interrupted"}, status="failed")
            raise
    if out is not None and str(out) != "-":
        from cosea.scale.chats import write_lines

        run.out = inputs.restore_url(out)
        lines = (payload for _, _, payload in results.iter_results(database_url, run_id))
        run.out_lines = write_lines(run.out, lines)
    run.seconds = time.perf_counter() - started
    results.finish_run(database_url, run_id, run.to_dict())
    return run


def hash_media(
    paths: Sequence[str | Path],
    *,
    scheduler: Any,
    signals: Sequence[str] | str = ("md5", "sha1", "sha256", "pdq"),
    out: str | Path | None = None,
    database_url: str | None = None,
    run_id: str | None = None,
    files_per_task: int | None = None,
    on_progress: Callable[[MediaRun], None] | None = None,
) -> MediaRun:
    """``cosea media hash`` on a cluster: one JSON record per file, in input order."""
    from cosea.media.hashing import normalise_signals

    chosen = normalise_signals(signals)
    return _run(
        "media-hash",
        paths,
        scheduler=scheduler,
        signals=chosen,
        matcher=None,
        out=out,
        database_url=database_url,
        run_id=run_id,
        files_per_task=files_per_task,
        parameters={"signals": list(chosen)},
        on_progress=on_progress,
    )


def match_media(
    paths: Sequence[str | Path],
    *,
    lists: Sequence[str],
    scheduler: Any,
    robust: bool = False,
    threshold: int = 31,
    match_low_quality: bool = False,
    out: str | Path | None = None,
    database_url: str | None = None,
    run_id: str | None = None,
    files_per_task: int | None = None,
    matcher: Any = None,
    on_progress: Callable[[MediaRun], None] | None = None,
) -> MediaRun:
    """``cosea media match`` on a cluster; the lists' indexes reach each worker once."""
    if matcher is None:
        from cosea.media.match import Matcher

        matcher = Matcher.for_lists(
            list(lists), robust=robust, threshold=threshold, match_low_quality=match_low_quality
        )
    return _run(
        "media-match",
        paths,
        scheduler=scheduler,
        signals=matcher.hash_signals(),
        matcher=matcher,
        out=out,
        database_url=database_url,
        run_id=run_id,
        files_per_task=files_per_task,
        parameters={
            "lists": list(lists),
            "robust": matcher.robust,
            "threshold": matcher.threshold,
            "match_low_quality": matcher.match_low_quality,
        },
        on_progress=on_progress,
    )
