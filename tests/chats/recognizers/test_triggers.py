"""Triggers: the registry skips a recognizer on messages that cannot trip it, and that
changes no finding (checked against calling every recognizer on every message)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from recognizer_helpers import make_context

from cosea.chats.analysis import analyze_stream
from cosea.chats.io import stream_messages
from cosea.chats.recognizers import (
    NormalizedText,
    Recognizer,
    RecognizerContext,
    RecognizerRegistry,
    default_registry,
)
from cosea.chats.recognizers.base import Triggers
from cosea.types import ContextSignal, Message, Participant, TechniqueHit


class _Counting(Recognizer):
    name = "counting"
    triggers: ClassVar[Triggers | None] = Triggers(
        words=frozenset({"alone"}), characters=frozenset("["), new_sender=True
    )

    def __init__(self) -> None:
        self.seen: list[str] = []

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[TechniqueHit | ContextSignal]:
        self.seen.append(message.id)
        return ()


def test_a_recognizer_runs_only_on_messages_that_trip_its_triggers() -> None:
    counting = _Counting()
    registry = RecognizerRegistry([counting])
    context = make_context([Participant("a"), Participant("b")])
    messages = [
        Message("m1", "a", "hi"),  # a's first message
        Message("m2", "a", "what's up"),
        Message("m3", "b", "not much"),  # b's first message
        Message("m4", "b", "are you ALONE"),  # a trigger word, after folding
        Message("m5", "a", "[image]"),  # a trigger character
        Message("m6", "a", "ok 14"),  # digits are not among its triggers
    ]
    for index, message in enumerate(messages):
        context.message_index = index
        registry.recognize(message, NormalizedText(message.text), context)
    assert counting.seen == ["m1", "m3", "m4", "m5"]
    assert context.messages_from("a") == 4 and context.messages_from("b") == 2


def test_without_triggers_every_message_is_seen() -> None:
    counting = _Counting()
    registry = RecognizerRegistry([counting], use_triggers=False)
    context = make_context()
    for index, text in enumerate(["hi", "ok", "fine"]):
        context.message_index = index
        registry.recognize(Message(f"m{index}", "a", text), NormalizedText(text), context)
    assert counting.seen == ["m0", "m1", "m2"]


def _assessments(files: list[Path], registry: RecognizerRegistry) -> list[dict]:
    return [
        a.to_dict()
        for a in analyze_stream(stream_messages(files, reader="jsonl"), registry=registry)
    ]


def test_triggers_change_no_finding_on_the_development_set(
    dev_conversation_files: list[Path],
) -> None:
    gated = default_registry()
    everything = RecognizerRegistry(list(gated), use_triggers=False)
    assert _assessments(dev_conversation_files, gated) == _assessments(
        dev_conversation_files, everything
    )
