"""First checks of the recognizer pipeline end to end (details live in the other test files)."""

from __future__ import annotations

from cosea.chats.recognizers import (
    PatternHit,
    RecognizerContext,
    available_recognizers,
    default_registry,
    recognize_message,
)
from cosea.types import Message, Participant


def _context(index: int = 0, scratch: dict | None = None) -> RecognizerContext:
    participants = {
        "a": Participant("a", declared_age=16),
        "b": Participant("b", declared_age=13),
    }
    return RecognizerContext("c1", "game_chat", "en", participants, index, scratch or {})


def test_default_registry_runs_and_finds_an_age_probe() -> None:
    registry = default_registry(languages=["en"])
    message = Message("m1", "a", "so how old r u btw?")
    recognition = recognize_message(registry, message, _context())
    hits = [h for h in recognition.hits if h.technique_id == "T0101"]
    assert hits, recognition
    hit = hits[0]
    assert isinstance(hit, PatternHit)
    assert hit.message_id == "m1" and hit.recognizer == "patterns"
    assert hit.side == "adult-side"
    assert message.text[hit.start : hit.end].startswith("how old")


def test_catalog_lists_builtin_recognizers() -> None:
    names = available_recognizers()
    for name in ("patterns", "self_disclosed_age", "age_gap", "new_account", "semantic"):
        assert name in names
