"""A triage case: one SQLite database per case (``<cases-dir>/<NAME>/case.db``).

The case is a self-contained forensic artefact that travels with the evidence, so
it is a plain SQLite file of its own rather than tables in the project database:
it can be copied, archived and opened years later by any SQLite reader. Its schema
is versioned with ``PRAGMA user_version``.

Crash safety: the database runs in WAL mode with ``synchronous=FULL`` and every
change happens inside an explicit ``BEGIN IMMEDIATE`` … ``COMMIT``; a process
killed at any point leaves the last committed state, never a half-written one.
Only the scanning process writes (workers send their results to it).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cosea import settings
from cosea.errors import InputError, NotFound

SCHEMA_VERSION = 1
CASE_FILE = "case.db"
_CASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# Columns of the files table a worker's record fills (in insert order).
FILE_COLUMNS = (
    "path",
    "source",
    "container",
    "depth",
    "name",
    "original_name",
    "extension",
    "size",
    "mtime_ns",
    "mtime",
    "ctime",
    "atime",
    "member_crc",
    "detected_type",
    "mime",
    "type_group",
    "archive_kind",
    "ext_mismatch",
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "pdq_low_quality",
    "vpdq",
    "exif",
    "taken_at",
    "camera_make",
    "camera_model",
    "gps_lat",
    "gps_lon",
    "software",
    "status",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL,          -- running | completed | interrupted
    examiner TEXT,
    settings TEXT NOT NULL,        -- JSON
    summary TEXT                   -- JSON, set at the end
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,            -- folder | file
    sha256 TEXT,                   -- file: its SHA-256; folder: the manifest hash
    manifest_files INTEGER,
    size INTEGER,
    hashed_at TEXT
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,     -- logical path: /src/a.zip!/dir/b.jpg
    source TEXT NOT NULL,          -- the source path it was found under
    container TEXT,                -- logical path of the archive holding it (NULL on disk)
    depth INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    original_name TEXT,            -- the raw archive name when it had to be neutralised
    extension TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    mtime TEXT,
    ctime TEXT,
    atime TEXT,
    member_crc INTEGER,
    detected_type TEXT,
    mime TEXT,
    type_group TEXT,
    archive_kind TEXT,             -- zip | tar | 7z | compressed when opened as an archive
    ext_mismatch INTEGER NOT NULL DEFAULT 0,
    md5 TEXT,
    sha1 TEXT,
    sha256 TEXT,
    pdq TEXT,
    pdq_quality INTEGER,
    pdq_low_quality INTEGER,
    vpdq TEXT,
    exif TEXT,
    taken_at TEXT,
    camera_make TEXT,
    camera_model TEXT,
    gps_lat REAL,
    gps_lon REAL,
    software TEXT,
    status TEXT NOT NULL,          -- ok | error
    known INTEGER NOT NULL DEFAULT 0,
    known_source TEXT,
    cluster_id INTEGER,
    scan_id INTEGER NOT NULL,
    seen_scan INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files(sha256);
CREATE INDEX IF NOT EXISTS files_container ON files(container);
CREATE INDEX IF NOT EXISTS files_cluster ON files(cluster_id);
CREATE TABLE IF NOT EXISTS containers (
    path TEXT PRIMARY KEY,         -- logical path of an archive
    size INTEGER,
    mtime_ns INTEGER,
    member_crc INTEGER,
    status TEXT NOT NULL,          -- complete (every member stored)
    members INTEGER,
    scan_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    list_name TEXT NOT NULL,
    signal TEXT NOT NULL,
    hash TEXT NOT NULL,
    distance INTEGER NOT NULL,
    category TEXT,
    entry_id INTEGER,
    UNIQUE (file_id, list_name, signal, hash)
);
CREATE INDEX IF NOT EXISTS matches_file ON matches(file_id);
CREATE TABLE IF NOT EXISTS clusters (
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL,
    representative INTEGER NOT NULL,
    max_distance INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chat_assessments (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL,
    reader TEXT,
    risk REAL,
    class TEXT,
    suspect TEXT,
    stage TEXT,
    alert INTEGER NOT NULL,
    alert_message TEXT,
    messages INTEGER,
    tactics TEXT,                  -- JSON list
    techniques TEXT,               -- JSON {message id: [technique ids]}
    evidence TEXT,                 -- JSON list
    UNIQUE (file_id, conversation_id)
);
CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    scan_id INTEGER NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (path, kind)
);
CREATE TABLE IF NOT EXISTS custody (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    actor TEXT,
    data TEXT NOT NULL,            -- JSON
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS custody_no_update BEFORE UPDATE ON custody
BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS custody_no_delete BEFORE DELETE ON custody
BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
"""


