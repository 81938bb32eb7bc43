"""The append-only, hash-chained audit log of the service.

Every read of an alert, message text or media, every decision and every change
to users, keys, lists and webhooks is appended here. Entries are chained with
:mod:`cosea.hashchain`; the one-row ``service_audit_head`` table holds the
sequence and the last hash. Appending starts by updating that row, which takes
the write lock (SQLite) or the row lock (PostgreSQL) first, so concurrent
appends from several workers are strictly ordered. The database also refuses
UPDATE and DELETE on the log (triggers in the migration); :func:`verify` catches
whatever gets past that (an edited, removed, reordered or truncated entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from cosea.hashchain import GENESIS, ChainProblem, entry_hash, verify_chain
from cosea.service.models import AuditEntry, AuditHead
from cosea.service.timeutil import iso, utcnow

_log = AuditEntry.__table__
_head = AuditHead.__table__


def ensure_head(engine: Engine) -> None:
    """Create the chain's head row once (idempotent, safe under concurrent starts)."""
    with engine.connect() as connection:
        if connection.execute(select(_head.c.id).where(_head.c.id == 1)).first() is not None:
            return
        try:
            connection.execute(insert(_head).values(id=1, seq=0, last_hash=GENESIS))
            connection.commit()
        except IntegrityError:
            connection.rollback()


def _record(
    seq: int,
    at: datetime,
    actor: str,
    actor_role: str,
    action: str,
    target_type: str | None,
    target_id: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": seq,
        "at": iso(at),
        "actor": actor,
        "actor_role": actor_role,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
    }


def append(
    connection: Connection,
    *,
    actor: str,
    actor_role: str,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one entry inside the caller's transaction; returns its position."""
    at = at or utcnow()
    details = details or {}
    target = str(target_id) if target_id is not None else None
    row = connection.execute(
        update(_head)
        .where(_head.c.id == 1)
        .values(seq=_head.c.seq + 1)
        .returning(_head.c.seq, _head.c.last_hash)
    ).first()
    if row is None:
        raise RuntimeError("audit log head is missing: call ensure_head(engine) at start-up")
    seq, previous = row
    record = _record(seq, at, actor, actor_role, action, target_type, target, details)
    digest = entry_hash(previous, record)
    connection.execute(
        insert(_log).values(
            id=seq,
            at=at,
            actor=actor,
            actor_role=actor_role,
            action=action,
            target_type=target_type,
            target_id=target,
            details=details,
            previous_hash=previous,
            hash=digest,
        )
    )
    connection.execute(update(_head).where(_head.c.id == 1).values(last_hash=digest))
    return seq


@dataclass(slots=True)
class VerifyResult:
    entries: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "problems": [
                {"position": p.position, "entry_id": p.entry_id, "problem": p.problem}
                for p in self.problems
            ],
        }


def _row_to_chain(row: Any) -> tuple[Any, dict[str, Any], str, str]:
    record = _record(
        row.id,
        row.at,
        row.actor,
        row.actor_role,
        row.action,
        row.target_type,
        row.target_id,
        row.details or {},
    )
    return (row.id, record, row.previous_hash, row.hash)


def verify(connection: Connection, batch: int = 5000) -> VerifyResult:
    """Recompute the whole chain; also checks that no entry after the last one was cut off."""

    def rows():
        last_id = 0
        while True:
            chunk = connection.execute(
                select(_log).where(_log.c.id > last_id).order_by(_log.c.id).limit(batch)
            ).all()
            if not chunk:
                return
            for row in chunk:
                yield _row_to_chain(row)
            last_id = chunk[-1].id

    count = 0
    last_hash = GENESIS
    last_id = 0

    def counted():
        nonlocal count, last_hash, last_id
        for item in rows():
            count += 1
            last_id, last_hash = item[0], item[3]
            yield item

    problems = verify_chain(counted())
    head = connection.execute(select(_head).where(_head.c.id == 1)).first()
    if head is not None and (head.seq != last_id or head.last_hash != last_hash):
        problems.append(
            ChainProblem(
                count,
                head.seq,
                f"the log ends at entry {last_id} but the chain head records entry {head.seq}: "
                "entries at the end were removed or the head was altered",
            )
        )
    return VerifyResult(entries=count, problems=problems)


def browse(
    connection: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Entries newest first, filtered; page with ``before_id`` (the last id of a page)."""
    query = select(_log).order_by(_log.c.id.desc()).limit(limit)
    if actor:
        query = query.where(_log.c.actor == actor)
    if action:
        query = query.where(_log.c.action.like(f"{action}%"))
    if target_type:
        query = query.where(_log.c.target_type == target_type)
    if target_id:
        query = query.where(_log.c.target_id == str(target_id))
    if before_id:
        query = query.where(_log.c.id < before_id)
    out = []
    for row in connection.execute(query):
        entry = _row_to_chain(row)[1]
        entry["previous_hash"] = row.previous_hash
        entry["hash"] = row.hash
        out.append(entry)
    return out
