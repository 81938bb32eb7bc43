"""A bounded memo for work that depends only on a message's text.

Chat repeats itself: "ok", "lol", "gg", greetings, copy-pasted spam and scam
scripts make up a large share of any real stream, and what a text-only step
(normalisation, the pattern scan) finds in such a text is the same every time.
The memo keeps the results for recently seen texts in two generations: when
the young one fills up it becomes the old one (the previous old one is
dropped), and a hit in the old one moves back to the young one, so frequent
texts stay and memory stays bounded at twice ``limit`` entries.

The texts stay in the process's memory only, never on disk, and only while
recent. The batch tools (``cosea chats analyze``, the benchmark, triage, scale-out)
use it through the default normaliser; the long-running service does not
(``cosea.service.analysis``): it keeps message text only under its retention rules.
"""

from __future__ import annotations

from typing import Generic, TypeVar

Value = TypeVar("Value")

#: Longer texts are not remembered: they rarely repeat, and each costs memory.
MAX_TEXT_LENGTH = 280
DEFAULT_LIMIT = 16_384


class TextMemo(Generic[Value]):
    """Text -> value, bounded (see the module docstring); not thread-aware beyond
    the atomicity of single dict operations, which is all it needs."""

    __slots__ = ("_old", "limit", "young")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        #: The young generation: callers on a hot path look there first, without a
        #: call (an attribute, not a property: a property is a call). Read it afresh
        #: each time, it is replaced when it fills up.
        self.young: dict[str, Value] = {}
        self._old: dict[str, Value] = {}

    def get(self, text: str) -> Value | None:
        value = self.young.get(text)
        if value is not None:
            return value
        value = self._old.get(text)
        if value is not None:
            self.put(text, value)
        return value

    def put(self, text: str, value: Value) -> None:
        if len(text) > MAX_TEXT_LENGTH:
            return
        young = self.young
        if len(young) >= self.limit:
            self._old = young
            young = self.young = {}
        young[text] = value

    def __len__(self) -> int:
        return len(self.young) + len(self._old)

    def clear(self) -> None:
        self.young = {}
        self._old = {}
