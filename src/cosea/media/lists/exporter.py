"""Exporting a list to a file in a registered format."""

from __future__ import annotations

from pathlib import Path

from cosea.media.lists.formats import WriteOptions, get_format
from cosea.media.lists.store import ListStore


def export_file(
    store: ListStore,
    list_name: str,
    path: str | Path,
    format_name: str,
    *,
    signal: str | None = None,
    include_disabled: bool = False,
    tlp: str = "amber",
    source: str | None = None,
    options: dict[str, str] | None = None,
) -> int:
    """Write the list's (enabled, unless ``include_disabled``) entries; returns how many."""
    path = Path(path)
    list_format = get_format(format_name)
    info = store.get_list(list_name)
    entries = store.iter_entries(list_name, signal=signal, enabled_only=not include_disabled)
    write_options = WriteOptions(
        signal=signal,
        include_disabled=include_disabled,
        tlp=tlp,
        source=source,
        extra=dict(options or {}),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    # Written beside the target and renamed, so a failed export never leaves half a file.
    try:
        count = list_format.write(entries, partial, info, write_options)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count
