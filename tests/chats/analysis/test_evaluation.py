"""Evaluation measures on hand-made gold and prediction files with known values."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from cosea.chats.evaluation import (
    evaluate,
    latency_penalty,
    load_gold,
    load_predictions,
    quality_goals,
)
from cosea.errors import InputError


def conversation(cid: str, n: int, label: dict) -> dict:
    return {
        "id": cid,
        "platform": "sms",
        "language": "en",
        "participants": [{"id": "u1"}, {"id": "u2"}],
        "messages": [
            {
                "id": f"m{i}",
                "ts": f"2026-01-01T10:0{i}:00Z",
                "from": "u1" if i % 2 else "u2",
                "text": "hi",
            }
            for i in range(1, n + 1)
        ],
        "label": label,
    }


def benign_label() -> dict:
    return {"class": "benign", "offender": None, "first_risk_message": None, "techniques": {}}


@pytest.fixture
def gold_file(tmp_path: Path) -> Path:
    records = [
        conversation(
            "g1",
            5,
            {
                "class": "grooming",
                "offender": "u2",
                "first_risk_message": "m2",
                "techniques": {"m2": ["T0101"], "m4": ["T0401"]},
            },
        ),
        conversation(
            "g2",
            4,
            {
                "class": "sextortion",
                "offender": "u1",
                "first_risk_message": "m1",
                "techniques": {"m1": ["T0601"], "m3": ["T0701", "T0702"]},
            },
        ),
        conversation("b1", 3, benign_label()),
        conversation("b2", 3, benign_label()),
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def pred_file(tmp_path: Path) -> Path:
    def pred(cid, cls, suspect, alert, techniques, risk=0.9):
        return {
            "id": cid,
            "class": cls,
            "risk": risk,
            "suspect": suspect,
            "alert_message": alert,
            "techniques": techniques,
            "stage": None,
        }

    records = [
        pred("g1", "grooming", "u2", "m3", {"m2": ["T0101"], "m4": ["T0401", "T0403"]}),
        pred("g2", "grooming", "u2", "m1", {"m3": ["T0701"]}),
        pred("b1", "grooming", "u1", "m2", {"m1": ["T0401"]}),
        pred("b2", "benign", None, None, {}, risk=0.1),
    ]
    path = tmp_path / "pred.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_known_values(gold_file, pred_file):
    report = evaluate(load_gold(gold_file), load_predictions(pred_file))
    conv = report["conversation"]
    assert (conv["tp"], conv["fp"], conv["fn"], conv["tn"]) == (2, 1, 0, 1)
    assert conv["precision"] == pytest.approx(2 / 3)
    assert conv["recall"] == 1.0
    assert conv["f05"] == pytest.approx(1.25 * (2 / 3) / (0.25 * (2 / 3) + 1))
    assert conv["f1"] == pytest.approx(0.8)
    assert conv["false_alarm_rate"] == 0.5
    assert conv["class_accuracy"] == 0.5
    assert conv["suspect_accuracy"] == 0.5

    delay = report["alert_delay"]
    assert delay["median"] == 0.5  # delays 1 (g1: m3 after m2) and 0 (g2: at m1)
    assert delay["p90"] == pytest.approx(0.9)
    assert delay["missed"] == 0 and delay["before_first_risky"] == 0

    latency = report["latency_f1"]
    p = math.log(3) / (4.5 - 1)  # median risky length 4.5 messages
    assert latency["p"] == pytest.approx(p)
    penalties = [latency_penalty(3, p), latency_penalty(1, p)]  # warnings after 3 and 1 messages
    speed = 1 - sum(penalties) / 2
    assert latency["speed"] == pytest.approx(speed)
    assert latency["f_latency"] == pytest.approx(0.8 * speed)

    micro = report["techniques"]["micro"]
    assert (micro["tp"], micro["fp"], micro["fn"]) == (3, 2, 2)
    assert micro["f1"] == pytest.approx(0.6)
    per = report["techniques"]["per_technique"]
    assert per["T0401"]["precision"] == 0.5 and per["T0401"]["recall"] == 1.0
    assert per["T0601"]["recall"] == 0.0 and per["T0601"]["support"] == 1

    goals = quality_goals(report)
    assert goals["median alert delay <= 2"] and not goals["false alarms <= 5%"]


def test_penalty_is_half_at_the_configured_point():
    p = math.log(3) / (20 - 1)
    assert latency_penalty(1, p) == 0.0
    assert latency_penalty(20, p) == pytest.approx(0.5)
    assert latency_penalty(10_000, p) == pytest.approx(1.0)


def test_missing_predictions_count_as_benign(gold_file, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    report = evaluate(load_gold(gold_file), load_predictions(empty))
    assert report["predictions_missing"] == 4
    assert report["conversation"]["recall"] == 0.0
    assert report["alert_delay"]["missed"] == 2
    assert report["latency_f1"]["f_latency"] == 0.0


def test_explicit_latency_p(gold_file, pred_file):
    report = evaluate(load_gold(gold_file), load_predictions(pred_file), latency_p=0.0078)
    assert report["latency_f1"]["p"] == 0.0078


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("not json", "not JSON"),
        ('{"class": "benign"}', "lacks id"),
        ('{"id": "x", "class": "scary"}', "is not benign"),
        ('{"id": "x", "class": "benign", "risk": 3}', "not a number in"),
        ('{"id": "x", "class": "benign", "techniques": ["T0101"]}', "techniques must map"),
    ],
)
def test_bad_prediction_lines_name_file_and_line(tmp_path, line, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "ok", "class": "benign"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=problem) as caught:
        load_predictions(path)
    assert caught.value.line == 2 and str(path) in str(caught.value)


def test_gold_without_labels_is_refused(tmp_path):
    record = conversation("x", 2, benign_label())
    del record["label"]
    path = tmp_path / "unlabelled.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="label"):
        load_gold(path)


def test_label_only_gold_lines_as_pan12_gold_writes_them(tmp_path, pred_file):
    lines = [
        {"id": "g1", "label": {"class": "grooming", "offender": "u2"}},
        {"id": "g2", "label": {"class": "grooming", "offender": "u1"}},
        {"id": "b1", "label": {"class": "benign", "offender": None}},
        {"id": "b2", "label": {"class": "benign", "offender": None}},
    ]
    gold_path = tmp_path / "pan12-gold.jsonl"
    gold_path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    report = evaluate(load_gold(gold_path), load_predictions(pred_file))
    conv = report["conversation"]
    assert (conv["tp"], conv["fp"], conv["fn"], conv["tn"]) == (2, 1, 0, 1)
    assert conv["suspect_accuracy"] == 0.5
    assert report["alert_delay"]["not_measurable"] == 2
    assert report["alert_delay"]["median"] is None
    assert report["latency_f1"]["f_latency"] is None
    bad = tmp_path / "bad-gold.jsonl"
    bad.write_text('{"id": "x", "label": {"class": "benign"}}\n{"id": "y", "label": {}}\n')
    with pytest.raises(InputError, match=r"label\.class") as caught:
        load_gold(bad)
    assert caught.value.line == 2


def test_pan12_corpus_end_to_end(tmp_path):
    """PAN12 XML + predator list -> analyze -> eval, as the io docs describe."""
    from typer.testing import CliRunner

    from cosea.chats.io import pan12_gold
    from cosea.cli import app

    texts = ["hey", "how old r u", "13", "ur so mature for ur age", "dont tell ur parents"]
    xml = tmp_path / "corpus.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<conversations><conversation id="c1">'
        + "".join(
            f'<message line="{i + 1}"><author>{"pred1" if i % 2 == 0 else "kid1"}</author>'
            f"<time>10:0{i}</time><text>{t}</text></message>"
            for i, t in enumerate(texts)
        )
        + '</conversation><conversation id="c2"><message line="1"><author>a</author>'
        "<time>11:00</time><text>gg</text></message></conversation></conversations>\n",
        encoding="utf-8",
    )
    predators = tmp_path / "predators.txt"
    predators.write_text("pred1\n", encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(x) + "\n" for x in pan12_gold(xml, predators)))
    runner = CliRunner()
    out = tmp_path / "pred.jsonl"
    assert runner.invoke(app, ["chats", "analyze", str(xml), "--out", str(out)]).exit_code == 0
    result = runner.invoke(
        app, ["chats", "eval", "--gold", str(gold), "--pred", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["conversations"] == 2 and report["risky"] == 1
