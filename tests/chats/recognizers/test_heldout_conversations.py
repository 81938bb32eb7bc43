"""Held-out round 12: whole conversations, judged per conversation as the hidden set is.

Sixteen labelled conversations (`tests/chats/fixtures/heldout_conversations_r12.jsonl`,
the project's JSON Lines format), written without reading the development set's
conversations, in styles unlike each other. Eight are risky: a slow befriending over
three weeks on a gaming platform, a fake-peer romance on social media, a financial
sextortion behind a fake girl profile, a "modelling scout", a coach singling out an
athlete, a Spanish grooming, one in fragments with heavy typos, and one where the child
refuses and the adult turns to threats. Eight are benign hard negatives: siblings
planning a surprise, a parent about pick-up times and phone rules, two 13-year-olds
gossiping about crushes, a tutor scheduling sessions, friends trading game items for
money, a coach messaging a team group, a cousin visiting, and an online-safety lesson
quoting warning signs. Risky ones carry only short, non-graphic warning-sign phrases.

Each is run through `analyze_stream` with the default model. Before this round's
pattern fixes 6 of the 16 failed: two risky ones raised no alert (the child pushes
back: "i thought u actually liked me" and "ur parents would freak" were not found;
the typos one: "ur prnts hom?", "so ur alon", "add me on snp" were not found) and four
benign ones alerted (the siblings' "keep it a secret from dad too" and "delete this
chat after so she doesnt see it on the ipad"; the parent's school-gate pick-up, "dont
tell your sister i said maybe" and "are you alone or is leo with you"; a game-item
purchase read as a gift; the safety lesson's quoted red flags). After the fixes 1
fails: the typos conversation is now found message by message (age, supervision,
secrecy, platform move, picture request from an account of unknown age to a
13-year-old) but the default model keeps its risk at 0.72, under the alert threshold,
and raising a hit's confidence lowers it; that is left to the model (marked xfail).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosea.chats import analyze_stream
from cosea.chats.io import read_conversations

FIXTURE = Path(__file__).parent.parent / "fixtures" / "heldout_conversations_r12.jsonl"
LEFT_TO_THE_MODEL = {"r12-risky-typos"}


def _labels() -> dict[str, dict]:
    with FIXTURE.open(encoding="utf-8") as handle:
        return {entry["id"]: entry["label"] for entry in map(json.loads, handle)}


LABELS = _labels()


@pytest.fixture(scope="module")
def predictions() -> dict[str, dict]:
    conversations = list(read_conversations([FIXTURE]))
    assessments = analyze_stream(conversations, batch_context=False)
    return {a.conversation_id: a.to_prediction() for a in assessments}


def test_the_fixture_is_balanced_and_labelled() -> None:
    classes = [label["class"] for label in LABELS.values()]
    assert classes.count("benign") == 8
    assert len(classes) == 16
    for label in LABELS.values():
        if label["class"] == "benign":
            assert label["offender"] is None and label["first_risk_message"] is None
        else:
            assert label["first_risk_message"] in label["techniques"]


def _risky_cases() -> list:
    cases = []
    for cid, label in LABELS.items():
        if label["class"] == "benign":
            continue
        marks = [pytest.mark.xfail(strict=True)] if cid in LEFT_TO_THE_MODEL else []
        cases.append(pytest.param(cid, marks=marks, id=cid))
    return cases


@pytest.mark.parametrize("conversation_id", _risky_cases())
def test_risky_conversation_alerts_on_the_offender_with_its_class(
    predictions: dict[str, dict], conversation_id: str
) -> None:
    label = LABELS[conversation_id]
    prediction = predictions[conversation_id]
    assert prediction["alert_message"] is not None
    assert prediction["suspect"] == label["offender"]
    assert prediction["class"] == label["class"]
    # soon after the first risky message (an earlier alert counts as no delay)
    alert_at = int(prediction["alert_message"].removeprefix("m"))
    first_risk = int(label["first_risk_message"].removeprefix("m"))
    assert alert_at - first_risk <= 4


@pytest.mark.parametrize(
    "conversation_id", [cid for cid, label in LABELS.items() if label["class"] == "benign"]
)
def test_benign_conversation_does_not_alert(
    predictions: dict[str, dict], conversation_id: str
) -> None:
    assert predictions[conversation_id]["alert_message"] is None
    assert predictions[conversation_id]["class"] == "benign"
