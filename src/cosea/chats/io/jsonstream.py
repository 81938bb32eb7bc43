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
from ijson.common import ObjectBuilder

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


def iter_json(
    path: Path, *, objects: frozenset[str], ends: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Any]]:
    """``(prefix, value)`` for each complete value at a prefix in ``objects``, in order.

    Prefixes are ijson's dotted paths (``messages.item``, ``chats.list.item.name``).
    Values at those prefixes are built whole, so ask only for small ones. For a
    map or list at a prefix in ``ends``, ``(prefix, CLOSED)`` comes when it closes.
    Raises :class:`JsonSyntaxError` (with the line) on invalid JSON.
    """
    with _open_json(path) as handle:
        builder: ObjectBuilder | None = None
        building = ""
        depth = 0
        try:
            for prefix, event, value in ijson.parse(handle, use_float=True):
                if builder is not None:
                    builder.event(event, value)
                    if event in ("start_map", "start_array"):
                        depth += 1
                    elif event in ("end_map", "end_array"):
                        depth -= 1
                        if depth == 0:
                            yield building, builder.value
                            builder = None
                    continue
                if prefix in objects:
                    if event in ("start_map", "start_array"):
                        builder = ObjectBuilder()
                        builder.event(event, value)
                        building, depth = prefix, 1
                        continue
                    if event not in ("map_key", "end_map", "end_array"):
                        yield prefix, value
                        continue
                if event in ("end_map", "end_array") and prefix in ends:
                    yield prefix, CLOSED
        except ijson.JSONError as error:
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
