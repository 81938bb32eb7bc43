"""The recognizer interface and registry (in the manner of Presidio's RecognizerRegistry).

A recognizer looks at one message (already normalised) with the conversation
context so far and emits :class:`~cosea.types.TechniqueHit` (a technique on a
span of the message) and/or :class:`~cosea.types.ContextSignal` (a non-textual
signal such as a self-disclosed age). Recognizers are registered by name in a
catalog; a :class:`RecognizerRegistry` holds the set a pipeline runs.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cosea.types import ContextSignal, Message, Participant, TechniqueHit

Edit = tuple[int, int, int, int]  # (new_start, new_end, old_start, old_end)
_WORD = re.compile(r"[a-z0-9_]+")
_DIGIT = re.compile(r"\d")
_NORMALIZE: dict[str, Callable[..., Any]] = {}


def _normalize_function(name: str) -> Callable[..., Any]:
    """A function of :mod:`cosea.chats.normalize`, fetched on first use (that module
    imports this one) and then kept (an import statement in a method costs a module
    look-up on every call)."""
    function = _NORMALIZE.get(name)
    if function is None:
        from cosea.chats import normalize

        function = _NORMALIZE[name] = getattr(normalize, name)
    return function


class NormalizedText:
    """A message's text after normalisation, with a map back to the original.

    ``text`` is what patterns run on; ``offsets[i]`` is the index in ``original``
    of ``text[i]`` (``offsets`` has ``len(text) + 1`` entries, the last one
    ``len(original)``), so a span found in ``text`` converts to the original.

    Work is done on first use: :meth:`deferred` wraps a raw message, ``folded``
    (case-folded, Unicode-normalised, same words) is cheap and is what
    prefilters look at, and ``text`` and ``offsets`` are only computed for the
    few messages a prefilter lets through.
    """

    __slots__ = (
        "_derived",
        "_fold_edits",
        "_gate",
        "_offsets",
        "_stages",
        "_text",
        "folded",
        "has_digit",
        "original",
        "plain",
        "words",
    )

    def __init__(
        self, original: str, text: str | None = None, offsets: list[int] | None = None
    ) -> None:
        self.original = original
        self._text = text
        self._offsets = offsets
        self._stages: list[tuple[int, int, list[Edit]]] | None = None
        # The recognizers a registry calls on this text (see RecognizerRegistry.recognize):
        # computed once per text, and a remembered text is seen again and again.
        # (registry generation, calls on a later message, calls on a sender's first):
        # one attribute, so that two registries working on the same remembered text
        # in two threads never pair one's mark with the other's calls
        self._gate: (
            tuple[object, Sequence[Callable[..., Any]] | None, Sequence[Callable[..., Any]] | None]
            | None
        ) = None
        self._derived: dict[str, Any] | None = None
        # The cheap first step, done at once: every recognizer's gate reads it. Plain
        # ASCII, most chat, only needs lower-casing (the fold's own fast path, inlined).
        if original.isascii():
            folded = original.lower()
            # None, not []: no list per remembered text for the garbage collector
            self._fold_edits: list[Edit] | None = None
        else:
            fold = _NORMALIZE.get("fold") or _normalize_function("fold")
            folded, self._fold_edits = fold(original)
        #: case-folded, NFKC, accent-free text with emoji tokens; words not yet rewritten
        self.folded: str = folded
        #: ``folded`` without apostrophes ("don't" -> "dont"), what prefilters scan
        self.plain: str = folded.replace("'", "") if "'" in folded else folded
        #: the words of ``plain``: what cheap prefilters look up (a tuple: the garbage
        #: collector stops visiting a tuple of strings, and texts are remembered)
        self.words: tuple[str, ...] = tuple(_WORD.findall(self.plain))
        self.has_digit: bool = _DIGIT.search(folded) is not None

    def derived(self, key: str, compute: Callable[[NormalizedText], Any]) -> Any:
        """``compute(self)``, once per text and ``key``: for a recognizer's work that
        depends on the text alone. The default normaliser hands out the same object for
        a text seen recently, so a repeated message finds the value already there."""
        derived = self._derived
        if derived is None:
            derived = self._derived = {}
        elif key in derived:
            return derived[key]
        value = derived[key] = compute(self)
        return value

    @classmethod
    def deferred(cls, original: str) -> NormalizedText:
        """Normalise ``original`` lazily, on first access to ``text``."""
        return cls(original)

    @classmethod
    def from_edits(
        cls, original: str, text: str, stages: list[tuple[int, list[Edit]]]
    ) -> NormalizedText:
        """``stages``: per normalisation step, (length after it, its edits), in order."""
        result = cls(original, text)
        result._set_stages(stages)
        return result

    def _set_stages(self, stages: list[tuple[int, list[Edit]]]) -> None:
        lengths = [len(self.original)] + [length for length, _ in stages]
        self._stages = [(lengths[i + 1], lengths[i], edits) for i, (_, edits) in enumerate(stages)]

    @property
    def text(self) -> str:
        if self._text is None:
            normalize_folded = _NORMALIZE.get("normalize_folded") or _normalize_function(
                "normalize_folded"
            )
            text, stages = normalize_folded(self.original, self.folded, self._fold_edits or [])
            self._text = text
            if stages:
                self._set_stages(stages)
        return self._text

    @property
    def offsets(self) -> list[int]:
        if self._offsets is None:
            self._offsets = self._build_offsets()
        return self._offsets

    def _build_offsets(self) -> list[int]:
        text = self.text
        if not self._stages:
            if len(text) == len(self.original):
                return list(range(len(text) + 1))
            raise ValueError("normalised text changed length but recorded no edits")
        offsets_from_edits = _normalize_function("offsets_from_edits")

        composed: list[int] | None = None
        for new_length, old_length, edits in self._stages:
            if not edits:
                continue
            step = offsets_from_edits(new_length, old_length, edits)
            composed = step if composed is None else [composed[i] for i in step]
        return composed if composed is not None else list(range(len(text) + 1))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        offsets = self.offsets
        if not offsets:
            return (0, 0)
        start = min(max(start, 0), len(offsets) - 1)
        end = min(max(end, start), len(offsets) - 1)
        original_end = offsets[end - 1] + 1 if end > start else offsets[start]
        return (offsets[start], min(original_end, len(self.original)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NormalizedText):
            return NotImplemented
        return (self.original, self.text, self.offsets) == (
            other.original,
            other.text,
            other.offsets,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"NormalizedText(original={self.original!r}, text={self.text!r})"


SPEAKER_SIDES = ("adult-side", "child-side", "any")


@dataclass(slots=True)
class PatternHit(TechniqueHit):
    """A technique hit from a phrase pattern, with the side it is typically risky from.

    ``side`` is ``adult-side`` (counts when the speaker turns out to be the
    suspect: "how old r u" between two children is small talk) or ``any``.
    ``pattern`` names the pattern that matched, for the reviewer's explanation.
    """

    side: str = "any"
    pattern: str | None = None


# The registry's own per-conversation record in ``RecognizerContext.scratch``: messages
# seen from each sender so far (one integer per participant), saved with the rest.
SENT_KEY = "_messages_by_sender"


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
        state = self.scratch.get(recognizer_name)
        if state is None:
            state = self.scratch[recognizer_name] = {}
        return state

    def messages_from(self, sender: str) -> int | None:
        """Messages from ``sender`` so far, this one included, as counted by the registry;
        None when the recognizer is called outside a registry."""
        sent = self.scratch.get(SENT_KEY)
        return None if sent is None else sent.get(sender, 0)


@dataclass(slots=True)
class Recognition:
    hits: list[TechniqueHit] = field(default_factory=list)
    signals: list[ContextSignal] = field(default_factory=list)


# What most messages get: shared, never to be changed in place.
NOTHING_FOUND = Recognition((), ())  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Triggers:
    """The only messages on which a recognizer can find anything or change its state.

    The registry calls a recognizer with triggers only on a message that has one of
    ``words`` among its words (``NormalizedText.words``), a digit (``digit``), one of
    ``characters`` (single characters) in its original text, or that is its sender's first message in the
    conversation (``new_sender``). Most messages trip none, and the registry then skips
    the recognizer without calling it: the per-message cost of a pipeline is mostly
    Python calls that find nothing. A recognizer without triggers sees every message.
    """

    words: frozenset[str] = frozenset()
    digit: bool = False
    characters: frozenset[str] = frozenset()
    new_sender: bool = False

    def __or__(self, other: Triggers) -> Triggers:
        return Triggers(
            words=self.words | other.words,
            digit=self.digit or other.digit,
            characters=self.characters | other.characters,
            new_sender=self.new_sender or other.new_sender,
        )

    def fire(self, text: NormalizedText, new_sender: bool) -> bool:
        # cheapest checks first; set.isdisjoint runs over a list or a string in C
        return (
            (new_sender and self.new_sender)
            or (self.digit and text.has_digit)
            or not self.words.isdisjoint(text.words)
            or (bool(self.characters) and not self.characters.isdisjoint(text.original))
        )


class Recognizer(ABC):
    """One recognizer: declares its name, the techniques it emits and its languages.

    ``triggers`` (optional) tells the registry which messages it can skip the
    recognizer on; a recognizer that declares them must return nothing, and change
    no state, on any other message. ``text_only``: what it finds depends on the
    message's text alone (tied to the message's id and sender), never on the context
    or earlier messages; the registry then skips it on a text it found nothing in
    before.
    """

    name: ClassVar[str]
    technique_ids: ClassVar[tuple[str, ...]] = ()
    languages: ClassVar[tuple[str, ...]] = ("*",)
    triggers: ClassVar[Triggers | None] = None
    text_only: ClassVar[bool] = False

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


#: Distinct remembered gates kept as shared objects, per registry (see ``_share``).
_MAX_SHARED_GATES = 4096


class RecognizerRegistry:
    """The recognizers one pipeline runs, in order."""

    def __init__(
        self,
        recognizers: Iterable[Recognizer] = (),
        *,
        use_triggers: bool = True,
        remember_texts: bool = True,
    ) -> None:
        """``use_triggers=False`` calls every recognizer on every message, and
        ``remember_texts=False`` works out anew for every message which recognizers to
        call, instead of once per text (both slower; the same findings, which the tests
        check)."""
        self.use_triggers = use_triggers
        self.remember_texts = remember_texts
        self._recognizers: dict[str, Recognizer] = {}
        self._untriggered: list[Callable[..., Iterable[TechniqueHit | ContextSignal]]] = []
        self._gated: list[tuple[Triggers | None, Callable[..., Any]]] = []
        self._any_trigger: Triggers | None = None
        self._token = object()  # changes with the recognizers; marks texts' cached calls
        self._text_only: frozenset[Callable[..., Any]] = frozenset()
        # The remembered call lists and gates, one shared object per distinct value:
        # there are a few dozen, and a remembered text would otherwise keep its own
        # tuples, thousands of objects the garbage collector visits on every full pass.
        self._shared: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for recognizer in recognizers:
            self.add(recognizer)

    def add(self, recognizer: Recognizer) -> None:
        self._recognizers[recognizer.name] = recognizer
        self._bind()

    def remove(self, name: str) -> None:
        self._recognizers.pop(name, None)
        self._bind()

    def _bind(self) -> None:
        # The per-message loop calls these directly, in registration order: all of them
        # (each checked against its triggers) when a message trips any recognizer's
        # triggers, else only those without triggers.
        recognizers = list(self._recognizers.values())
        self._token = object()
        self._shared = {}
        self._text_only = frozenset(r.recognize for r in recognizers if r.text_only)
        self._gated = [(r.triggers, r.recognize) for r in recognizers]
        self._untriggered = [r.recognize for r in recognizers if r.triggers is None]
        if not self.use_triggers:
            self._gated = [(None, r.recognize) for r in recognizers]
            self._untriggered = [r.recognize for r in recognizers]
        declared = [r.triggers for r in recognizers if r.triggers is not None and self.use_triggers]
        self._any_trigger = None
        for triggers in declared:
            self._any_trigger = (
                triggers if self._any_trigger is None else self._any_trigger | triggers
            )

    def get(self, name: str) -> Recognizer:
        return self._recognizers[name]

    def names(self) -> list[str]:
        return list(self._recognizers)

    def __iter__(self) -> Iterator[Recognizer]:
        return iter(self._recognizers.values())

    def technique_ids(self) -> set[str]:
        return {t for r in self._recognizers.values() for t in r.technique_ids}

    def _calls(self, text: NormalizedText, new_sender: bool) -> list[Callable[..., Any]]:
        """The recognizers whose triggers ``text`` trips, and those without triggers."""
        any_trigger = self._any_trigger
        if any_trigger is None or not (
            (new_sender and any_trigger.new_sender)
            or (text.has_digit and any_trigger.digit)
            or not any_trigger.words.isdisjoint(text.words)
            or (any_trigger.characters and not any_trigger.characters.isdisjoint(text.original))
        ):
            return self._untriggered
        return [
            recognize
            for triggers, recognize in self._gated
            if triggers is None or triggers.fire(text, new_sender)
        ]

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Recognition:
        sent = context.scratch.get(SENT_KEY)
        if sent is None:
            sent = context.scratch[SENT_KEY] = {}
        count = sent.get(message.sender, 0) + 1
        sent[message.sender] = count
        first = count == 1
        gate = text._gate
        remembered = None
        if gate is not None and gate[0] is self._token and self.remember_texts:
            remembered = gate[2] if first else gate[1]
        if remembered is not None:
            # A text seen before: the recognizers its words trip, less the text-only
            # ones that found nothing in it then (and so never will).
            if not remembered:
                return NOTHING_FOUND  # most messages: nothing to call, nothing allocated
            hits: list[TechniqueHit] = []
            signals: list[ContextSignal] = []
            for recognize in remembered:
                for finding in recognize(message, text, context):
                    if isinstance(finding, TechniqueHit):
                        hits.append(finding)
                    else:
                        signals.append(finding)
        else:
            hits = []
            signals = []
            calls = self._calls(text, new_sender=first)
            silent: list[Callable[..., Any]] = []
            for recognize in calls:
                findings = recognize(message, text, context)
                if not findings:  # most recognizers, most messages: an empty tuple
                    if recognize in self._text_only:
                        silent.append(recognize)
                    continue
                for finding in findings:
                    if isinstance(finding, TechniqueHit):
                        hits.append(finding)
                    else:
                        signals.append(finding)
            if self.remember_texts:
                kept = tuple(c for c in calls if c not in silent)
                # A sender's first message may trip more (profile ages, new accounts):
                # it has a list of its own.
                if gate is None or gate[0] is not self._token:
                    gate = (self._token, None, None)
                later, first_calls = (gate[1], kept) if first else (kept, gate[2])
                text._gate = self._share((self._token, later, first_calls))
        if not hits and not signals:
            return NOTHING_FOUND
        return Recognition(hits, signals)

    def _share(self, gate: tuple[Any, ...]) -> tuple[Any, ...]:
        """``gate`` with its call tuples as shared objects (see ``_shared``)."""
        shared = self._shared
        if len(shared) >= _MAX_SHARED_GATES:
            return gate  # beyond the bound (very many recognizers) texts keep their own
        token, later, first = gate
        if later is not None:
            later = shared.setdefault(later, later)
        if first is not None:
            first = shared.setdefault(first, first)
        gate = (token, later, first)
        return shared.setdefault(gate, gate)
