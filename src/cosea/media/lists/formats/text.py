"""Plain text: one hash a line.

Blank lines and ``#`` comments (whole-line or after the hash) are ignored. The
signal is ``--signal``, else a ``# signal: NAME`` comment line before the first
hash (cosea's exports write one), else inferred from the length (32 hex md5, 40
sha1); 64 hex digits could be sha256 or pdq, so those need one of the first two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cosea.errors import InputError
from cosea.media.lists.formats import Item, Problem, ReadOptions, Record, WriteOptions
from cosea.media.lists.formats import register_format as _register

if TYPE_CHECKING:
    from cosea.media.lists.store import HashEntry, HashListInfo

_SIGNAL_DIRECTIVE = re.compile(r"^\s*#\s*signal\s*:\s*([A-Za-z0-9_-]+)\s*$")


def open_text(path: Path):  # type: ignore[no-untyped-def]
    # utf-8-sig: exports from Windows tools often start with a byte-order mark.
    return path.open(encoding="utf-8-sig", newline="")


class TextFormat:
    name = "text"
    description = "one hash a line; '#' comments; --signal or inferred from length"
    suffix = ".txt"

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        signal = options.signal
        try:
            with open_text(path) as handle:
                for number, line in enumerate(handle, start=1):
                    text = (line.split("#", 1)[0] if "#" in line else line).strip()
                    if not text:
                        directive = _SIGNAL_DIRECTIVE.match(line)
                        if directive and signal is None:
                            signal = directive.group(1).lower()
                        continue
                    if " " in text or "\t" in text:
                        yield Problem(
                            "expected one hash on the line, found several words", line=number
                        )
                        continue
                    yield Record(hash=text, signal=signal, line=number)
        except UnicodeDecodeError as error:
            raise InputError(path, f"not UTF-8 text ({error.reason})") from None

    def write(
        self,
        entries: Iterator[HashEntry],
        path: Path,
        info: HashListInfo,
        options: WriteOptions,
    ) -> int:
        count = 0
        signals: set[str] = set()
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(f"# cosea hash list {info.name!r} (scheme {info.category_scheme})\n")
            for entry in entries:
                if not signals:
                    handle.write(f"# signal: {entry.signal}\n")
                signals.add(entry.signal)
                if len(signals) > 1 and options.signal is None:
                    raise InputError(
                        path,
                        f"list {info.name!r} holds several signals ({', '.join(sorted(signals))}); "
                        "plain text keeps one: choose it with --signal",
                    )
                handle.write(entry.hash + "\n")
                count += 1
        return count


_register(TextFormat())
