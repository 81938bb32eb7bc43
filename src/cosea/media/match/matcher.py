"""The matcher facade: hash lists in, matches out.

``Matcher.for_lists(["hotline-a"])`` opens the saved index of each list (under
``COSEA_HOME/indexes/``), catches up with the store's changes since the index was
saved, builds it from the store the first time, and then matches
:class:`~cosea.media.hashing.FileHashes`, files or whole folders. Triage, the
service and ``cosea media match`` all go through it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cosea.errors import NotFound
from cosea.media.hashing import (
    DEFAULT_SIGNALS,
    FileHashes,
    hash_file_detailed,
    iter_files,
    normalise_signals,
)
from cosea.media.match.index import MatchIndex, StaticEntry
from cosea.media.signals.pdq import PDQ_THRESHOLD
from cosea.types import HashMatch

# Robust mode compares each picture many more ways; a slightly tighter limit for the
# transformed comparisons keeps false matches as rare as in default mode (measured in
# benchmarks/media_robustness.py).
ROBUST_VARIANT_THRESHOLD = 28
MATCH_SIGNALS = ("sha256", "md5", "sha1", "pdq", "vpdq")


def index_root() -> Path:
    from cosea.settings import home

    return home() / "indexes"


def index_folder(list_name: str, database_url: str) -> Path:
    """Where a list's index lives: readable name plus a digest of list and database."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", list_name)[:60] or "list"
    key = hashlib.sha256(f"{_redact(database_url)}\n{list_name}".encode()).hexdigest()[:12]
    return index_root() / f"{safe}-{key}"


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1@", url)


@dataclass
class SyncReport:
    list_name: str
    folder: Path | None
    built: bool  # built from the store (first use, or the list was replaced)
    added: int = 0
    enabled: int = 0
    disabled: int = 0
    entries: int = 0
    synced_seq: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "folder": str(self.folder) if self.folder else None,
            "built": self.built,
            "added": self.added,
            "enabled": self.enabled,
            "disabled": self.disabled,
            "entries": self.entries,
            "synced_seq": self.synced_seq,
        }


@contextmanager
def _folder_lock(folder: Path | None) -> Iterator[None]:
    """Serialise load-sync-save of one index between processes (service workers, CLI)."""
    if folder is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: versions are still written atomically
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_list_index(
    store: Any, list_name: str, *, persist: bool = True, rebuild: bool = False
) -> tuple[MatchIndex, SyncReport]:
    """The up-to-date index of one list: loaded, caught up and saved back when changed."""
    info = store.get_list(list_name)  # NotFound names the list
    folder = index_folder(list_name, str(store.engine.url)) if persist else None
    with _folder_lock(folder):
        return _open_locked(store, info, list_name, folder, rebuild)


def _open_locked(
    store: Any, info: Any, list_name: str, folder: Path | None, rebuild: bool
) -> tuple[MatchIndex, SyncReport]:
    index: MatchIndex | None = None
    if folder is not None and not rebuild:
        try:
            index = MatchIndex.load(folder)
        except (FileNotFoundError, ValueError, KeyError, OSError):
            index = None  # missing or unreadable: rebuilt below
        if index is not None:
            replaced = index.list_id != info.id or any(
                name == list_name for name, _ in store.deleted_since(index.synced_seq)
            )
            if replaced:
                index = None
    report = SyncReport(list_name, folder, built=index is None)
    if index is None:
        index = MatchIndex(list_name)
        index.list_id = info.id
        # Read the sequence first: anything changed while we read is caught up next time.
        index.synced_seq = store.current_seq()
        report.added = index.add_entries(store.iter_entries(list_name=list_name))
        if not info.enabled:
            index.disable_list(list_name)
    else:
        counts = index.apply_changes(store.changes_since(index.synced_seq, lists=[list_name]))
        report.added, report.enabled, report.disabled = (
            counts["added"],
            counts["enabled"],
            counts["disabled"],
        )
    if folder is not None and (index.changed or report.built):
        index.save(folder)
    report.entries = len(index)
    report.synced_seq = index.synced_seq
    return index, report


