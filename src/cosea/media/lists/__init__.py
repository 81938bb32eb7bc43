"""Hash lists (banks) of known material and known files, stored in the project database.

``ListStore`` keeps lists and entries (signal, hash, category, source, dates,
enabled flag, series, notes) with a change counter the matching index follows;
formats (``text``, ``csv``, ``vics``, ``nsrl``, ``stix``) are registered by name;
category schemes (``default``, ``vics``, ``caid``) are YAML configuration.
"""

from __future__ import annotations

from cosea.media.lists.exporter import export_file
from cosea.media.lists.formats import (
    ListFormat,
    Problem,
    ReadOptions,
    Record,
    Unsupported,
    WriteOptions,
    format_names,
    get_format,
    register_format,
)
from cosea.media.lists.importer import ImportRejected, ImportReport, import_file, import_records
from cosea.media.lists.schemes import CategoryScheme, get_scheme, scheme_names
from cosea.media.lists.store import LIST_KINDS, HashEntry, HashListInfo, ListStore

__all__ = [
    "LIST_KINDS",
    "CategoryScheme",
    "HashEntry",
    "HashListInfo",
    "ImportRejected",
    "ImportReport",
    "ListFormat",
    "ListStore",
    "Problem",
    "ReadOptions",
    "Record",
    "Unsupported",
    "WriteOptions",
    "export_file",
    "format_names",
    "get_format",
    "get_scheme",
    "import_file",
    "import_records",
    "register_format",
    "scheme_names",
]
