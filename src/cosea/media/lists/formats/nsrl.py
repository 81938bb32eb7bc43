"""NIST NSRL RDSv3 SQLite: known files, imported as a filter list.

An RDSv3 database offers the ``FILE`` view (``sha256, sha1, md5, file_name,
file_size, package_id``, one row per file in a package) and the ``DISTINCT_HASH``
view (``sha256, sha1, md5``, one row per distinct file). ``-o view=FILE`` or
``-o view=DISTINCT_HASH`` chooses (default: DISTINCT_HASH where present). Which
hashes become entries: ``--signal`` (comma-separated; default ``sha256``, which
cosea computes for every file; add ``md5,sha1`` for tools that only have those).
Rows are named ``VIEW row N`` in problems. The list is a ``known-files`` list
whose entries let triage and matching set known files aside.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosea.errors import InputError
from cosea.media.lists.formats import (
    Item,
    Problem,
    ReadOptions,
    Record,
    WriteOptions,
    register_format,
)

if TYPE_CHECKING:
    from cosea.media.lists.store import HashEntry, HashListInfo

VIEWS = ("DISTINCT_HASH", "FILE")
HASH_COLUMNS = ("sha256", "sha1", "md5")
_FETCH = 10_000


def _open_readonly(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as error:
        connection.close()
        raise InputError(path, f"not an SQLite database ({error})") from None
    return connection


class NsrlFormat:
    name = "nsrl"
    description = "NIST NSRL RDSv3 SQLite (FILE or DISTINCT_HASH view) as a known-files list"
    suffix = ".db"

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        signals = [s.strip().lower() for s in (options.signal or "sha256").split(",") if s.strip()]
        for signal in signals:
            if signal not in HASH_COLUMNS:
                raise InputError(
                    path,
                    f"NSRL has {', '.join(HASH_COLUMNS)} hashes; --signal {signal!r} is not one",
                )
        connection = _open_readonly(path)
        try:
            view = self._view(path, connection, options.extra.get("view"))
            columns = self._columns(path, connection, view)
            wanted = list(HASH_COLUMNS) + [
                c for c in ("file_name", "file_size", "package_id") if c in columns
            ]
            missing = [c for c in signals if c not in columns]
            if missing:
                raise InputError(path, f"view {view} has no column {', '.join(missing)}")
            try:
                cursor = connection.execute(
                    f'SELECT {", ".join(c for c in wanted if c in columns)} FROM "{view}"'
                )
                names = [d[0] for d in cursor.description]
                number = 0
                while rows := cursor.fetchmany(_FETCH):
                    for row in rows:
                        number += 1
                        yield from self._records(
                            dict(zip(names, row, strict=True)), signals, view, number
                        )
            except sqlite3.DatabaseError as error:
                raise InputError(path, f"reading view {view} failed: {error}") from None
        finally:
            connection.close()

    @staticmethod
    def _view(path: Path, connection: sqlite3.Connection, requested: str | None) -> str:
        present = {
            row[0].upper()
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('view', 'table')"
            )
        }
        if requested:
            view = requested.strip().upper()
            if view not in VIEWS:
                raise InputError(path, f"view {requested!r}: use FILE or DISTINCT_HASH")
            if view not in present:
                raise InputError(path, f"no {view} view: is this an NSRL RDSv3 database?")
            return view
        for view in VIEWS:
            if view in present:
                return view
        raise InputError(path, "no FILE or DISTINCT_HASH view: is this an NSRL RDSv3 database?")

    @staticmethod
    def _columns(path: Path, connection: sqlite3.Connection, view: str) -> set[str]:
        try:
            cursor = connection.execute(f'SELECT * FROM "{view}" LIMIT 0')
        except sqlite3.DatabaseError as error:
            raise InputError(path, f"cannot read view {view}: {error}") from None
        return {d[0].lower() for d in cursor.description}

    @staticmethod
    def _records(row: dict[str, Any], signals: list[str], view: str, number: int) -> Iterator[Item]:
        entry = f"{view} row {number}"
        notes = None
        if row.get("file_name") is not None:
            notes = str(row["file_name"])
            if row.get("file_size") is not None:
                notes += f" ({row['file_size']} bytes, package {row.get('package_id')})"
        external = next((str(row[c]).lower() for c in HASH_COLUMNS if row.get(c)), None)
        found = False
        for signal in signals:
            value = row.get(signal)
            if value is None or not str(value).strip():
                continue
            found = True
            yield Record(
                hash=str(value), signal=signal, entry=entry, notes=notes, external_id=external
            )
        if not found:
            yield Problem(f"no {' or '.join(signals)} hash", entry=entry)

    def write(
        self,
        entries: Iterator[HashEntry],
        path: Path,
        info: HashListInfo,
        options: WriteOptions,
    ) -> int:
        if path.exists():
            path.unlink()
        connection = sqlite3.connect(path)
        count = 0
        try:
            connection.executescript(
                """
                CREATE TABLE METADATA (key TEXT PRIMARY KEY, value TEXT);
                CREATE TABLE COSEA_FILE (
                    sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT,
                    file_name TEXT, file_size INTEGER, package_id INTEGER
                );
                CREATE VIEW FILE AS
                    SELECT sha256, sha1, md5, crc32, file_name, file_size, package_id
                    FROM COSEA_FILE;
                CREATE VIEW DISTINCT_HASH AS
                    SELECT DISTINCT sha256, sha1, md5 FROM COSEA_FILE;
                """
            )
            connection.executemany(
                "INSERT INTO METADATA VALUES (?, ?)",
                [("source", "cosea export"), ("list", info.name), ("format", "RDSv3-shaped")],
            )
            grouped: dict[str, dict[str, Any]] = {}
            loose: list[dict[str, Any]] = []
            for entry in entries:
                if entry.signal not in HASH_COLUMNS:
                    continue
                count += 1
                if entry.external_id:
                    row = grouped.setdefault(entry.external_id, {"notes": entry.notes})
                else:
                    row = {"notes": entry.notes}
                    loose.append(row)
                row[entry.signal] = entry.hash.upper()
            rows = [
                (r.get("sha256"), r.get("sha1"), r.get("md5"), None, r.get("notes"), None, None)
                for r in (*grouped.values(), *loose)
            ]
            connection.executemany("INSERT INTO COSEA_FILE VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            connection.commit()
        finally:
            connection.close()
        return count


register_format(NsrlFormat())
