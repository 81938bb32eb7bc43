"""The hash-list store: lists (banks) and their entries in the project database."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from cosea.errors import CoseaError, InputError, NotFound
from cosea.media.lists.models import (
    hash_entries,
    hash_list_counter,
    hash_list_deletions,
    hash_lists,
)
from cosea.media.lists.schemes import get_scheme

LIST_KINDS = ("known-material", "known-files")
# Rows per statement in bulk reads and writes: large enough to amortise round trips,
# small enough to stay under SQLite's bound-parameter limit in IN (...) lookups.
_IN_CHUNK = 900


@dataclass(frozen=True)
class HashListInfo:
    id: int
    name: str
    description: str | None
    category_scheme: str
    kind: str
    source: str | None
    created_at: datetime
    enabled: bool


@dataclass(frozen=True)
class HashEntry:
    """One hash in one list. ``enabled`` is False when the entry or its list is disabled."""

    id: int
    list_name: str
    signal: str
    hash: str
    category: str | None
    source: str | None
    added_at: datetime
    enabled: bool
    series: str | None
    notes: str | None
    updated_seq: int
    victim_identified: bool | None = None
    external_id: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_ENTRY_COLUMNS = (
    hash_entries.c.id,
    hash_lists.c.name,
    hash_entries.c.signal,
    hash_entries.c.hash,
    hash_entries.c.category,
    hash_entries.c.source,
    hash_entries.c.added_at,
    (hash_entries.c.enabled & hash_lists.c.enabled).label("effective_enabled"),
    hash_entries.c.series,
    hash_entries.c.notes,
    hash_entries.c.updated_seq,
    hash_entries.c.victim_identified,
    hash_entries.c.external_id,
)


def _entry(row: Any) -> HashEntry:
    return HashEntry(
        id=row[0],
        list_name=row[1],
        signal=row[2],
        hash=row[3],
        category=row[4],
        source=row[5],
        added_at=_aware(row[6]),
        enabled=bool(row[7]),
        series=row[8],
        notes=row[9],
        updated_seq=row[10],
        victim_identified=row[11],
        external_id=row[12],
    )


def _info(row: Any) -> HashListInfo:
    return HashListInfo(
        id=row.id,
        name=row.name,
        description=row.description,
        category_scheme=row.category_scheme,
        kind=row.kind,
        source=row.source,
        created_at=_aware(row.created_at),
        enabled=bool(row.enabled),
    )


def next_seq(connection: Connection) -> int:
    """Take the next change sequence number inside the caller's transaction."""
    connection.execute(
        update(hash_list_counter)
        .where(hash_list_counter.c.id == 1)
        .values(value=hash_list_counter.c.value + 1)
    )
    return connection.execute(
        select(hash_list_counter.c.value).where(hash_list_counter.c.id == 1)
    ).scalar_one()


