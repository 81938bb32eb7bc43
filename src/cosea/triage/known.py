"""Known files (NSRL or a known-files list) and the hash lists a case is matched against.

Both run in the scanning process, on the records the workers send: lookups are
cheap next to hashing, and one loaded index serves every worker.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cosea.errors import InputError, NotFound

_HASH_COLUMNS = ("sha256", "sha1", "md5")


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class NsrlKnownFiles:
    """An NSRL RDSv3 SQLite database, read in place (read-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        try:
            self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            names = {
                row[0].upper()
                for row in self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                )
            }
        except sqlite3.DatabaseError as error:
            raise InputError(path, f"not an NSRL RDSv3 SQLite database ({error})") from None
        relation = next((v for v in ("DISTINCT_HASH", "FILE") if v in names), None)
        if relation is None:
            raise InputError(path, "no DISTINCT_HASH or FILE view: not an NSRL RDSv3 database")
        columns = {row[1].lower() for row in self.conn.execute(f"PRAGMA table_info({relation})")}
        self.column = next((c for c in _HASH_COLUMNS if c in columns), None)
        if self.column is None:
            raise InputError(path, f"{relation} has none of the columns {_HASH_COLUMNS}")
        self.relation = relation
        self.label = f"NSRL {self.path.name}"
        plan = " ".join(
            str(row[-1])
            for row in self.conn.execute(
                f"EXPLAIN QUERY PLAN SELECT 1 FROM {relation} WHERE {self.column} = ?", ("x",)
            )
        )
        # Without an index every lookup would scan the whole table: load the hashes once.
        self._in_memory: set[str] | None = None
        if "USING" not in plan.upper():
            self._in_memory = {
                str(row[0]).lower()
                for row in self.conn.execute(f"SELECT {self.column} FROM {relation}")
                if row[0]
            }

    def describe(self) -> dict[str, Any]:
        stat = self.path.stat()
        return {
            "kind": "nsrl",
            "path": str(self.path),
            "size": stat.st_size,
            "sha256": file_sha256(self.path),
            "relation": self.relation,
            "signal": self.column,
        }

    def lookup(self, record: dict[str, Any]) -> str | None:
        value = record.get(self.column)
        if not value:
            return None
        if self._in_memory is not None:
            return self.label if value.lower() in self._in_memory else None
        # Both spellings, so the index on the column serves the lookup (NSRL writes upper case).
        row = self.conn.execute(
            f"SELECT 1 FROM {self.relation} WHERE {self.column} IN (?, ?) LIMIT 1",
            (value.upper(), value.lower()),
        ).fetchone()
        return self.label if row else None

    def close(self) -> None:
        self.conn.close()


class ListKnownFiles:
    """A known-files list in the project's list store.

    Lists up to ``IN_MEMORY_ENTRIES`` are loaded into sets once (a lookup per file
    through the store would cost milliseconds); larger ones are looked up one by one.
    """

    IN_MEMORY_ENTRIES = 5_000_000

    def __init__(self, name: str) -> None:
        from cosea.triage.adapters import list_store

        self.store = list_store()
        self.info = self.store.get_list(name)
        self.name = name
        self.label = f"list {name}"
        self._sets: dict[str, set[str]] | None = None
        if int(self.store.stats(name).get("enabled", 0)) <= self.IN_MEMORY_ENTRIES:
            self._sets = {signal: set() for signal in _HASH_COLUMNS}
            for entry in self.store.iter_entries(name, enabled_only=True):
                if entry.signal in self._sets:
                    self._sets[entry.signal].add(entry.hash.lower())

    def describe(self) -> dict[str, Any]:
        return {"kind": "list", "list": self.name, "digest": self.store.list_digest(self.name)}

    def lookup(self, record: dict[str, Any]) -> str | None:
        for signal in _HASH_COLUMNS:
            value = record.get(signal)
            if not value:
                continue
            if self._sets is not None:
                if value.lower() in self._sets[signal]:
                    return self.label
            elif self.store.lookup(signal, value, [self.name]):
                return self.label
        return None

    def close(self) -> None:
        pass


def open_known_files(spec: str | None) -> NsrlKnownFiles | ListKnownFiles | None:
    """``--known-files``: a path to an NSRL RDSv3 SQLite file, or the name of a list."""
    if not spec:
        return None
    candidate = Path(spec).expanduser()
    if candidate.is_file():
        return NsrlKnownFiles(candidate)
    try:
        return ListKnownFiles(spec)
    except NotFound as error:
        raise NotFound(
            f"--known-files {spec!r} is neither an NSRL database file nor a list ({error})"
        ) from None


class CaseMatcher:
    """Matches records against hash lists: the media matcher, or exact + PDQ lookups."""

    def __init__(self, names: Sequence[str], robust: bool = False) -> None:
        self.names = list(names)
        self.robust = robust
        self._matcher: Any = None
        self._store: Any = None
        if not self.names:
            return
        from cosea.triage.adapters import list_store

        self._store = list_store()
        for name in self.names:
            self._store.get_list(name)  # NotFound names the missing list
        try:
            from cosea.media.match import Matcher
        except ImportError:
            Matcher = None
        if Matcher is not None:
            self._matcher = Matcher.for_lists(self.names, robust=robust)
        else:
            self._fallback_index()

    def _fallback_index(self) -> None:
        import faiss

        from cosea.triage.clusters import pdq_matrix

        self._exact: dict[tuple[str, str], list[Any]] = {}
        pdq_entries = []
        for name in self.names:
            for entry in self._store.iter_entries(name, enabled_only=True):
                if entry.signal == "pdq":
                    pdq_entries.append(entry)
                elif entry.signal in _HASH_COLUMNS:
                    self._exact.setdefault((entry.signal, entry.hash.lower()), []).append(entry)
        self._pdq_entries = pdq_entries
        self._pdq_index = faiss.IndexBinaryFlat(256)
        if pdq_entries:
            self._pdq_index.add(pdq_matrix([e.hash for e in pdq_entries]))

    def describe(self) -> list[dict[str, Any]]:
        if self._store is None:
            return []
        return [
            {
                "list": name,
                "digest": self._store.list_digest(name),
                "scheme": self._store.get_list(name).category_scheme,
                "kind": self._store.get_list(name).kind,
            }
            for name in self.names
        ]

    def match(self, record: dict[str, Any], threshold: int = 31) -> list[dict[str, Any]]:
        if not self.names:
            return []
        if self._matcher is not None:
            from cosea.triage.adapters import file_hashes

            return [m.to_dict() for m in self._matcher.match_hashes(file_hashes(record))]
        found: list[dict[str, Any]] = []
        for signal in _HASH_COLUMNS:
            value = record.get(signal)
            if not value:
                continue
            for entry in self._exact.get((signal, value.lower()), ()):
                found.append(
                    {
                        "list": entry.list_name,
                        "signal": signal,
                        "hash": entry.hash,
                        "distance": 0,
                        "category": entry.category,
                        "entry_id": entry.id,
                    }
                )
        pdq = record.get("pdq")
        if pdq and not record.get("pdq_low_quality") and self._pdq_entries:
            from cosea.triage.clusters import pdq_matrix

            limits, distances, labels = self._pdq_index.range_search(
                pdq_matrix([pdq]), threshold + 1
            )
            for position in range(limits[0], limits[1]):
                entry = self._pdq_entries[int(labels[position])]
                found.append(
                    {
                        "list": entry.list_name,
                        "signal": "pdq",
                        "hash": entry.hash,
                        "distance": int(distances[position]),
                        "category": entry.category,
                        "entry_id": entry.id,
                    }
                )
        return found
