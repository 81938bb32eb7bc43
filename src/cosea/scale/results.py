"""Runs and results in the configured database, written idempotently in batches.

Workers call :func:`write_results` once per task with every row the task made, in
one transaction, as ``INSERT ... ON CONFLICT (run_id, position) DO NOTHING``. Dask
retries a task whose worker was lost; the retry computes the same rows with the
same keys, so whatever the lost worker had committed is simply not written twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from cosea.errors import NotFound
from cosea.scale.models import scale_results, scale_runs


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One result: its place in the run's input order, the item, and the output line."""

    position: int
    item: str
    flagged: bool
    score: float | None
    payload: str
    detail: str | None = None


def engine_for(database_url: str, *, migrate: bool = False) -> Engine:
    """The engine of ``database_url``; workers never migrate (the driver already did)."""
    from cosea.storage import connect

    return connect(database_url, upgrade=migrate)


def new_run_id() -> str:
    return uuid.uuid4().hex


def start_run(
    database_url: str,
    kind: str,
    parameters: dict[str, Any],
    *,
    run_id: str | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> str:
    """Register a run (or reopen one given by id, to finish it after a crash)."""
    engine = engine_for(database_url, migrate=True)
    run_id = run_id or new_run_id()
    with engine.begin() as connection:
        existing = connection.execute(
            select(scale_runs.c.kind).where(scale_runs.c.run_id == run_id)
        ).first()
        if existing is None:
            connection.execute(
                scale_runs.insert().values(
                    run_id=run_id,
                    kind=kind,
                    status="running",
                    scheduler=scheduler,
                    workers=workers,
                    parameters=json.dumps(parameters, sort_keys=True, default=str),
                    started_at=datetime.now(UTC),
                )
            )
        else:
            connection.execute(
                update(scale_runs)
                .where(scale_runs.c.run_id == run_id)
                .values(status="running", finished_at=None)
            )
    return run_id


def finish_run(
    database_url: str, run_id: str, summary: dict[str, Any], *, status: str = "completed"
) -> None:
    engine = engine_for(database_url)
    with engine.begin() as connection:
        connection.execute(
            update(scale_runs)
            .where(scale_runs.c.run_id == run_id)
            .values(
                status=status,
                summary=json.dumps(summary, sort_keys=True, default=str),
                finished_at=datetime.now(UTC),
            )
        )


def write_results(database_url: str, run_id: str, rows: Sequence[ResultRow]) -> int:
    """Insert a task's rows in one transaction; rows already there are left alone.

    Returns how many rows were new (0 for a retried task whose first attempt committed).
    """
    if not rows:
        return 0
    engine = engine_for(database_url)
    values = [
        {
            "run_id": run_id,
            "position": row.position,
            "item": row.item,
            "flagged": row.flagged,
            "score": row.score,
            "payload": row.payload,
            "detail": row.detail,
        }
        for row in rows
    ]
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - cosea supports SQLite and PostgreSQL
        raise NotImplementedError(f"no idempotent insert for {engine.dialect.name}")
    statement = (
        insert(scale_results)
        .on_conflict_do_nothing(index_elements=["run_id", "position"])
        .returning(scale_results.c.position)
    )
    # RETURNING names the rows actually inserted (drivers' rowcounts of a batched
    # insert are not reliable across SQLite and PostgreSQL).
    with engine.begin() as connection:
        inserted = connection.execute(statement, values).all()
    return len(inserted)


def iter_results(
    database_url: str, run_id: str, *, flagged: bool | None = None, batch: int = 5000
) -> Iterator[tuple[int, str, str]]:
    """``(position, item, payload)`` in input order, paged so memory stays flat."""
    engine = engine_for(database_url)
    last = -1
    while True:
        query = (
            select(scale_results.c.position, scale_results.c.item, scale_results.c.payload)
            .where(scale_results.c.run_id == run_id, scale_results.c.position > last)
            .order_by(scale_results.c.position)
            .limit(batch)
        )
        if flagged is not None:
            query = query.where(scale_results.c.flagged == flagged)
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return
        for position, item, payload in rows:
            yield int(position), item, payload
        last = int(rows[-1][0])


def top_flagged(database_url: str, run_id: str, limit: int) -> list[dict[str, Any]]:
    """The highest-scoring flagged results with their details (for a summary table)."""
    engine = engine_for(database_url)
    query = (
        select(scale_results.c.item, scale_results.c.score, scale_results.c.detail)
        .where(scale_results.c.run_id == run_id, scale_results.c.flagged.is_(True))
        .order_by(scale_results.c.score.desc(), scale_results.c.position)
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        {"item": item, "score": score, **(json.loads(detail) if detail else {})}
        for item, score, detail in rows
    ]


def count_results(database_url: str, run_id: str) -> tuple[int, int]:
    """(rows, distinct positions) of a run: equal unless something wrote a duplicate."""
    engine = engine_for(database_url)
    with engine.connect() as connection:
        rows, distinct = connection.execute(
            select(func.count(), func.count(func.distinct(scale_results.c.position))).where(
                scale_results.c.run_id == run_id
            )
        ).one()
    return int(rows), int(distinct)


def run_info(database_url: str, run_id: str) -> dict[str, Any]:
    engine = engine_for(database_url)
    with engine.connect() as connection:
        row = connection.execute(select(scale_runs).where(scale_runs.c.run_id == run_id)).first()
    if row is None:
        raise NotFound(f"no distributed run {run_id!r}")
    info = dict(row._mapping)
    info["parameters"] = json.loads(info["parameters"])
    info["summary"] = json.loads(info["summary"]) if info["summary"] else None
    return info


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