class ListStore:
    """Hash lists and their entries. Every write is one transaction."""

    def __init__(self, engine: Engine | None = None) -> None:
        if engine is None:
            from cosea.storage import connect

            engine = connect()
        self.engine = engine

    # ---------------------------------------------------------------- lists
    def create_list(
        self,
        name: str,
        description: str | None = None,
        scheme: str = "default",
        kind: str = "known-material",
        source: str | None = None,
    ) -> HashListInfo:
        name = name.strip()
        if not name:
            raise InputError(None, "a list needs a name")
        if kind not in LIST_KINDS:
            raise InputError(
                None, f"unknown list kind {kind!r}; use one of {', '.join(LIST_KINDS)}"
            )
        get_scheme(scheme)  # raises NotFound with the known schemes
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(hash_lists).values(
                        name=name,
                        description=description,
                        category_scheme=scheme,
                        kind=kind,
                        source=source,
                        created_at=_now(),
                        enabled=True,
                    )
                )
        except IntegrityError:
            raise CoseaError(f"a hash list named {name!r} already exists") from None
        return self.get_list(name)

    def get_list(self, name: str) -> HashListInfo:
        with self.engine.connect() as connection:
            row = connection.execute(select(hash_lists).where(hash_lists.c.name == name)).first()
        if row is None:
            raise NotFound(f"no hash list named {name!r}")
        return _info(row)

    def has_list(self, name: str) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(select(hash_lists.c.id).where(hash_lists.c.name == name)).first()
                is not None
            )

    def lists(self) -> list[HashListInfo]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(hash_lists).order_by(hash_lists.c.name)).all()
        return [_info(row) for row in rows]

    def entry_counts(self) -> dict[str, tuple[int, int]]:
        """(enabled entries, all entries) of every list, by name."""
        query = (
            select(
                hash_lists.c.name,
                func.count(hash_entries.c.id),
                func.count(hash_entries.c.id).filter(hash_entries.c.enabled.is_(True)),
            )
            .select_from(hash_lists)
            .outerjoin(hash_entries, hash_entries.c.list_id == hash_lists.c.id)
            .group_by(hash_lists.c.name)
        )
        with self.engine.connect() as connection:
            return {name: (enabled, total) for name, total, enabled in connection.execute(query)}

    def delete_list(self, name: str) -> int:
        """Delete a list and its entries; returns how many entries went with it."""
        info = self.get_list(name)
        with self.engine.begin() as connection:
            seq = next_seq(connection)
            removed = connection.execute(
                delete(hash_entries).where(hash_entries.c.list_id == info.id)
            ).rowcount
            connection.execute(delete(hash_lists).where(hash_lists.c.id == info.id))
            connection.execute(
                insert(hash_list_deletions).values(list_name=name, seq=seq, deleted_at=_now())
            )
        return removed

    def disable_list(self, name: str) -> int:
        return self._set_list_enabled(name, False)

    def enable_list(self, name: str) -> int:
        return self._set_list_enabled(name, True)

    def _set_list_enabled(self, name: str, enabled: bool) -> int:
        info = self.get_list(name)
        with self.engine.begin() as connection:
            seq = next_seq(connection)
            connection.execute(
                update(hash_lists).where(hash_lists.c.id == info.id).values(enabled=enabled)
            )
            # Every entry's effective state changes, so every entry is a change to catch up on.
            return connection.execute(
                update(hash_entries)
                .where(hash_entries.c.list_id == info.id)
                .values(updated_seq=seq)
            ).rowcount

    # -------------------------------------------------------------- entries
    def add_entries(self, list_name: str, entries: Iterable[dict[str, Any]]) -> int:
        """Add entries (dicts with signal, hash and optional fields); returns how many were new.

        Hashes are checked and categories validated exactly as on import (all or
        nothing); :func:`cosea.media.lists.import_records` returns the full report.
        """
        from cosea.media.lists.importer import import_records, records_from_dicts

        report = import_records(self, list_name, records_from_dicts(entries), source_name="<api>")
        return report.added

    def iter_entries(
        self,
        list_name: str | None = None,
        signal: str | None = None,
        enabled_only: bool = True,
        batch_size: int = 10_000,
    ) -> Iterator[HashEntry]:
        conditions = []
        if list_name is not None:
            conditions.append(hash_lists.c.id == self.get_list(list_name).id)
        if signal is not None:
            conditions.append(hash_entries.c.signal == signal)
        if enabled_only:
            conditions.extend([hash_entries.c.enabled.is_(True), hash_lists.c.enabled.is_(True)])
        yield from self._paged(conditions, batch_size)

    def _paged(self, conditions: list[Any], batch_size: int) -> Iterator[HashEntry]:
        # Keyset pagination: no connection is held open while the caller works.
        last_id = 0
        while True:
            query = (
                select(*_ENTRY_COLUMNS)
                .join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)
                .where(and_(hash_entries.c.id > last_id, *conditions))
                .order_by(hash_entries.c.id)
                .limit(batch_size)
            )
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            last_id = rows[-1][0]

    def lookup(
        self,
        signal: str,
        hash_value: str,
        lists: Sequence[str] | None = None,
        enabled_only: bool = True,
    ) -> list[HashEntry]:
        """Exact match of one hash in every (or the named) list."""
        conditions = [
            hash_entries.c.signal == signal,
            hash_entries.c.hash == hash_value.strip().lower(),
        ]
        if lists is not None:
            conditions.append(hash_lists.c.name.in_(list(lists)))
        if enabled_only:
            conditions.extend([hash_entries.c.enabled.is_(True), hash_lists.c.enabled.is_(True)])
        query = (
            select(*_ENTRY_COLUMNS)
            .join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)
            .where(*conditions)
            .order_by(hash_lists.c.name, hash_entries.c.id)
        )
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query)]

    def disable_entries(self, list_name: str, hashes_or_ids: Iterable[str | int]) -> int:
        return self._set_entries_enabled(list_name, hashes_or_ids, False)

    def enable_entries(self, list_name: str, hashes_or_ids: Iterable[str | int]) -> int:
        return self._set_entries_enabled(list_name, hashes_or_ids, True)

    def _set_entries_enabled(
        self, list_name: str, hashes_or_ids: Iterable[str | int], enabled: bool
    ) -> int:
        """Set ``enabled`` on the entries named by hash (any signal) or id; returns rows changed."""
        info = self.get_list(list_name)
        items = list(hashes_or_ids)
        ids = [item for item in items if isinstance(item, int)]
        texts = [item.strip().lower() for item in items if isinstance(item, str) and item.strip()]
        changed = 0
        with self.engine.begin() as connection:
            seq = next_seq(connection)
            # With the signals named, hash IN (...) seeks the (signal, hash, list_id) index
            # instead of scanning the whole list.
            signals = list(
                connection.execute(
                    select(hash_entries.c.signal)
                    .where(hash_entries.c.list_id == info.id)
                    .distinct()
                ).scalars()
            )
            selectors = [(hash_entries.c.id.in_, ids, [])]
            selectors.append((hash_entries.c.hash.in_, texts, [hash_entries.c.signal.in_(signals)]))
            for make_filter, values, extra in selectors:
                for start in range(0, len(values), _IN_CHUNK):
                    chunk = values[start : start + _IN_CHUNK]
                    changed += connection.execute(
                        update(hash_entries)
                        .where(
                            *extra,
                            make_filter(chunk),
                            hash_entries.c.list_id == info.id,
                            hash_entries.c.enabled.is_(not enabled),
                        )
                        .values(enabled=enabled, updated_seq=seq)
                    ).rowcount
        return changed

    # --------------------------------------------------------- change feed
    def current_seq(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                select(hash_list_counter.c.value).where(hash_list_counter.c.id == 1)
            ).scalar_one()

    def changes_since(
        self, seq: int, lists: Sequence[str] | None = None, batch_size: int = 10_000
    ) -> Iterator[HashEntry]:
        """Entries added, enabled or disabled after ``seq``, in sequence order.

        Several entries share a sequence number when one operation touched them all.
        ``enabled`` is the entry's effective state (entry and list both enabled).
        Deleted lists are reported by :meth:`deleted_since`.
        """
        conditions: list[Any] = []
        if lists is not None:
            conditions.append(hash_lists.c.name.in_(list(lists)))
        after: Any = hash_entries.c.updated_seq > seq
        while True:
            query = (
                select(*_ENTRY_COLUMNS)
                .join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)
                .where(after, *conditions)
                .order_by(hash_entries.c.updated_seq, hash_entries.c.id)
                .limit(batch_size)
            )
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            last_seq, last_id = rows[-1][10], rows[-1][0]
            after = tuple_(hash_entries.c.updated_seq, hash_entries.c.id) > tuple_(
                last_seq, last_id
            )

    def deleted_since(self, seq: int) -> list[tuple[str, int]]:
        """(list name, seq) of lists deleted after ``seq``: their entries are gone."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(hash_list_deletions.c.list_name, hash_list_deletions.c.seq)
                .where(hash_list_deletions.c.seq > seq)
                .order_by(hash_list_deletions.c.seq)
            ).all()
        return [(row[0], row[1]) for row in rows]

    # ------------------------------------------------------------ summaries
    def stats(self, list_name: str) -> dict[str, Any]:
        info = self.get_list(list_name)
        where = hash_entries.c.list_id == info.id
        with self.engine.connect() as connection:
            by_signal = connection.execute(
                select(hash_entries.c.signal, hash_entries.c.enabled, func.count())
                .where(where)
                .group_by(hash_entries.c.signal, hash_entries.c.enabled)
            ).all()
            by_category = connection.execute(
                select(hash_entries.c.category, func.count())
                .where(where, hash_entries.c.enabled.is_(True))
                .group_by(hash_entries.c.category)
            ).all()
            last_change = connection.execute(
                select(func.max(hash_entries.c.updated_seq)).where(where)
            ).scalar()
        signals: dict[str, dict[str, int]] = {}
        for signal, enabled, count in by_signal:
            counts = signals.setdefault(signal, {"enabled": 0, "disabled": 0})
            counts["enabled" if enabled else "disabled"] += count
        enabled_total = sum(c["enabled"] for c in signals.values())
        disabled_total = sum(c["disabled"] for c in signals.values())
        return {
            "list": info.name,
            "scheme": info.category_scheme,
            "kind": info.kind,
            "list_enabled": info.enabled,
            "total": enabled_total + disabled_total,
            "enabled": enabled_total,
            "disabled": disabled_total,
            "by_signal": dict(sorted(signals.items())),
            "by_category": {
                (category or "-"): count for category, count in sorted(by_category, key=str)
            },
            "last_change_seq": last_change or 0,
        }

    def list_digest(self, name: str) -> str:
        """SHA-256 over the list's enabled entries, sorted: ``signal\\thash\\tcategory\\n`` each.

        Two stores holding the same enabled entries give the same digest, whatever
        the order of import or the database; triage records it in its chain of custody.
        """
        info = self.get_list(name)
        digest = hashlib.sha256()
        query = (
            select(hash_entries.c.signal, hash_entries.c.hash, hash_entries.c.category)
            .where(hash_entries.c.list_id == info.id, hash_entries.c.enabled.is_(True))
            .order_by(hash_entries.c.signal, hash_entries.c.hash)
        )
        with self.engine.connect() as connection:
            for signal, hash_value, category in connection.execute(query):
                digest.update(f"{signal}\t{hash_value}\t{category or ''}\n".encode())
        return digest.hexdigest()
