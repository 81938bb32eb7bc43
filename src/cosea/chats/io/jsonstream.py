"""Streaming over one large JSON document (platform exports) with ijson.

An export is one JSON object holding a list of messages that may be gigabytes
long. :func:`iter_json` walks the parse events and builds only the small values
asked for (a message, a channel description), so memory holds one message at a
time.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import ijson

from cosea.chats.io.base import open_binary


class _Closed:
    __slots__ = ()


CLOSED = _Closed()
"""Yielded as the value when a container listed in ``ends`` closes."""


class JsonSyntaxError(Exception):
    """The document is not valid JSON; ``line`` is where the parser stopped, when known."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def _open_json(path: Path) -> IO[bytes]:
    """The document's bytes without a leading byte-order mark (which JSON parsers reject)."""
    handle = open_binary(path)
    if handle.read(3) != b"\xef\xbb\xbf":
        handle.seek(0)
    return handle


ITEM = "item"
"""The prefix reported with each value built whole (a message)."""

_CANONICAL = "\x00item"
# ijson's item builder takes the events of a whole read buffer at once; a small
# buffer keeps that batch (and so peak memory) small at little cost in speed.
_BUFFER_BYTES = 16 * 1024
_CONTAINER_EVENTS = frozenset({"start_map", "start_array", "end_map", "end_array", "map_key"})
_CLOSING_EVENTS = frozenset({"end_map", "end_array"})


def iter_json(
    path: Path,
    *,
    items: frozenset[str],
    scalars: frozenset[str] = frozenset(),
    ends: frozenset[str] = frozenset(),
) -> Iterator[tuple[str, Any]]:
    """Stream a JSON document as ``(prefix, value)`` in document order.

    Prefixes are ijson's dotted paths (``messages.item``, ``chats.list.item.name``).
    A value at a prefix in ``items`` is built whole (keep them small: one message)
    and comes as ``(ITEM, value)``; a scalar at a prefix in ``scalars`` comes as
    ``(prefix, value)``; when a map or list at a prefix in ``ends`` closes,
    ``(prefix, CLOSED)`` comes. Raises :class:`JsonSyntaxError` (with the line)
    on invalid JSON.

    Items are built by ijson's C code: every item prefix is renamed to one
    before the events reach it (ijson matches an item on its first event only),
    and the scalars and ends are noted on the way past, in order.
    """
    watched = items | scalars | ends
    noted: list[tuple[str, Any]] = []

    def renamed(handle: IO[bytes]) -> Iterator[tuple[str, str, Any]]:
        for prefix, event, value in ijson.parse(handle, buf_size=_BUFFER_BYTES, use_float=True):
            if prefix in watched:
                if prefix in items:
                    yield _CANONICAL, event, value
                    continue
                if prefix in scalars and event not in _CONTAINER_EVENTS:
                    noted.append((prefix, value))
                elif prefix in ends and event in _CLOSING_EVENTS:
                    noted.append((prefix, CLOSED))
            yield prefix, event, value

    with _open_json(path) as handle:
        try:
            for item in ijson.items(renamed(handle), _CANONICAL):
                if noted:
                    yield from list(noted)
                    noted.clear()
                yield ITEM, item
            yield from list(noted)
        except ijson.JSONError as error:
            yield from list(noted)
            raise JsonSyntaxError(_first_line(str(error)), locate_json_error(path)) from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid JSON"


def locate_json_error(path: Path) -> int | None:
    """The line where a JSON document stops being valid (only on the error path).

    The fast parser does not say where it failed; the pure-Python one gives a
    character offset, which a second streaming pass turns into a line number.
    """
    from ijson.backends import python as slow_backend

    offset: int | None = None
    try:
        with _open_json(path) as handle:
            for _ in slow_backend.basic_parse(handle):
                pass
    except ijson.JSONError as error:
        text = str(error)
        if " at " in text and text.rsplit(" at ", 1)[1].isdigit():
            offset = int(text.rsplit(" at ", 1)[1])
    except UnicodeDecodeError:
        return None
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line, seen, text = 1, 0, ""
    with _open_json(path) as handle:
        while chunk := handle.read(64 * 1024):
            text = decoder.decode(chunk)
            if offset is not None and seen + len(text) > offset:
                return line + text.count("\n", 0, offset - seen)
            line += text.count("\n")
            seen += len(text)
    # Cut short (a premature end): the error is on the last line.
    return line - 1 if text.endswith("\n") and line > 1 else line
