"""The default pipeline (real recognizers, shipped model) on the shared development set:
streaming equivalence, no look-ahead, state round trips, and the quality goals by 5-fold CV."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cosea.chats.analysis import ConversationAnalyzer, analyze_conversation, analyze_stream
from cosea.chats.evaluation import cross_validate, quality_goals, read_labelled
from cosea.chats.io import stream_messages


@pytest.fixture(scope="module")
def dev_set(dev_conversation_files):
    return read_labelled(dev_conversation_files)


def _steps(conversation) -> list[dict]:
    analyzer = ConversationAnalyzer(conversation=conversation)
    return [analyzer.observe(m).to_dict() for m in conversation.messages]


def test_batch_equals_message_by_message_on_every_dev_conversation(dev_set, dev_conversation_files):
    batch = {a.conversation_id: a.to_dict() for a in analyze_stream(dev_set, batch_context=False)}
    pairs = stream_messages(dev_conversation_files, reader="jsonl")
    streamed = {a.conversation_id: a.to_dict() for a in analyze_stream(pairs, batch_context=False)}
    assert batch == streamed
    for conversation in dev_set:
        stepwise = _steps(conversation)[-1]
        assert stepwise == batch[conversation.id] == analyze_conversation(conversation).to_dict()


def test_labels_are_never_read(dev_set):
    for conversation in dev_set[:10]:
        unlabelled = replace(conversation, label=None)
        assert (
            analyze_conversation(unlabelled).to_dict()
            == analyze_conversation(conversation).to_dict()
        )


def test_no_look_ahead_on_risky_dev_conversations(dev_set):
    risky = [c for c in dev_set if c.label["class"] != "benign"][:8]
    for conversation in risky:
        full = _steps(conversation)
        alert = full[-1]["alert_message"]
        ids = [m.id for m in conversation.messages]
        for k in range(1, len(ids) + 1, 3):
            prefix = _steps(replace(conversation, messages=conversation.messages[:k]))
            assert prefix == full[:k]
        if alert is not None:
            cut = ids.index(alert) + 1
            truncated = _steps(replace(conversation, messages=conversation.messages[:cut]))
            assert truncated[-1]["alert_message"] == alert
            assert truncated[-2]["alert_message"] is None if cut > 1 else True


def test_state_round_trip_with_real_recognizers(dev_set):
    for conversation in [c for c in dev_set if c.label["class"] != "benign"][:6]:
        reference = _steps(conversation)
        for cut in (1, len(conversation.messages) // 2, len(conversation.messages) - 1):
            analyzer = ConversationAnalyzer(conversation=conversation)
            for message in conversation.messages[:cut]:
                analyzer.observe(message)
            state = json.loads(json.dumps(analyzer.state_dict()))
            resumed = ConversationAnalyzer.from_state(state)
            rest = [resumed.observe(m).to_dict() for m in conversation.messages[cut:]]
            assert rest == reference[cut:], f"{conversation.id} resumed after {cut}"


def test_shipped_model_alerts_with_reasons(dev_set):
    alerted = [a for a in analyze_stream(dev_set) if a.alert]
    assert alerted
    for assessment in alerted:
        assert assessment.evidence and all(e.reason for e in assessment.evidence)
        assert assessment.suspect is not None and assessment.stage is not None


@pytest.mark.slow
def test_quality_goals_by_five_fold_cross_validation(dev_set):
    _, report = cross_validate(dev_set, folds=5, seed=0)
    goals = quality_goals(report)
    summary = {
        "f05": report["conversation"]["f05"],
        "false_alarm_rate": report["conversation"]["false_alarm_rate"],
        "median_delay": report["alert_delay"]["median"],
        "technique_f1": report["techniques"]["micro"]["f1"],
    }
    assert all(goals.values()), summary
