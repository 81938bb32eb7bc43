"""The case's chain of custody: an append-only, hash-chained audit log.

Every entry's record (its id, time, event, actor and data) is hashed together with
the hash of the entry before it (``cosea.hashchain``), so altering, removing or
reordering any row breaks the chain at that row. Triggers in the case database
refuse UPDATE and DELETE on the table; someone editing the file with raw SQL can
drop them, which is what verification is for. Removing the newest entries cannot be
seen from the chain alone, so the head hash and entry count are also kept in the
case's meta table, printed at the end of each scan and written into every report:
an examiner who notes the head hash elsewhere can prove nothing was cut off.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cosea.errors import CoseaError
from cosea.hashchain import GENESIS, entry_hash, verify_chain
from cosea.triage.case import Case, utc_now

# Events written to the log (documented in docs/triage.md).
EVENTS = (
    "case-created",
    "scan-started",
    "source-hashed",
    "scan-ended",
    "report-exported",
    "file-viewed",
    "case-verified",
)


def _record(entry_id: int, at: str, event: str, actor: str | None, data: Any) -> dict[str, Any]:
    return {"id": entry_id, "at": at, "event": event, "actor": actor, "data": data}


def append(case: Case, event: str, data: Mapping[str, Any], actor: str | None = None) -> str:
    """Append one entry; the caller's transaction (if any) makes it atomic with its cause."""
    conn = case.conn
    own_transaction = not conn.in_transaction
    if own_transaction:
        conn.execute("BEGIN IMMEDIATE")
    try:
        last = conn.execute("SELECT id, hash FROM custody ORDER BY id DESC LIMIT 1").fetchone()
        previous_hash = last[1] if last else GENESIS
        entry_id = (last[0] + 1) if last else 1
        at = utc_now()
        payload = json.loads(json.dumps(dict(data), sort_keys=True, default=str))
        digest = entry_hash(previous_hash, _record(entry_id, at, event, actor, payload))
        conn.execute(
            "INSERT INTO custody(id, at, event, actor, data, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                entry_id,
                at,
                event,
                actor,
                json.dumps(payload, sort_keys=True, ensure_ascii=False),
                previous_hash,
                digest,
            ),
        )
        case.set_meta("custody_head", digest)
        case.set_meta("custody_count", str(entry_id))
    except BaseException:
        if own_transaction:
            conn.execute("ROLLBACK")
        raise
    if own_transaction:
        conn.execute("COMMIT")
    return digest


@contextlib.contextmanager
def recorded_access(case: Case, what: str) -> Iterator[None]:
    """Hold the case's write lock around an access that custody must record.

    The lock is taken first, so a case that cannot be written (read-only storage) is
    refused before anything is shown or written; the caller appends its entry inside.
    """
    try:
        case.conn.execute("BEGIN IMMEDIATE")
        # A harmless write: on read-only storage this is where it shows.
        case.conn.execute("UPDATE meta SET value = value WHERE key = 'name'")
    except sqlite3.OperationalError as error:
        if case.conn.in_transaction:
            case.conn.execute("ROLLBACK")
        raise CoseaError(
            f"{case.db_path}: {what} must be recorded in the case's chain of custody, and "
            f"the case cannot be written ({error}); work on a writable copy"
        ) from None
    try:
        yield
    except BaseException:
        case.conn.execute("ROLLBACK")
        raise
    case.conn.execute("COMMIT")


def entries(case: Case) -> list[dict[str, Any]]:
    rows = case.conn.execute(
        "SELECT id, at, event, actor, data, prev_hash, hash FROM custody ORDER BY id"
    )
    out = []
    for row in rows:
        try:
            data = json.loads(row["data"])
        except (TypeError, ValueError):
            data = row["data"]
        out.append(
            {
                "id": row["id"],
                "at": row["at"],
                "event": row["event"],
                "actor": row["actor"],
                "data": data,
                "prev_hash": row["prev_hash"],
                "hash": row["hash"],
            }
        )
    return out


def head(case: Case) -> tuple[str, int]:
    row = case.conn.execute("SELECT hash, id FROM custody ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], int(row[1])) if row else (GENESIS, 0)


@dataclass(slots=True)
class ChainReport:
    entries: int
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def check(case: Case) -> ChainReport:
    """Verify every link, the entry numbering and the recorded head (tail truncation)."""
    rows = entries(case)
    problems = [
        f"custody {problem}"
        for problem in verify_chain(
            (
                row["id"],
                _record(row["id"], row["at"], row["event"], row["actor"], row["data"]),
                row["prev_hash"],
                row["hash"],
            )
            for row in rows
        )
    ]
    for position, row in enumerate(rows, start=1):
        if row["id"] != position:
            problems.append(
                f"custody entry numbering jumps to {row['id']} at position {position}: "
                f"entry {position} was removed or renumbered"
            )
            break
    recorded_head = case.meta("custody_head")
    recorded_count = case.meta("custody_count")
    actual_head, actual_count = head(case)
    if recorded_count is not None and int(recorded_count) != actual_count:
        recorded = int(recorded_count)
        if recorded < actual_count:
            where = "entries were added outside cosea"
        elif problems:
            where = "entries were removed"
        else:  # every link holds: only the newest entries can be missing
            where = "entries at the end were removed"
        problems.append(
            f"custody log holds {actual_count} entries but the case recorded {recorded}: {where}"
        )
    elif recorded_head is not None and recorded_head != actual_head:
        problems.append("custody head hash differs from the one the case recorded")
    triggers = {
        r[0] for r in case.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    missing = {"custody_no_update", "custody_no_delete"} - triggers
    if missing:
        problems.append(
            "the append-only guard of the custody log was removed: " + ", ".join(sorted(missing))
        )
    return ChainReport(entries=len(rows), head=actual_head, problems=problems)
