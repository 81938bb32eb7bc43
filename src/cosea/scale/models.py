"""Tables of distributed runs and their results (migration branch ``scale``).

A run is one distributed job (``chats-analyze``, ``media-hash``, ``media-match``,
``triage-scan``). Its results are rows keyed by ``(run_id, position)``: the position
is the item's place in the run's deterministic input order (a conversation's
partition and ordinal, a file's index in the sorted file list), so a task that a
lost worker had already half-done writes exactly the same keys when Dask retries
it, and ``INSERT ... ON CONFLICT DO NOTHING`` turns the retry into a no-op.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cosea.storage import Base


class ScaleRunRow(Base):
    __tablename__ = "scale_runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # running|completed|failed
    scheduler: Mapped[str | None] = mapped_column(String(300))
    workers: Mapped[int | None] = mapped_column(Integer)
    parameters: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    summary: Mapped[str | None] = mapped_column(Text)  # JSON, set when the run ends
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScaleResultRow(Base):
    __tablename__ = "scale_results"
    __table_args__ = (Index("ix_scale_results_flagged", "run_id", "flagged"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("scale_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    item: Mapped[str] = mapped_column(Text, nullable=False)  # conversation id or file path
    flagged: Mapped[bool] = mapped_column(Boolean, nullable=False)  # alert, or a list match
    score: Mapped[float | None] = mapped_column(Float)  # risk, or nearest match distance
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # the output line, JSON
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: reasons behind an alert, counts


scale_runs = ScaleRunRow.__table__
scale_results = ScaleResultRow.__table__