_UPSERT_FILE = (
    f"INSERT INTO files({', '.join(FILE_COLUMNS)}, scan_id, seen_scan) "
    f"VALUES ({', '.join('?' for _ in FILE_COLUMNS)}, ?, ?) ON CONFLICT(path) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in FILE_COLUMNS if c != "path")
    + ", scan_id = excluded.scan_id, seen_scan = excluded.seen_scan, known = 0, "
    "known_source = NULL RETURNING id"
)


# The batch form: known flags are columns of the row, no id is returned.
UPSERT_FILE_ROW = (
    f"INSERT INTO files({', '.join(FILE_COLUMNS)}, scan_id, seen_scan, known, known_source) "
    f"VALUES ({', '.join('?' for _ in FILE_COLUMNS)}, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in FILE_COLUMNS if c != "path")
    + ", scan_id = excluded.scan_id, seen_scan = excluded.seen_scan, "
    "known = excluded.known, known_source = excluded.known_source"
)


def file_row(record: Mapping[str, Any], scan_id: int, known: str | None) -> list[Any]:
    """The values of :data:`UPSERT_FILE_ROW` for one record (hot path: one per file)."""
    row = [record.get(name) for name in FILE_COLUMNS]
    for index in _FLAG_INDEXES:
        row[index] = 1 if row[index] else 0
    for index in _JSON_INDEXES:
        if row[index] is not None:
            row[index] = json.dumps(row[index], sort_keys=True, default=str)
    for index in _TEXT_INDEXES:
        value = row[index]
        if value is not None and not value.isascii():
            row[index] = db_text(value)
    row += [scan_id, scan_id, 1 if known else 0, known]
    return row


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def cases_dir(override: Path | str | None = None) -> Path:
    """Where cases live: ``override`` or ``COSEA_HOME/cases``."""
    return Path(override) if override else settings.home() / "cases"


def check_case_name(name: str) -> str:
    if not _CASE_NAME.match(name) or name in {".", ".."}:
        raise InputError(
            name,
            "a case name may hold letters, digits, '.', '_' and '-' only "
            "(at most 128 characters, starting with a letter or digit)",
        )
    return name


def case_path(name_or_path: str | Path, cases_root: Path | str | None = None) -> Path:
    """The ``case.db`` of an existing case, given its name, its folder or the file itself."""
    candidate = Path(name_or_path)
    if candidate.is_file() and candidate.name == CASE_FILE:
        return candidate
    if candidate.is_dir() and (candidate / CASE_FILE).is_file():
        return candidate / CASE_FILE
    by_name = cases_dir(cases_root) / str(name_or_path) / CASE_FILE
    if by_name.is_file():
        return by_name
    raise NotFound(f"no case named {str(name_or_path)!r} (looked in {cases_dir(cases_root)})")


