"""Tables of the hash-list store (migration branch ``media``).

``hash_entries.updated_seq`` is a change counter shared by every list: each write
operation (import, enable, disable, list disable) takes the next value from
``hash_list_counter`` and stamps it on the rows it touches, so the matching index
can catch up with ``ListStore.changes_since(seq)`` instead of rebuilding. The
counter row is updated first in each write transaction; on PostgreSQL its row
lock keeps sequence numbers in commit order, on SQLite the database write lock does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cosea.storage import Base


class HashListRow(Base):
    __tablename__ = "hash_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    category_scheme: Mapped[str] = mapped_column(String(64), nullable=False, default="default")
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="known-material")
    source: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class HashEntryRow(Base):
    __tablename__ = "hash_entries"
    # One index on the random-valued hash, led by (signal, hash) so it also serves
    # lookups across lists: random-order index inserts dominate bulk import time,
    # and list_id / updated_seq indexes grow at their end.
    __table_args__ = (
        UniqueConstraint("signal", "hash", "list_id", name="uq_hash_entries_signal_hash_list"),
        Index("ix_hash_entries_list_id", "list_id"),
        Index("ix_hash_entries_updated_seq", "updated_seq"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("hash_lists.id", ondelete="CASCADE"), nullable=False
    )
    signal: Mapped[str] = mapped_column(String(32), nullable=False)
    hash: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    series: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    victim_identified: Mapped[bool | None] = mapped_column(Boolean)
    # The record this hash came from (VICS MediaID, STIX indicator id): hashes of
    # one file share it, so exports can group an MD5 and a SHA-1 back together.
    external_id: Mapped[str | None] = mapped_column(String(200))
    updated_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class HashListCounterRow(Base):
    """One row: the last change sequence number handed out."""

    __tablename__ = "hash_list_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class HashListDeletionRow(Base):
    """Deleted lists, so an index that catches up by sequence can drop their entries."""

    __tablename__ = "hash_list_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_name: Mapped[str] = mapped_column(String(200), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


hash_lists = HashListRow.__table__
hash_entries = HashEntryRow.__table__
hash_list_counter = HashListCounterRow.__table__
hash_list_deletions = HashListDeletionRow.__table__
