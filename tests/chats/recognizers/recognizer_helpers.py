"""Helpers for the recognizer tests: message runners with a shared context."""

from __future__ import annotations

from collections.abc import Iterable

from cosea.chats.recognizers import (
    Recognition,
    RecognizerContext,
    RecognizerRegistry,
    recognize_message,
)
from cosea.types import Message, Participant


def make_context(
    participants: Iterable[Participant] | None = None, index: int = 0, scratch: dict | None = None
) -> RecognizerContext:
    people = list(participants or [Participant("a"), Participant("b")])
    return RecognizerContext(
        "conv-1", "game_chat", None, {p.id: p for p in people}, index, scratch or {}
    )


def run(registry: RecognizerRegistry, text: str, sender: str = "a") -> Recognition:
    return recognize_message(registry, Message("m1", sender, text), make_context())


def techniques(registry: RecognizerRegistry, text: str, sender: str = "a") -> set[str]:
    return {hit.technique_id for hit in run(registry, text, sender).hits}


def run_conversation(
    registry: RecognizerRegistry,
    messages: list[tuple[str, str]],
    participants: Iterable[Participant] | None = None,
    timestamps: list | None = None,
) -> list[Recognition]:
    """Recognise each (sender, text) in order with one shared context, as the analyser does."""
    context = make_context(participants)
    results = []
    for index, (sender, text) in enumerate(messages):
        context.message_index = index
        ts = timestamps[index] if timestamps else None
        message = Message(f"m{index + 1}", sender, text, ts=ts)
        results.append(recognize_message(registry, message, context))
    return results