class Case:
    """An open case database. Not thread-safe; one writer process at a time."""

    def __init__(self, db_path: Path, connection: sqlite3.Connection) -> None:
        self.db_path = db_path
        self.conn = connection

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create_or_open(cls, name: str, cases_root: Path | str | None = None) -> Case:
        check_case_name(name)
        folder = cases_dir(cases_root) / name
        folder.mkdir(parents=True, exist_ok=True)
        return cls._connect(folder / CASE_FILE, name=name)

    @classmethod
    def open(cls, name_or_path: str | Path, cases_root: Path | str | None = None) -> Case:
        return cls._connect(case_path(name_or_path, cases_root))

    @classmethod
    def _connect(cls, db_path: Path, name: str | None = None) -> Case:
        if db_path.exists() and not os.access(db_path, os.W_OK):
            return cls._connect_read_only(db_path)
        try:
            conn = sqlite3.connect(db_path, isolation_level=None, timeout=60)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=60000")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "readonly" in str(error) and db_path.exists():
                return cls._connect_read_only(db_path)
            raise InputError(db_path, f"not a readable case database ({error})") from error
        except sqlite3.DatabaseError as error:
            raise InputError(db_path, f"not a readable case database ({error})") from error
        if version > SCHEMA_VERSION:
            raise InputError(
                db_path, f"case schema {version} is newer than this cosea ({SCHEMA_VERSION})"
            )
        case = cls(db_path, conn)
        if version < SCHEMA_VERSION:
            with case.transaction():
                for statement in _split_sql(_SCHEMA):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                now = utc_now()
                conn.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('name', ?), ('created_at', ?)",
                    (name or db_path.parent.name, now),
                )
        return case

    @classmethod
    def _connect_read_only(cls, db_path: Path) -> Case:
        """A case on read-only storage: it can be read and verified, not changed.

        Anything that must be recorded in custody (a report, a view) then fails with
        SQLite's read-only error rather than happening unrecorded. A WAL database in a
        folder that cannot be written needs ``immutable=1`` (nothing can change it).
        """
        last_error: sqlite3.DatabaseError | None = None
        for mode in ("mode=ro", "immutable=1"):
            try:
                conn = sqlite3.connect(f"file:{db_path.resolve()}?{mode}", uri=True, timeout=60)
                conn.row_factory = sqlite3.Row
                version = conn.execute("PRAGMA user_version").fetchone()[0]
            except sqlite3.DatabaseError as error:
                last_error = error
                continue
            if version != SCHEMA_VERSION:
                raise InputError(
                    db_path, f"case schema {version}; this cosea reads {SCHEMA_VERSION}"
                )
            return cls(db_path, conn)
        raise InputError(db_path, f"not a readable case database ({last_error})")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
        for attempt in range(50):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    # -- meta ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.meta("name") or self.db_path.parent.name

    @property
    def folder(self) -> Path:
        return self.db_path.parent

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- scans -----------------------------------------------------------------------------

    def start_scan(self, examiner: str | None, scan_settings: Mapping[str, Any]) -> int:
        """Open a scan row; scans left 'running' by a killed process become 'interrupted'."""
        self.conn.execute("UPDATE scans SET status = 'interrupted' WHERE status = 'running'")
        cursor = self.conn.execute(
            "INSERT INTO scans(started_at, status, examiner, settings) VALUES (?, 'running', ?, ?)",
            (utc_now(), examiner, json.dumps(dict(scan_settings), sort_keys=True, default=str)),
        )
        return int(cursor.lastrowid or 0)

    def end_scan(self, scan_id: int, summary: Mapping[str, Any]) -> None:
        self.conn.execute(
            "UPDATE scans SET ended_at = ?, status = 'completed', summary = ? WHERE id = ?",
            (utc_now(), json.dumps(dict(summary), sort_keys=True, default=str), scan_id),
        )

    def interrupted_scans(self) -> list[int]:
        """Scans that stopped before their end since the last one that completed."""
        last = self.count("SELECT COALESCE(MAX(id), 0) FROM scans WHERE status = 'completed'")
        return [
            int(r[0])
            for r in self.conn.execute(
                "SELECT id FROM scans WHERE status IN ('running', 'interrupted') AND id > ? "
                "ORDER BY id",
                (last,),
            )
        ]

    # -- sources ---------------------------------------------------------------------------

    def upsert_source(self, path: str, kind: str) -> int:
        self.conn.execute(
            "INSERT INTO sources(path, kind) VALUES (?, ?) "
            "ON CONFLICT(path) DO UPDATE SET kind = excluded.kind",
            (path, kind),
        )
        return int(
            self.conn.execute("SELECT id FROM sources WHERE path = ?", (path,)).fetchone()[0]
        )

    def set_source_hash(self, path: str, sha256: str, files: int, size: int) -> None:
        self.conn.execute(
            "UPDATE sources SET sha256 = ?, manifest_files = ?, size = ?, hashed_at = ? "
            "WHERE path = ?",
            (sha256, files, size, utc_now(), path),
        )

    def sources(self) -> list[sqlite3.Row]:
        return list(self.conn.execute("SELECT * FROM sources ORDER BY id"))

    # -- files -----------------------------------------------------------------------------

    def known_top_level(self, source: str) -> dict[str, tuple[int, int, str | None]]:
        """Files stored directly on disk under ``source``: path -> (size, mtime_ns, archive)."""
        return {
            row[0]: (row[1], row[2], row[3])
            for row in self.conn.execute(
                "SELECT path, size, mtime_ns, archive_kind FROM files "
                "WHERE source = ? AND container IS NULL AND status = 'ok'",
                (source,),
            )
        }

    def members_under(self, container: str) -> dict[str, tuple[Any, ...]]:
        """Stored records inside ``container`` (nested too): path -> (size, mtime_ns, crc,
        opened as an archive)."""
        prefix = container + "!/"
        return {
            row[0]: (row[1], row[2], row[3], row[4] is not None)
            for row in self.conn.execute(
                "SELECT path, size, mtime_ns, member_crc, archive_kind FROM files "
                "WHERE path >= ? AND path < ? AND status = 'ok'",
                (prefix, prefix[:-1] + chr(ord("/") + 1)),
            )
        }

    def complete_containers(self, under: str | None = None) -> dict[str, tuple[Any, ...]]:
        """Archives whose every member is stored: path -> (size, mtime_ns, crc)."""
        if under is None:
            rows = self.conn.execute(
                "SELECT path, size, mtime_ns, member_crc FROM containers WHERE status = 'complete'"
            )
        else:
            prefix = under + "!/"
            rows = self.conn.execute(
                "SELECT path, size, mtime_ns, member_crc FROM containers "
                "WHERE status = 'complete' AND (path = ? OR (path >= ? AND path < ?))",
                (under, prefix, prefix[:-1] + chr(ord("/") + 1)),
            )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def forget_container(self, container: str) -> None:
        """Drop what was stored from an archive that changed since (its members may differ)."""
        prefix = container + "!/"
        upper = prefix[:-1] + chr(ord("/") + 1)
        self.conn.execute("DELETE FROM files WHERE path >= ? AND path < ?", (prefix, upper))
        self.conn.execute(
            "DELETE FROM containers WHERE path = ? OR (path >= ? AND path < ?)",
            (container, prefix, upper),
        )

    def mark_container(self, path: str, info: Mapping[str, Any], scan_id: int) -> None:
        self.conn.execute(
            "INSERT INTO containers(path, size, mtime_ns, member_crc, status, members, scan_id) "
            "VALUES (?, ?, ?, ?, 'complete', ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "member_crc = excluded.member_crc, status = 'complete', "
            "members = excluded.members, scan_id = excluded.scan_id",
            (
                path,
                info.get("size"),
                info.get("mtime_ns"),
                info.get("member_crc"),
                info.get("members"),
                scan_id,
            ),
        )

    def max_file_id(self) -> int:
        return self.count("SELECT COALESCE(MAX(id), 0) FROM files")

    def store_file(
        self, record: Mapping[str, Any], scan_id: int, new_after: int | None = None
    ) -> int:
        """Insert or replace one file record; returns its id. Caller holds the transaction.

        ``new_after``: ids above it were created by this run, so they have no matches or
        chat results from earlier runs to clear (saves two statements per new file).
        """
        values = [_column_value(name, record.get(name)) for name in FILE_COLUMNS]
        file_id = int(self.conn.execute(_UPSERT_FILE, [*values, scan_id, scan_id]).fetchone()[0])
        if new_after is None or file_id <= new_after:
            self.conn.execute("DELETE FROM matches WHERE file_id = ?", (file_id,))
            self.conn.execute("DELETE FROM chat_assessments WHERE file_id = ?", (file_id,))
        return file_id

    def mark_seen(self, paths: Iterable[str], scan_id: int) -> None:
        self.conn.executemany(
            "UPDATE files SET seen_scan = ? WHERE path = ?", ((scan_id, p) for p in paths)
        )

    def mark_seen_under(self, container: str, scan_id: int) -> None:
        prefix = container + "!/"
        self.conn.execute(
            "UPDATE files SET seen_scan = ? WHERE path = ? OR (path >= ? AND path < ?)",
            (scan_id, container, prefix, prefix[:-1] + chr(ord("/") + 1)),
        )

    def mark_known(self, file_id: int, known_source: str) -> None:
        self.conn.execute(
            "UPDATE files SET known = 1, known_source = ? WHERE id = ?", (known_source, file_id)
        )

    def add_match(self, file_id: int, match: Mapping[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO matches(file_id, list_name, signal, hash, distance, category, "
            "entry_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                file_id,
                match["list"],
                match["signal"],
                match["hash"],
                int(match["distance"]),
                match.get("category"),
                match.get("entry_id"),
            ),
        )

    def add_chat_assessment(self, file_id: int, assessment: Mapping[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO chat_assessments(file_id, conversation_id, reader, risk, "
            "class, suspect, stage, alert, alert_message, messages, tactics, techniques, "
            "evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                file_id,
                assessment["conversation_id"],
                assessment.get("reader"),
                assessment.get("risk"),
                assessment.get("class"),
                assessment.get("suspect"),
                assessment.get("stage"),
                1 if assessment.get("alert") else 0,
                assessment.get("alert_message"),
                assessment.get("messages_seen"),
                json.dumps(assessment.get("tactics_seen") or []),
                json.dumps(assessment.get("techniques") or {}, sort_keys=True),
                json.dumps(assessment.get("evidence") or [], sort_keys=True, default=str),
            ),
        )

    def add_error(self, path: str, kind: str, reason: str, scan_id: int) -> None:
        self.conn.execute(
            "INSERT INTO errors(path, kind, reason, scan_id, at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(path, kind) DO UPDATE SET reason = excluded.reason, "
            "scan_id = excluded.scan_id, at = excluded.at",
            (db_text(path), kind, db_text(reason)[:2000], scan_id, utc_now()),
        )

    def file(self, file_id: int) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is None:
            raise NotFound(f"case {self.name!r} has no file with id {file_id}")
        return row

    def count(self, sql: str, params: Iterable[Any] = ()) -> int:
        return int(self.conn.execute(sql, tuple(params)).fetchone()[0] or 0)


def db_text(value: str) -> str:
    """A path as stored: names that are not valid UTF-8 keep their bytes as ``\\xNN``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return value


_TEXT_COLUMNS = frozenset({"path", "source", "container", "name", "original_name"})
_FLAG_INDEXES = tuple(
    i for i, c in enumerate(FILE_COLUMNS) if c in {"ext_mismatch", "pdq_low_quality"}
)
_JSON_INDEXES = tuple(i for i, c in enumerate(FILE_COLUMNS) if c in {"exif", "vpdq"})
_TEXT_INDEXES = tuple(i for i, c in enumerate(FILE_COLUMNS) if c in _TEXT_COLUMNS)


def _column_value(name: str, value: Any) -> Any:
    if name in {"ext_mismatch", "pdq_low_quality"}:
        return 1 if value else 0
    if value is None:
        return None
    if name in _TEXT_COLUMNS:
        return db_text(str(value))
    if name in {"exif", "vpdq"}:
        return json.dumps(value, sort_keys=True, default=str)
    return value


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script; triggers keep their inner ';' together."""
    statements: list[str] = []
    current: list[str] = []
    in_trigger = False
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        if stripped.upper().startswith("CREATE TRIGGER"):
            in_trigger = True
        if stripped.endswith(";") and (not in_trigger or stripped.upper().endswith("END;")):
            statements.append("\n".join(current))
            current = []
            in_trigger = False
    return statements
