"""Importing hash lists: one transaction, every problem named by line.

The whole import runs inside one database transaction. Entries are checked
(hash against its signal, category against the list's scheme), de-duplicated
against the file and the list, and written with Core ``insert()`` executemany in
large batches. Any malformed line fails the whole import by default
(:class:`ValidationFailed` lists the lines) and the transaction is rolled back, so
the list is exactly as it was; ``skip_invalid`` imports the valid lines and
reports the others.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from cosea.errors import InputError, ValidationFailed
from cosea.media.lists.formats import (
    Item,
    Problem,
    ReadOptions,
    Record,
    Unsupported,
    get_format,
    where,
)
from cosea.media.lists.hashes import HashProblem, canonical_signal, infer_signal, validator
from cosea.media.lists.models import hash_entries
from cosea.media.lists.schemes import CategoryScheme, get_scheme
from cosea.media.lists.store import _IN_CHUNK, ListStore, _now, next_seq

BATCH_ROWS = 50_000
KEEP_LINES = 10  # line numbers kept per kind of finding, for the report
KEEP_PROBLEMS = 1_000
SHOWN_PROBLEMS = 50


@dataclass
class ImportReport:
    list_name: str
    format: str
    source: str
    added: int = 0
    duplicates_in_file: int = 0
    duplicate_lines: list[str] = field(default_factory=list)
    already_in_list: int = 0
    already_in_list_lines: list[str] = field(default_factory=list)
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    unsupported: dict[str, int] = field(default_factory=dict)
    seq: int = 0
    seconds: float = 0.0

    @property
    def duplicates(self) -> int:
        return self.duplicates_in_file + self.already_in_list

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["duplicates"] = self.duplicates
        return data


def _note(kept: list[str], place: str) -> None:
    if len(kept) < KEEP_LINES:
        kept.append(place)


class _CategoryResolver:
    """Turns a record's category into a code of the list's scheme, or says why not."""

    def __init__(self, scheme: CategoryScheme, fallback: str) -> None:
        self.scheme = scheme
        self.fallback = fallback
        self._cache: dict[tuple[str | None, str], str] = {}

    def __call__(self, raw: str | None, raw_scheme: str | None) -> str:
        if raw is None or (isinstance(raw, str) and not raw.strip() and raw_scheme is None):
            return self.fallback
        key = (raw_scheme, str(raw))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if raw_scheme and raw_scheme != self.scheme.name:
            source_scheme = get_scheme(raw_scheme)
            code = source_scheme.resolve(raw)
            if code is None:
                raise ValueError(
                    f"category {raw!r} is not in scheme {raw_scheme!r} "
                    f"(known: {', '.join(source_scheme.codes)})"
                )
            mapped = source_scheme.map_to(code, self.scheme)
            if mapped is None:
                raise ValueError(
                    f"category {code!r} of scheme {raw_scheme!r} has no equivalent in this "
                    f"list's scheme {self.scheme.name!r}; import into a list with scheme "
                    f"{raw_scheme!r} or 'default'"
                )
            code = mapped
        else:
            code = self.scheme.resolve(raw)
            if code is None:
                raise ValueError(
                    f"category {raw!r} is not in scheme {self.scheme.name!r} "
                    f"(known: {', '.join(self.scheme.codes)})"
                )
        self._cache[key] = code
        return code


def import_records(
    store: ListStore,
    list_name: str,
    items: Iterable[Item],
    *,
    source_name: str,
    format_name: str = "records",
    category: str | None = None,
    source: str | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import ``items`` into ``list_name`` in one transaction; see the module docstring."""
    started = time.perf_counter()
    info = store.get_list(list_name)
    scheme = get_scheme(info.category_scheme)
    if category is not None:
        resolved = scheme.resolve(category)
        if resolved is None:
            raise InputError(
                source_name,
                f"--category {category!r} is not in the list's scheme {scheme.name!r} "
                f"(known: {', '.join(scheme.codes)})",
            )
        fallback = resolved
    elif info.kind == "known-files":
        fallback = scheme.known_good_category
    else:
        fallback = scheme.default_category
    resolve_category = _CategoryResolver(scheme, fallback)
    report = ImportReport(list_name=info.name, format=format_name, source=source_name)
    problem_count = 0

    def problem(text: str, line: int | None, entry: str | None) -> None:
        nonlocal problem_count
        problem_count += 1
        if len(report.errors) < KEEP_PROBLEMS:
            report.errors.append(f"{where(line, entry)}: {text}")

    unsupported: Counter[str] = Counter()
    seen: dict[str, set[str]] = {}
    added_at = _now()

    with store.engine.begin() as connection:
        seq = next_seq(connection)
        report.seq = seq
        list_had_entries = (
            connection.execute(
                select(hash_entries.c.id).where(hash_entries.c.list_id == info.id).limit(1)
            ).first()
            is not None
        )
        batch: list[dict[str, Any]] = []
        batch_places: list[str] = []

        def flush() -> None:
            rows, places = batch, batch_places
            if list_had_entries:
                rows, places = _drop_existing(connection, info.id, rows, places, report)
            if rows:
                connection.execute(insert(hash_entries), rows)
                report.added += len(rows)
            batch.clear()
            batch_places.clear()

        for item in items:
            if isinstance(item, Problem):
                problem(item.problem, item.line, item.entry)
                continue
            if isinstance(item, Unsupported):
                unsupported[item.kind] += 1
                continue
            record: Record = item
            try:
                signal = (
                    canonical_signal(record.signal) if record.signal else infer_signal(record.hash)
                )
                hash_value = validator(signal)(record.hash)
                entry_category = resolve_category(record.category, record.category_scheme)
            except (HashProblem, ValueError) as error:
                problem(str(error), record.line, record.entry)
                continue
            signal_seen = seen.setdefault(signal, set())
            if hash_value in signal_seen:
                report.duplicates_in_file += 1
                _note(report.duplicate_lines, where(record.line, record.entry))
                continue
            signal_seen.add(hash_value)
            batch.append(
                {
                    "list_id": info.id,
                    "signal": signal,
                    "hash": hash_value,
                    "category": entry_category,
                    "source": record.source or source or info.source,
                    "added_at": added_at,
                    "enabled": True,
                    "series": record.series,
                    "notes": record.notes,
                    "victim_identified": record.victim_identified,
                    "external_id": record.external_id,
                    "updated_seq": seq,
                }
            )
            batch_places.append(where(record.line, record.entry))
            if len(batch) >= BATCH_ROWS:
                flush()
        flush()
        report.unsupported = dict(unsupported)
        report.skipped = problem_count
        if problem_count and not skip_invalid:
            # Raising inside the transaction rolls every inserted batch back.
            shown = report.errors[:SHOWN_PROBLEMS]
            if problem_count > len(shown):
                shown.append(
                    f"... and {problem_count - len(shown)} more; nothing was imported "
                    "(use --skip-invalid to import the valid lines)"
                )
            else:
                shown.append("nothing was imported (use --skip-invalid to import the valid lines)")
            raise ValidationFailed(source_name, shown)
    report.seconds = time.perf_counter() - started
    return report


