"""CSV with a header row and a column map.

``--map hash=MD5 Hash,category=Cat`` names the column of each field; without a
map, columns named like the fields are used (case-insensitive). Fields: ``hash``,
``signal``, ``category``, ``source``, ``series``, ``notes``, ``victim_identified``,
``external_id``; and a signal name (``md5=MD5,sha1=SHA1``) maps a column whose
hashes are of that signal, so one row can give several entries. The signal of a
``hash`` column comes from the ``signal`` column, else ``--signal``, else its length.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cosea.errors import InputError
from cosea.media.lists.formats import (
    Item,
    Problem,
    ReadOptions,
    Record,
    WriteOptions,
    register_format,
)
from cosea.media.lists.formats.text import open_text
from cosea.media.lists.hashes import canonical_signal, known_signals

if TYPE_CHECKING:
    from cosea.media.lists.store import HashEntry, HashListInfo

FIELDS = (
    "hash",
    "signal",
    "category",
    "source",
    "series",
    "notes",
    "victim_identified",
    "external_id",
)
EXPORT_COLUMNS = (
    "signal",
    "hash",
    "category",
    "source",
    "series",
    "notes",
    "victim_identified",
    "external_id",
    "added_at",
    "enabled",
)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def parse_column_map(text: str | None) -> dict[str, str]:
    """``"hash=md5_col,category=cat"`` -> ``{"hash": "md5_col", "category": "cat"}``."""
    mapping: dict[str, str] = {}
    if not text:
        return mapping
    for part in text.split(","):
        if not part.strip():
            continue
        field, sep, column = part.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError("--map", f"expected FIELD=COLUMN, got {part.strip()!r}")
        mapping[field.strip().lower()] = column.strip()
    return mapping


def parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


class CsvFormat:
    name = "csv"
    description = "CSV with a header; --map FIELD=COLUMN,... (fields or signal names)"
    suffix = ".csv"

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        try:
            with open_text(path) as handle:
                reader = csv.reader(handle, strict=True)
                try:
                    header = next(reader)
                except StopIteration:
                    raise InputError(path, "empty file: expected a header row", line=1) from None
                columns = self._columns(path, header, options)
                for row in reader:
                    number = reader.line_num
                    if not any(cell.strip() for cell in row):
                        continue
                    if len(row) != len(header):
                        yield Problem(
                            f"expected {len(header)} columns, found {len(row)}", line=number
                        )
                        continue
                    yield from self._records(row, columns, options, number)
        except csv.Error as error:
            raise InputError(path, f"not valid CSV: {error}", line=reader.line_num) from None
        except UnicodeDecodeError as error:
            raise InputError(path, f"not UTF-8 text ({error.reason})") from None

    @staticmethod
    def _columns(path: Path, header: list[str], options: ReadOptions) -> dict[str, int]:
        by_name = {name.strip().casefold(): index for index, name in enumerate(header)}
        signal_names = set(known_signals())
        columns: dict[str, int] = {}
        if options.column_map:
            for field, column in options.column_map.items():
                key = canonical_signal(field) if field not in FIELDS else field
                if key not in FIELDS and key not in signal_names:
                    raise InputError(
                        path,
                        f"--map: unknown field {field!r}; use {', '.join(FIELDS)} "
                        f"or a signal name ({', '.join(sorted(signal_names))})",
                    )
                index = by_name.get(column.casefold())
                if index is None:
                    raise InputError(
                        path,
                        f"--map: no column {column!r} in the header (columns: {', '.join(header)})",
                        line=1,
                    )
                columns[key] = index
        else:
            for name, index in by_name.items():
                key = canonical_signal(name) if name not in FIELDS else name
                if key in FIELDS or key in signal_names:
                    columns.setdefault(key, index)
        hash_columns = [key for key in columns if key == "hash" or key in signal_names]
        if not hash_columns:
            raise InputError(
                path,
                "no hash column: name one with --map hash=COLUMN (or md5=COLUMN, ...) "
                f"(columns: {', '.join(header)})",
                line=1,
            )
        return columns

    @staticmethod
    def _records(
        row: list[str], columns: dict[str, int], options: ReadOptions, number: int
    ) -> Iterator[Item]:
        def cell(field: str) -> str | None:
            index = columns.get(field)
            if index is None:
                return None
            value = row[index].strip()
            return value or None

        try:
            victim = parse_bool(cell("victim_identified") or "")
        except ValueError as error:
            yield Problem(f"victim_identified: {error}", line=number)
            return
        shared = {
            "line": number,
            "category": cell("category"),
            "source": cell("source"),
            "series": cell("series"),
            "notes": cell("notes"),
            "victim_identified": victim,
            "external_id": cell("external_id"),
        }
        found = False
        for field in columns:
            if field in FIELDS and field != "hash":
                continue
            value = cell(field)
            if value is None:
                continue
            found = True
            if field == "hash":
                signal = cell("signal") or options.signal
                yield Record(hash=value, signal=signal, **shared)
            else:
                yield Record(hash=value, signal=field, **shared)
        if not found:
            yield Problem("no hash on this row", line=number)

    def write(
        self,
        entries: Iterator[HashEntry],
        path: Path,
        info: HashListInfo,
        options: WriteOptions,
    ) -> int:
        count = 0
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for entry in entries:
                writer.writerow(
                    [
                        entry.signal,
                        entry.hash,
                        entry.category or "",
                        entry.source or "",
                        entry.series or "",
                        entry.notes or "",
                        "" if entry.victim_identified is None else str(entry.victim_identified),
                        entry.external_id or "",
                        entry.added_at.isoformat(),
                        str(entry.enabled).lower(),
                    ]
                )
                count += 1
        return count


register_format(CsvFormat())
