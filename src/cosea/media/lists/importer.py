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
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from cosea.errors import CoseaError, InputError, NotFound, ValidationFailed
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

# Rows held before writing. An import up to this size is written in one sorted pass,
# so index inserts are sequential; row tuples share their hash strings with the
# duplicate check, so a million rows cost about 150 MB.
BATCH_ROWS = 1_000_000
# A list this large is checked for duplicates batch by batch instead of being read
# into memory up front.
PRELOAD_EXISTING_UP_TO = 3_000_000
# SQLite page cache for the import connection (KiB, negative by SQLite's convention):
# index inserts of random hashes thrash the default 2 MB cache.
SQLITE_IMPORT_CACHE_KIB = 262_144
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


class ImportRejected(ValidationFailed):
    """An import with invalid items, rolled back whole; ``report`` says what was found."""

    def __init__(self, source: str, report: ImportReport, problem_count: int) -> None:
        shown = report.errors[:SHOWN_PROBLEMS]
        more = problem_count - len(shown)
        lines = [f"  - {problem}" for problem in shown]
        if more > 0:
            lines.append(f"  ... and {more} more")
        self.source = source
        self.problems = report.errors
        self.report = report
        CoseaError.__init__(
            self,
            f"{source}: {problem_count} invalid item(s); nothing was imported "
            "(--skip-invalid imports the valid ones)\n" + "\n".join(lines),
        )


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
        sqlite = connection.dialect.name == "sqlite"
        previous_cache = None
        if sqlite:
            previous_cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
        try:
            seq = next_seq(connection)
            report.seq = seq
            writer = _RowWriter(
                connection,
                {"list_id": info.id, "added_at": added_at, "enabled": True, "updated_seq": seq},
            )
            existing_count = connection.execute(
                select(func.count())
                .select_from(hash_entries)
                .where(hash_entries.c.list_id == info.id)
            ).scalar_one()
            existing: dict[str, set[str]] | None = None
            if 0 < existing_count <= PRELOAD_EXISTING_UP_TO:
                existing = _existing_hashes(connection, info.id)
            batch: list[tuple[Any, ...]] = []

            def flush() -> None:
                rows = batch
                if existing_count and existing is None:
                    rows = _drop_existing(connection, info.id, rows, report)
                if rows:
                    # Inserting in index order keeps B-tree writes local: several times
                    # faster than random order once the index outgrows the page cache.
                    # Two stable sorts on single strings beat one sort on (signal, hash).
                    rows.sort(key=_HASH)
                    rows.sort(key=_SIGNAL)
                    writer.write(rows)
                    report.added += len(rows)
                batch.clear()

            default_source = source or info.source
            signal_names: dict[str, str] = {}
            validators: dict[str, Any] = {}
            for item in items:
                if isinstance(item, Problem):
                    problem(item.problem, item.line, item.entry)
                    continue
                if isinstance(item, Unsupported):
                    unsupported[item.kind] += 1
                    continue
                record: Record = item
                try:
                    if record.signal:
                        signal = signal_names.get(record.signal)
                        if signal is None:
                            signal = signal_names[record.signal] = canonical_signal(record.signal)
                    else:
                        signal = infer_signal(record.hash)
                    check = validators.get(signal)
                    if check is None:
                        check = validators[signal] = validator(signal)
                    hash_value = check(record.hash)
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
                if existing is not None and hash_value in existing.get(signal, ()):
                    report.already_in_list += 1
                    _note(report.already_in_list_lines, where(record.line, record.entry))
                    continue
                batch.append(
                    (
                        signal,
                        hash_value,
                        entry_category,
                        record.source or default_source,
                        record.series,
                        record.notes,
                        record.victim_identified,
                        record.external_id,
                        record.line,
                        record.entry,
                    )
                )
                if len(batch) >= BATCH_ROWS:
                    flush()
            flush()
        finally:
            if previous_cache is not None:
                connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous_cache)}")
        report.unsupported = dict(unsupported)
        report.skipped = problem_count
        if problem_count and not skip_invalid:
            # Raising inside the transaction rolls every inserted batch back.
            raise ImportRejected(source_name, report, problem_count)
    report.seconds = time.perf_counter() - started
    return report