class Matcher:
    """Match hashes, files and folders against one or more list indexes."""

    def __init__(
        self,
        indexes: Sequence[MatchIndex],
        *,
        threshold: int = PDQ_THRESHOLD,
        robust: bool = False,
        variant_threshold: int = ROBUST_VARIANT_THRESHOLD,
        match_low_quality: bool = False,
        signals: Sequence[str] = MATCH_SIGNALS,
    ) -> None:
        self.indexes = list(indexes)
        self.threshold = threshold
        self.robust = robust
        self.variant_threshold = variant_threshold
        self.match_low_quality = match_low_quality
        self.signals = tuple(signals)
        self.reports: list[SyncReport] = []

    # ----------------------------------------------------------- construction
    @classmethod
    def for_lists(
        cls,
        names: Sequence[str] | None = None,
        engine: Any = None,
        robust: bool = False,
        *,
        threshold: int = PDQ_THRESHOLD,
        persist: bool = True,
        rebuild: bool = False,
        **options: Any,
    ) -> Matcher:
        """A matcher over the named lists (all lists when ``names`` is None)."""
        from cosea.media.lists import ListStore

        store = ListStore(engine)
        if names is None:
            names = [info.name for info in store.lists()]
        elif not names:
            raise NotFound("no hash list given to match against")
        indexes = []
        reports = []
        for name in names:
            index, report = open_list_index(store, name, persist=persist, rebuild=rebuild)
            indexes.append(index)
            reports.append(report)
        matcher = cls(indexes, threshold=threshold, robust=robust, **options)
        matcher.reports = reports
        return matcher

    @classmethod
    def from_entries(cls, entries: Iterable[Any], robust: bool = False, **options: Any) -> Matcher:
        """A matcher over entries held in memory (no database, nothing saved)."""
        index = MatchIndex("memory")
        index.add_entries(entries)
        return cls([index], robust=robust, **options)

    # --------------------------------------------------------------- matching
    def match_hashes(
        self, hashes: FileHashes, variants: dict[str, str] | None = None
    ) -> list[HashMatch]:
        """Every list entry matching these hashes, nearest first.

        ``variants`` are the robust-mode query variants of the picture (see
        :func:`cosea.media.match.robust.query_variants`); ``FileHashes.pdq_variants``
        is used when not given.
        """
        matches: list[HashMatch] = []
        for signal in ("sha256", "md5", "sha1"):
            value = getattr(hashes, signal)
            if value and signal in self.signals:
                for index in self.indexes:
                    matches.extend(index.match_exact(signal, value))
        for signal, value in hashes.extra.items():
            if signal in self.signals:
                for index in self.indexes:
                    matches.extend(index.match_exact(signal, value))
        wants_pdq = hashes.pdq and "pdq" in self.signals
        if wants_pdq and (not hashes.pdq_low_quality or self.match_low_quality):
            queries = {"original": hashes.pdq}
            if self.robust:
                queries.update(variants if variants is not None else hashes.pdq_variants)
            for index in self.indexes:
                matches.extend(
                    index.match_pdq(
                        queries,
                        threshold=self.threshold,
                        variant_threshold=self.variant_threshold,
                        use_index_variants=self.robust,
                    )
                )
        if hashes.vpdq and "vpdq" in self.signals:
            for index in self.indexes:
                matches.extend(index.match_video(hashes.vpdq))
        matches.sort(key=lambda m: (m.distance, m.list_name, m.signal, m.entry_id or 0))
        return matches

    def hash_signals(self) -> tuple[str, ...]:
        wanted = ["sha256", "md5", "sha1", "pdq", "vpdq"]
        return normalise_signals([s for s in wanted if s in self.signals] or DEFAULT_SIGNALS)

    def match_file(self, path: str | Path) -> list[HashMatch]:
        return self.match_file_detailed(path)[1]

    def match_file_detailed(self, path: str | Path) -> tuple[FileHashes, list[HashMatch]]:
        hashes = hash_file_robust(path, self.hash_signals(), self.robust)
        return hashes, self.match_hashes(hashes)

    def match_record(self, path: str | Path) -> dict[str, Any]:
        hashes, matches = self.match_file_detailed(path)
        return match_record(hashes, matches)

    def match_paths(
        self, paths: Iterable[str | Path], workers: int | None = None, pool: Any = None
    ) -> Iterator[tuple[FileHashes, list[HashMatch]]]:
        """Hash files and folders in parallel (robust variants included), match here."""
        hashed = hash_paths_for_matching(paths, self.hash_signals(), self.robust, workers, pool)
        for hashes in hashed:
            yield hashes, self.match_hashes(hashes)


def match_record(hashes: FileHashes, matches: list[HashMatch]) -> dict[str, Any]:
    """The JSON line ``cosea media match`` writes for one file."""
    record: dict[str, Any] = {
        "path": hashes.path,
        "sha256": hashes.sha256,
        "pdq": hashes.pdq,
        "matches": [m.to_dict() for m in matches],
    }
    if hashes.pdq_low_quality:
        record["pdq_low_quality"] = True
    if hashes.error:
        record["error"] = hashes.error
    if hashes.notes:
        record["notes"] = list(hashes.notes)
    return record


def hash_file_robust(path: str | Path, signals: Sequence[str], robust: bool) -> FileHashes:
    """Hash a file; in robust mode also its query variants (``pdq_variants``)."""
    hashes, image = hash_file_detailed(path, signals, keep_image=robust)
    if robust and image is not None:
        from cosea.media.match.robust import query_variants

        hashes.pdq_variants = query_variants(image)
    return hashes


def _hash_for_matching(args: tuple[str, tuple[str, ...], bool]) -> FileHashes:
    path, signals, robust = args
    return hash_file_robust(path, signals, robust)


def hash_paths_for_matching(
    paths: Iterable[str | Path],
    signals: Sequence[str],
    robust: bool,
    workers: int | None = None,
    pool: Any = None,
) -> Iterator[FileHashes]:
    import os

    from cosea.media.hashing import process_pool

    jobs = ((str(p), tuple(signals), robust) for p in iter_files(paths))
    if pool is not None:
        yield from pool.map(_hash_for_matching, jobs, chunksize=8)
        return
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1:
        yield from map(_hash_for_matching, jobs)
        return
    with process_pool(count) as own_pool:
        yield from own_pool.map(_hash_for_matching, jobs, chunksize=8)


__all__ = [
    "Matcher",
    "StaticEntry",
    "SyncReport",
    "hash_file_robust",
    "index_folder",
    "index_root",
    "match_record",
    "open_list_index",
]
