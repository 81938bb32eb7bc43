"""The streaming analyser: equivalence, no look-ahead, persistence, hysteresis, bounds."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from analysis_helpers import GROOMING, hand_model, lower, make_conversation

from cosea.chats.analysis import (
    FEATURE_NAMES,
    MAX_EVIDENCE,
    ConversationAnalyzer,
    analyze_conversation,
    analyze_stream,
)
from cosea.errors import InputError
from cosea.types import Conversation, ConversationClass, Message


def run_all(conversation: Conversation, model, registry) -> list:
    analyzer = ConversationAnalyzer(model, registry, conversation=conversation, normalizer=lower)
    return [analyzer.observe(m).to_dict() for m in conversation.messages]


def test_grooming_raises_alert_with_reasons(grooming, model, registry):
    assessment = analyze_conversation(grooming, model, registry, normalizer=lower)
    assert assessment.alert
    assert assessment.cls == ConversationClass.SEXTORTION
    assert assessment.suspect == "u2"
    assert assessment.stage == "TA07"
    assert assessment.tactics_seen[0] == "TA01"
    assert assessment.tactics_seen == sorted(assessment.tactics_seen)
    reasons = [e.reason for e in assessment.evidence]
    assert (
        "u2 asked the other participant to keep the chat secret (T0401 Secrecy request)" in reasons
    )
    # only the suspect's messages carry techniques
    senders = {m.id: m.sender for m in grooming.messages}
    assert assessment.techniques and all(senders[m] == "u2" for m in assessment.techniques)
    assert assessment.techniques["m8"] == ["T0403", "T0401"] or set(
        assessment.techniques["m8"]
    ) == {
        "T0401",
        "T0403",
    }
    assert any(s.kind == "self_disclosed_age" for s in assessment.context)


def test_benign_has_no_prediction_content(benign, model, registry):
    assessment = analyze_conversation(benign, model, registry, normalizer=lower)
    prediction = assessment.to_prediction()
    assert prediction == {
        "id": "t-benign",
        "class": "benign",
        "risk": prediction["risk"],
        "suspect": None,
        "alert_message": None,
        "techniques": {},
        "stage": None,
    }
    assert prediction["risk"] < model.alert_threshold


def test_batch_and_streaming_give_identical_assessments(grooming, model, registry):
    streamed = run_all(grooming, model, registry)
    batch = analyze_conversation(grooming, model, registry, normalizer=lower)
    assert streamed[-1] == batch.to_dict()
    (from_stream,) = analyze_stream(
        [grooming], model, registry, normalizer=lower, batch_context=False
    )
    assert from_stream.to_dict() == batch.to_dict()
    header = replace(grooming, messages=[])
    pairs = [(header, m) for m in grooming.messages]
    (from_pairs,) = analyze_stream(pairs, model, registry, normalizer=lower, batch_context=False)
    assert from_pairs.to_dict() == batch.to_dict()


def test_no_look_ahead(grooming, model, registry):
    full = run_all(grooming, model, registry)
    final = full[-1]
    alert_index = [m.id for m in grooming.messages].index(final["alert_message"])
    for k in range(1, len(grooming.messages) + 1):
        truncated = replace(grooming, messages=grooming.messages[:k])
        prefix = run_all(truncated, model, registry)
        assert prefix == full[:k]
        if k > alert_index:
            assert prefix[-1]["alert_message"] == final["alert_message"]
        else:
            assert prefix[-1]["alert_message"] is None


def test_earlier_assessments_never_change(grooming, model, registry):
    analyzer = ConversationAnalyzer(model, registry, conversation=grooming, normalizer=lower)
    kept = [analyzer.observe(m) for m in grooming.messages]
    snapshots = [a.to_dict() for a in kept]
    # the objects handed out earlier were not mutated by later messages
    assert [a.to_dict() for a in kept] == snapshots
    assert snapshots == run_all(grooming, model, registry)


@pytest.mark.parametrize("cut", [1, 4, 7, 9, 11])
def test_state_round_trip_continues_identically(grooming, model, registry, cut):
    reference = run_all(grooming, model, registry)
    analyzer = ConversationAnalyzer(model, registry, conversation=grooming, normalizer=lower)
    for message in grooming.messages[:cut]:
        analyzer.observe(message)
    state = json.loads(json.dumps(analyzer.state_dict()))  # must be JSON-safe
    resumed = ConversationAnalyzer.from_state(state, model, registry, normalizer=lower)
    assert resumed.assessment.to_dict() == reference[cut - 1]
    continued = [resumed.observe(m).to_dict() for m in grooming.messages[cut:]]
    assert continued == reference[cut:]


def test_state_refuses_another_model(grooming, model, registry):
    analyzer = ConversationAnalyzer(model, registry, conversation=grooming, normalizer=lower)
    analyzer.observe(grooming.messages[0])
    other = replace(hand_model(), alert_threshold=0.7)
    with pytest.raises(InputError, match="saved with model"):
        ConversationAnalyzer.from_state(analyzer.state_dict(), other, registry, normalizer=lower)
    with pytest.raises(InputError, match="not an analyzer state"):
        ConversationAnalyzer.from_state({"format": "x"}, model, registry)


def test_alert_hysteresis_and_clearing(model, registry):
    lines = [
        ("u1", "im 12 lol"),
        ("u2", "how old r u"),
        ("u2", "ur so cute"),
        ("u2", "dont tell ur mum"),
        ("u1", "ok"),
        ("u1", "lol"),
        ("u2", "ur so cute"),
        ("u2", "send me a pic"),
    ]
    conversation = make_conversation("t-hyst", lines)
    analyzer = ConversationAnalyzer(model, registry, conversation=conversation, normalizer=lower)
    states = [analyzer.observe(m) for m in conversation.messages[:4]]
    assert not states[-2].alert
    assert states[-1].alert and states[-1].alert_message == "m4"
    # quiet messages: the alert stays raised
    assert analyzer.observe(conversation.messages[4]).alert
    cleared = analyzer.clear_alert("reviewer-1", note="known family friend")
    assert not cleared.alert and cleared.alert_message == "m4"
    # no new evidence, or a little more of the same: stays cleared
    assert not analyzer.observe(conversation.messages[5]).alert
    again = analyzer.observe(conversation.messages[6])
    assert again.risk >= model.alert_threshold and not again.alert
    # a further stage (content solicitation) re-raises; the first alert message is kept
    raised = analyzer.observe(conversation.messages[7])
    assert raised.alert and raised.alert_message == "m4"
    assert analyzer.state_dict()["clearances"][0]["reviewer"] == "reviewer-1"
    with pytest.raises(ValueError):
        analyzer.clear_alert("")


def test_state_is_bounded(model, registry):
    analyzer = ConversationAnalyzer(model, registry, conversation_id="long", normalizer=lower)
    for i in range(3000):
        sender = "u2" if i % 2 else "u1"
        text = "dont tell ur mum, send me a pic" if i % 3 == 0 else "hello there"
        analyzer.observe(Message(f"m{i}", sender, text))
    assessment = analyzer.assessment
    assert assessment.messages_seen == 3000
    assert len(assessment.evidence) <= MAX_EVIDENCE
    state = analyzer.state_dict()
    assert len(json.dumps(state)) < 200_000
    for person in state["people"]:
        assert len(person["evidence_items"]) <= MAX_EVIDENCE
        assert len(person["techniques"]) <= 256


def test_unknown_senders_and_empty_texts(model, registry):
    analyzer = ConversationAnalyzer(model, registry, conversation_id="c", normalizer=lower)
    assert analyzer.assessment.messages_seen == 0
    analyzer.observe(Message("a", "someone", ""))
    result = analyzer.observe(Message("b", "other", "dont tell anyone, send me a pic"))
    assert result.messages_seen == 2
    assert analyzer.watch_suspect == "other"


def test_declared_ages_shift_suspicion(model, registry):
    lines = [("u1", "dont tell"), ("u2", "dont tell")]
    adult_u2 = make_conversation("ages", lines, ages=(13, 35))
    analyzer = ConversationAnalyzer(model, registry, conversation=adult_u2, normalizer=lower)
    for message in adult_u2.messages:
        analyzer.observe(message)
    assert analyzer.watch_suspect == "u2"


def test_grooming_lines_fixture_is_sane():
    assert GROOMING[0][0] == "u2"


def test_scratch_codec_round_trips_records_and_refuses_foreign_classes():
    from datetime import UTC, datetime

    from cosea.chats.analysis import scratch
    from cosea.types import Participant

    value = {
        "ages": Participant("u1", declared_age=13, extra={"k": (1, 2)}),
        "seen": {("u1", "u2"), ("u2", "u3")},
        "at": datetime(2026, 1, 1, tzinfo=UTC),
        "counts": {1: "a"},
    }
    encoded = json.loads(json.dumps(scratch.encode(value)))
    assert scratch.decode(encoded) == value
    forged = {"__dataclass__": "subprocess:Popen", "fields": {}}
    with pytest.raises(InputError, match="refusing"):
        scratch.decode(forged)
    with pytest.raises(TypeError, match="no JSON form"):
        scratch.encode({"x": object()})


def test_batch_context_fan_out_reaches_later_conversations_only(model, registry):
    from datetime import UTC, datetime, timedelta

    from cosea.types import Participant

    start = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    conversations = []
    for i in range(7):
        participants = [
            Participant("u1", f"kid_{i}", declared_age=12 + i % 3),
            Participant("u2", "same.stranger", account_created="2026-01-01"),
        ]
        ts = start + timedelta(minutes=10 * i)
        messages = [
            Message("m1", "u2", "hey there", ts=ts, conversation_id=f"f{i}"),
            Message("m2", "u1", "hi", ts=ts + timedelta(seconds=30), conversation_id=f"f{i}"),
        ]
        conversations.append(Conversation(f"f{i}", participants, messages, platform="game_chat"))
    assessments = list(analyze_stream(conversations, model, registry, normalizer=lower))
    fan_out = [
        any(e.technique_id == "T0105" for e in a.evidence)
        or any(s.technique_id == "T0105" for s in a.context)
        for a in assessments
    ]
    # the fifth young contact within a day is the first that can show the fan-out
    assert fan_out[:4] == [False] * 4
    assert fan_out[4] and all(fan_out[4:])
    fifth = assessments[4]
    assert [e.message_id for e in fifth.evidence if e.technique_id == "T0105"] == ["m1"]
    # streamed pairs see the same batch context
    header_pairs = [(replace(c, messages=[]), m) for c in conversations for m in c.messages]
    streamed = list(analyze_stream(header_pairs, model, registry, normalizer=lower))
    assert [a.to_dict() for a in streamed] == [a.to_dict() for a in assessments]


def test_streamed_header_participants_are_met_when_they_speak(model, registry):
    from cosea.types import Participant

    header = Conversation("grow", [], [], platform="game_chat")
    analyzer = ConversationAnalyzer(model, registry, conversation=header, normalizer=lower)
    # the reader adds authors to the header as they first speak
    header.participants.append(Participant("kid", declared_age=12))
    analyzer.observe(Message("m1", "kid", "hi"))
    header.participants.append(Participant("adult", declared_age=35))
    analyzer.observe(Message("m2", "adult", "dont tell ur mum"))
    assert analyzer.context.participants["kid"].declared_age == 12
    assert [p.id for p in analyzer.participants] == ["kid", "adult"]
    features = dict(zip(FEATURE_NAMES, analyzer.features(), strict=True))
    assert features["minor_present"] == 1.0 and features["age_gap"] == 1.3  # 23 years, capped at 13


def test_ages_alone_never_raise_an_alert_or_a_risky_class() -> None:
    """An adult chatting with a child (a sibling, a coach, a tutor) with no technique seen:
    however the model weighs the ages, there is no alert and the class stays benign."""
    from cosea.chats.model import LinearPart

    ages_only = replace(
        hand_model(),
        risk=LinearPart(["minor_present"], [10.0], 0.0, [0.0], [1.0]),  # ages decide alone
        alert_threshold=0.5,
    )
    lines = [("u2", "did you finish the maths homework"), ("u1", "yes"), ("u2", "good job")]
    conversation = make_conversation("ages-only", lines, ages=(12, 35))
    analyzer = ConversationAnalyzer(ages_only, conversation=conversation)
    for message in conversation.messages:
        assessment = analyzer.observe(message)
    assert assessment.risk >= ages_only.alert_threshold  # the model alone would call it risky
    assert not assessment.alert and assessment.alert_message is None
    assert assessment.cls == ConversationClass.BENIGN and assessment.suspect is None
