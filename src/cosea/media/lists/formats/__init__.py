"""Import and export formats for hash lists, registered by name.

A format reads a file into a stream of :class:`Record` (one hash each),
:class:`Problem` (a malformed line or entry, with where) and :class:`Unsupported`
(something well-formed that cosea cannot use, such as a PhotoDNA hash), and
writes a list's entries back out. Checking hashes and categories, duplicates and
the single transaction are the importer's job, the same for every format.
Structural failures that stop reading (broken JSON, a missing SQLite view) raise
:class:`cosea.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cosea.errors import NotFound

if TYPE_CHECKING:
    from cosea.media.lists.store import HashEntry, HashListInfo


@dataclass(slots=True)
class Record:
    """One hash read from a file. ``category_scheme`` names the scheme of ``category``
    when the format has its own (VICS codes); None means the list's scheme."""

    hash: str
    signal: str | None = None
    line: int | None = None
    entry: str | None = None
    category: str | None = None
    category_scheme: str | None = None
    source: str | None = None
    series: str | None = None
    notes: str | None = None
    victim_identified: bool | None = None
    external_id: str | None = None


@dataclass(slots=True)
class Problem:
    problem: str
    line: int | None = None
    entry: str | None = None


@dataclass(slots=True)
class Unsupported:
    """A well-formed item cosea cannot use; counted by ``kind`` in the report."""

    kind: str
    line: int | None = None
    entry: str | None = None


Item = Record | Problem | Unsupported


@dataclass
class ReadOptions:
    signal: str | None = None
    source: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class WriteOptions:
    signal: str | None = None
    include_disabled: bool = False
    tlp: str = "amber"
    source: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class ListFormat(Protocol):
    name: str
    description: str
    suffix: str

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]: ...

    def write(
        self,
        entries: Iterator[HashEntry],
        path: Path,
        info: HashListInfo,
        options: WriteOptions,
    ) -> int: ...


_FORMATS: dict[str, ListFormat] = {}


def register_format(list_format: ListFormat) -> ListFormat:
    _FORMATS[list_format.name] = list_format
    return list_format


def get_format(name: str) -> ListFormat:
    _load_builtin()
    try:
        return _FORMATS[name]
    except KeyError:
        raise NotFound(
            f"unknown list format {name!r}; known: {', '.join(format_names())}"
        ) from None


def format_names() -> list[str]:
    _load_builtin()
    return sorted(_FORMATS)


def _load_builtin() -> None:
    # Imported on first use so the CLI's --help does not load stix2 or ijson.
    from cosea.media.lists.formats import csv, nsrl, stix, text, vics  # noqa: F401


def where(line: int | None, entry: str | None) -> str:
    if line is not None and entry:
        return f"line {line} ({entry})"
    if line is not None:
        return f"line {line}"
    return entry or "input"