# Per-row fields of a batch, in tuple order; line and entry only serve the report.
_ROW_FIELDS = (
    "signal",
    "hash",
    "category",
    "source",
    "series",
    "notes",
    "victim_identified",
    "external_id",
)
_SIGNAL = itemgetter(0)
_HASH = itemgetter(1)


class _RowWriter:
    """Writes batches of row tuples with one Core ``insert()`` executemany.

    On SQLite the statement is compiled once by SQLAlchemy and handed tuples through
    the driver: SQLAlchemy's per-row parameter processing costs about as much as
    SQLite's own work. Constant columns are converted once with the column types'
    bind processors. Other databases take the ordinary Core path with dicts.
    """

    def __init__(self, connection: Any, constants: dict[str, Any]) -> None:
        self.connection = connection
        self.constants = constants
        self.statement = insert(hash_entries)
        dialect = connection.dialect
        self.direct = dialect.name == "sqlite" and dialect.paramstyle == "qmark"
        if self.direct:
            keys = [*_ROW_FIELDS, *constants]
            compiled = self.statement.compile(dialect=dialect, column_keys=keys)
            self.sql = str(compiled)
            processed = []
            for key, value in constants.items():
                processor = self._processor(key)
                processed.append(processor(value) if processor else value)
            self.constant_values = tuple(processed)
            # A row tuple (fields, then line and entry) plus the constants, reordered in C.
            slot = {key: index for index, key in enumerate(_ROW_FIELDS)}
            offset = len(_ROW_FIELDS) + 2
            slot.update({key: offset + index for index, key in enumerate(constants)})
            self.arrange = itemgetter(*(slot[key] for key in compiled.positiontup))
            self.victim_index = _ROW_FIELDS.index("victim_identified")
            self.victim = self._processor("victim_identified") or (lambda value: value)

    def _processor(self, key: str) -> Any:
        dialect = self.connection.dialect
        return hash_entries.c[key].type.dialect_impl(dialect).bind_processor(dialect)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not self.direct:
            self.connection.execute(
                self.statement,
                [{**self.constants, **dict(zip(_ROW_FIELDS, row, strict=False))} for row in rows],
            )
            return
        arrange, constants = self.arrange, self.constant_values
        victim_index, victim = self.victim_index, self.victim
        parameters = []
        for row in rows:
            if row[victim_index] is not None:
                row = (*row[:victim_index], victim(row[victim_index]), *row[victim_index + 1 :])
            parameters.append(arrange(row + constants))
        self.connection.exec_driver_sql(self.sql, parameters)


def _existing_hashes(connection: Any, list_id: int) -> dict[str, set[str]]:
    existing: dict[str, set[str]] = {}
    result = connection.execution_options(yield_per=50_000).execute(
        select(hash_entries.c.signal, hash_entries.c.hash).where(hash_entries.c.list_id == list_id)
    )
    for signal, value in result:
        existing.setdefault(signal, set()).add(value)
    return existing


def _drop_existing(
    connection: Any, list_id: int, rows: list[tuple[Any, ...]], report: ImportReport
) -> list[tuple[Any, ...]]:
    existing: set[tuple[str, str]] = set()
    by_signal: dict[str, list[str]] = {}
    for row in rows:
        by_signal.setdefault(row[0], []).append(row[1])
    for signal, values in by_signal.items():
        for start in range(0, len(values), _IN_CHUNK):
            # signal = ? AND hash IN (...) seeks the unique (signal, hash, list_id) index.
            found = connection.execute(
                select(hash_entries.c.hash).where(
                    hash_entries.c.signal == signal,
                    hash_entries.c.hash.in_(values[start : start + _IN_CHUNK]),
                    hash_entries.c.list_id == list_id,
                )
            )
            existing.update((signal, value) for (value,) in found)
    if not existing:
        return rows
    kept = []
    for row in rows:
        if (row[0], row[1]) in existing:
            report.already_in_list += 1
            _note(report.already_in_list_lines, where(row[8], row[9]))
        else:
            kept.append(row)
    return kept


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
    if not create and not store.has_list(list_name):
        raise NotFound(f"no hash list named {list_name!r}: create it first, or pass --create")
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
