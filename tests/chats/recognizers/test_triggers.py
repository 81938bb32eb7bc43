"""Triggers and memos: the registry skips a recognizer on messages that cannot trip it,
and texts seen before reuse what was worked out for them; neither changes a finding
(checked against calling every recognizer on every message, working everything out anew)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from recognizer_helpers import make_context

from cosea.chats.analysis import analyze_stream
from cosea.chats.analysis.pipeline import memo_normalizer
from cosea.chats.io import read_conversations, stream_messages
from cosea.chats.recognizers import (
    NormalizedText,
    Recognizer,
    RecognizerContext,
    RecognizerRegistry,
    default_registry,
)
from cosea.chats.recognizers._memo import TextMemo
from cosea.chats.recognizers.base import Triggers
from cosea.types import ContextSignal, Conversation, Message, Participant, TechniqueHit


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


def _twice(files: list[Path]) -> list[Conversation]:
    """Every conversation, then each again under a new id: every text is seen twice."""
    conversations = list(read_conversations(files, reader="jsonl"))
    again = [replace(c, id=f"{c.id}-again") for c in conversations]
    return conversations + again


def test_remembering_texts_changes_no_finding(dev_conversation_files: list[Path]) -> None:
    """The per-text memos (the normaliser's, and what is kept on a text: the pattern
    findings, the registry's list of recognizers to call, the age cues) against working
    everything out on every message (a fresh NormalizedText for each, below)."""
    remembering = default_registry()
    forgetting = RecognizerRegistry(
        list(default_registry()), use_triggers=False, remember_texts=False
    )
    conversations = _twice(dev_conversation_files)
    # without the batch context, which would see each account a second time
    remembered = [
        a.to_dict()
        for a in analyze_stream(conversations, registry=remembering, batch_context=False)
    ]
    forgotten = [
        a.to_dict()
        for a in analyze_stream(
            conversations, registry=forgetting, normalizer=NormalizedText, batch_context=False
        )
    ]
    assert remembered == forgotten
    # the copies, every text seen before, are assessed as the originals were
    half = len(remembered) // 2
    for first, second in zip(remembered[:half], remembered[half:], strict=True):
        assert {**second, "conversation_id": first["conversation_id"]} == first


def test_a_text_only_recognizer_is_not_called_again_on_a_text_it_found_nothing_in() -> None:
    class _TextOnly(_Counting):
        name = "text_only"
        triggers = None
        text_only = True

        def recognize(self, message, text, context):  # type: ignore[no-untyped-def]
            self.seen.append(message.id)
            if "alone" in text.words:
                return (TechniqueHit(message.id, "T0103", 0, 1, 0.5, self.name),)
            return ()

    counting = _TextOnly()
    registry = RecognizerRegistry([counting])
    context = make_context([Participant("a"), Participant("b")])
    texts = ["hi", "hi", "ok", "are you alone", "hi", "are you alone", "ok"]
    for index, text in enumerate(texts):
        context.message_index = index
        found = registry.recognize(Message(f"m{index}", "a", text), NormalizedText(text), context)
        assert bool(found.hits) == ("alone" in text)
    # a new NormalizedText per message: nothing to remember yet
    assert counting.seen == [f"m{i}" for i in range(len(texts))]
    shared = {text: NormalizedText(text) for text in set(texts)}
    counting.seen.clear()
    for index, text in enumerate(texts):
        registry.recognize(Message(f"n{index}", "a", text), shared[text], context)
    # "hi" and "ok" once each; the text it finds something in every time
    assert counting.seen == ["n0", "n2", "n3", "n5"]


def test_a_first_message_reuses_what_its_text_tripped_before() -> None:
    """A sender's first message trips more recognizers (profile ages, new accounts),
    so it is remembered apart from later messages; a text-only recognizer that found
    nothing in the text is skipped there too, the others still run every time."""

    class _TextOnly(_Counting):
        name = "text_only"
        triggers = None
        text_only = True

    class _FirstMessage(_Counting):
        name = "first_message"
        triggers = Triggers(new_sender=True)

    text_only, first_message = _TextOnly(), _FirstMessage()
    registry = RecognizerRegistry([text_only, first_message])
    shared = NormalizedText("hey there")
    for conversation in range(3):
        context = make_context([Participant("a"), Participant("b")])
        for index, sender in enumerate(["a", "a", "b"]):
            context.message_index = index
            message = Message(f"c{conversation}m{index}", sender, "hey there")
            registry.recognize(message, shared, context)
    # first messages (m0 from a, m2 from b) and the later one (m1) each once for the
    # text-only recognizer; the first-message one on every sender's first message
    assert text_only.seen == ["c0m0", "c0m1"]
    assert first_message.seen == ["c0m0", "c0m2", "c1m0", "c1m2", "c2m0", "c2m2"]


def test_remembered_texts_share_their_call_lists() -> None:
    """Thousands of remembered texts hold a few distinct gates: one object each, not
    one per text (the garbage collector visits every object on a full pass)."""
    registry = default_registry()
    normalize = memo_normalizer()
    context = make_context([Participant("a"), Participant("b")])
    texts = [f"see you at {number}" for number in range(200)] + ["lol", "gg", "ok"] * 50
    for index, text in enumerate(texts * 2):
        context.message_index = index
        registry.recognize(Message(f"m{index}", "a", text), normalize(text), context)
    gates = {id(normalize(text)._gate) for text in texts}
    assert 1 <= len(gates) <= 8


def test_the_text_memo_is_bounded_and_keeps_what_is_used() -> None:
    memo: TextMemo[int] = TextMemo(limit=4)
    for number in range(100):
        memo.put(f"text {number}", number)
        assert memo.get("text 0") == 0 or number >= 4  # used: survives each roll-over
        assert len(memo) <= 8
    assert memo.get("text 0") == 0
    assert memo.get("text 50") is None
    memo.put("x" * 10_000, 1)  # long texts are not remembered
    assert memo.get("x" * 10_000) is None


def test_the_default_normaliser_returns_the_same_object_for_a_repeated_text() -> None:
    normalize = memo_normalizer()
    first = normalize("are you alone")
    assert normalize("are you alone") is first
    assert first == NormalizedText("are you alone")