def _drop_existing(
    connection: Any,
    list_id: int,
    rows: list[dict[str, Any]],
    places: list[str],
    report: ImportReport,
) -> tuple[list[dict[str, Any]], list[str]]:
    existing: set[tuple[str, str]] = set()
    for start in range(0, len(rows), _IN_CHUNK):
        chunk = rows[start : start + _IN_CHUNK]
        found = connection.execute(
            select(hash_entries.c.signal, hash_entries.c.hash).where(
                hash_entries.c.list_id == list_id,
                hash_entries.c.hash.in_({row["hash"] for row in chunk}),
            )
        )
        existing.update((signal, value) for signal, value in found)
    if not existing:
        return rows, places
    kept_rows, kept_places = [], []
    for row, place in zip(rows, places, strict=True):
        if (row["signal"], row["hash"]) in existing:
            report.already_in_list += 1
            _note(report.already_in_list_lines, place)
        else:
            kept_rows.append(row)
            kept_places.append(place)
    return kept_rows, kept_places


def import_file(
    store: ListStore,
    list_name: str,
    path: str | Path,
    format_name: str,
    *,
    signal: str | None = None,
    category: str | None = None,
    source: str | None = None,
    column_map: dict[str, str] | None = None,
    options: dict[str, str] | None = None,
    skip_invalid: bool = False,
    create: bool = False,
    scheme: str | None = None,
    kind: str | None = None,
) -> ImportReport:
    """Import a file in a registered format into a list (created first with ``create``)."""
    path = Path(path)
    list_format = get_format(format_name)
    if not path.is_file():
        raise InputError(path, "no such file")
    if create and not store.has_list(list_name):
        default_kind = "known-files" if format_name == "nsrl" else "known-material"
        store.create_list(
            list_name,
            scheme=scheme or "default",
            kind=kind or default_kind,
            source=source,
        )
    read_options = ReadOptions(
        signal=signal,
        source=source,
        column_map=dict(column_map or {}),
        extra=dict(options or {}),
    )
    return import_records(
        store,
        list_name,
        list_format.read(path, read_options),
        source_name=str(path),
        format_name=format_name,
        category=category,
        source=source,
        skip_invalid=skip_invalid,
    )


def records_from_dicts(entries: Iterable[dict[str, Any]]) -> Iterator[Item]:
    """Records from plain dicts (the API's ``add_entries``); position = index + 1."""
    known = set(Record.__slots__)  # type: ignore[attr-defined]
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not entry.get("hash"):
            yield Problem("an entry needs at least a 'hash'", entry=f"entry {index}")
            continue
        unknown = set(entry) - known
        if unknown:
            yield Problem(f"unknown field(s) {sorted(unknown)}", entry=f"entry {index}")
            continue
        yield Record(**{"entry": f"entry {index}", **entry})
