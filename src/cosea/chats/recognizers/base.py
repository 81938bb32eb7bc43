"""The recognizer interface and registry (in the manner of Presidio's RecognizerRegistry).

A recognizer looks at one message (already normalised) with the conversation
context so far and emits :class:`~cosea.types.TechniqueHit` (a technique on a
span of the message) and/or :class:`~cosea.types.ContextSignal` (a non-textual
signal such as a self-disclosed age). Recognizers are registered by name in a
catalog; a :class:`RecognizerRegistry` holds the set a pipeline runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cosea.types import ContextSignal, Message, Participant, TechniqueHit


@dataclass(slots=True)
class NormalizedText:
    """A message's text after normalisation, with a map back to the original.

    ``text`` is what patterns run on; ``offsets[i]`` is the index in ``original``
    of ``text[i]`` (``offsets`` has ``len(text) + 1`` entries, the last one
    ``len(original)``), so a span found in ``text`` converts to the original.
    """

    original: str
    text: str
    offsets: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        if not self.offsets:
            return (0, 0)
        start = min(max(start, 0), len(self.offsets) - 1)
        end = min(max(end, start), len(self.offsets) - 1)
        original_end = self.offsets[end - 1] + 1 if end > start else self.offsets[start]
        return (self.offsets[start], min(original_end, len(self.original)))


@dataclass(slots=True)
class RecognizerContext:
    """What a recognizer may know about the conversation when it sees a message.

    Only what came before (and including) the current message: no look-ahead.
    ``scratch`` is per-recognizer, per-conversation state; keep it bounded.
    """

    conversation_id: str
    platform: str | None
    language: str | None
    participants: dict[str, Participant]
    message_index: int
    scratch: dict[str, Any] = field(default_factory=dict)

    def state_for(self, recognizer_name: str) -> dict[str, Any]:
        return self.scratch.setdefault(recognizer_name, {})


@dataclass(slots=True)
class Recognition:
    hits: list[TechniqueHit] = field(default_factory=list)
    signals: list[ContextSignal] = field(default_factory=list)


class Recognizer(ABC):
    """One recognizer: declares its name, the techniques it emits and its languages."""

    name: ClassVar[str]
    technique_ids: ClassVar[tuple[str, ...]] = ()
    languages: ClassVar[tuple[str, ...]] = ("*",)

    @abstractmethod
    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[TechniqueHit | ContextSignal]:
        """Findings for ``message``; must not look beyond it."""


_CATALOG: dict[str, Callable[[], Recognizer]] = {}


def register(
    factory: Callable[[], Recognizer], name: str | None = None
) -> Callable[[], Recognizer]:
    """Add a recognizer class (or factory) to the catalog under its name; usable as a decorator."""
    key = name or getattr(factory, "name", None)
    if not key:
        raise ValueError("a recognizer needs a name")
    _CATALOG[key] = factory
    return factory


def catalog() -> dict[str, Callable[[], Recognizer]]:
    return dict(_CATALOG)


class RecognizerRegistry:
    """The recognizers one pipeline runs, in order."""

    def __init__(self, recognizers: Iterable[Recognizer] = ()) -> None:
        self._recognizers: dict[str, Recognizer] = {}
        for recognizer in recognizers:
            self.add(recognizer)

    def add(self, recognizer: Recognizer) -> None:
        self._recognizers[recognizer.name] = recognizer

    def remove(self, name: str) -> None:
        self._recognizers.pop(name, None)

    def get(self, name: str) -> Recognizer:
        return self._recognizers[name]

    def names(self) -> list[str]:
        return list(self._recognizers)

    def __iter__(self) -> Iterator[Recognizer]:
        return iter(self._recognizers.values())

    def technique_ids(self) -> set[str]:
        return {t for r in self._recognizers.values() for t in r.technique_ids}

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Recognition:
        result = Recognition()
        for recognizer in self._recognizers.values():
            for finding in recognizer.recognize(message, text, context):
                if isinstance(finding, TechniqueHit):
                    result.hits.append(finding)
                else:
                    result.signals.append(finding)
        return result
