"""``cosea chats`` commands end to end: analyze (every reader), explain, eval, train, crossval."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosea.cli import app

runner = CliRunner()
PREDICTION_KEYS = ["id", "class", "risk", "suspect", "alert_message", "techniques", "stage"]

RISKY_TEXTS = [
    "gg nice clutch",
    "ty lol",
    "how old r u btw",
    "12",
    "ur so mature for ur age",
    "are you home alone right now?",
    "ya",
    "lets talk on snap instead, dont tell your parents about me",
    "ok",
    "send me a private pic",
]


def labelled(cid: str, texts: list[str], cls: str = "benign") -> dict:
    return {
        "id": cid,
        "platform": "game_chat",
        "language": "en",
        "participants": [{"id": "u1", "declared_age": 12}, {"id": "u2"}],
        "messages": [
            {
                "id": f"m{i + 1}",
                "ts": f"2026-01-12T18:{i:02d}:00Z",
                "from": "u2" if i % 2 == 0 else "u1",
                "text": text,
            }
            for i, text in enumerate(texts)
        ],
        "label": {"class": cls, "offender": None, "first_risk_message": None, "techniques": {}},
    }


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sample_files(tmp: Path) -> dict[str, tuple[Path, list[str]]]:
    """One small file per reader, with the extra CLI arguments it needs."""
    jsonl = write(
        tmp / "chats.jsonl",
        json.dumps(labelled("c1", RISKY_TEXTS))
        + "\n"
        + json.dumps(labelled("c2", ["hi", "hey"]))
        + "\n",
    )
    pan12 = write(
        tmp / "corpus.xml",
        '<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n'
        '<conversation id="aa01">'
        + "".join(
            f'<message line="{i + 1}"><author>{"p1" if i % 2 == 0 else "p2"}</author>'
            f"<time>03:{i:02d}</time><text>{t}</text></message>"
            for i, t in enumerate(RISKY_TEXTS)
        )
        + '</conversation>\n<conversation id="bb02"><message line="1"><author>p3</author>'
        "<time>10:00</time><text>anyone up for a match</text></message></conversation>\n"
        "</conversations>\n",
    )
    whatsapp = write(
        tmp / "WhatsApp Chat with Theo.txt",
        "".join(
            f"12/01/2024, 18:{i:02d} - {'Max' if i % 2 == 0 else 'Theo'}: {t}\n"
            for i, t in enumerate(RISKY_TEXTS)
        ),
    )
    telegram = write(
        tmp / "result.json",
        json.dumps(
            {
                "name": "Max",
                "type": "personal_chat",
                "id": 4242,
                "messages": [
                    {
                        "id": i + 1,
                        "type": "message",
                        "date": f"2024-01-12T18:{i:02d}:00",
                        "from": "Max" if i % 2 == 0 else "Theo",
                        "from_id": "user1" if i % 2 == 0 else "user2",
                        "text": t,
                    }
                    for i, t in enumerate(RISKY_TEXTS)
                ],
            }
        ),
    )
    discord = write(
        tmp / "Game Night - general [555].json",
        json.dumps(
            {
                "guild": {"id": "100", "name": "Game Night", "iconUrl": ""},
                "channel": {"id": "555", "type": "GuildTextChat", "name": "general"},
                "messages": [
                    {
                        "id": str(i + 1),
                        "type": "Default",
                        "timestamp": f"2024-01-12T18:{i:02d}:00+00:00",
                        "content": t,
                        "author": {
                            "id": "11" if i % 2 == 0 else "12",
                            "name": "max" if i % 2 == 0 else "theo",
                        },
                        "attachments": [],
                    }
                    for i, t in enumerate(RISKY_TEXTS)
                ],
            }
        ),
    )
    rows = "".join(
        f"t1,{'u2' if i % 2 == 0 else 'u1'},{t.replace(',', ' ')},2024-01-12T18:{i:02d}:00Z,a{i}\n"
        + (f"t2,u9,hello {i},2024-01-12T18:{i:02d}:30Z,b{i}\n" if i < 3 else "")
        for i, t in enumerate(RISKY_TEXTS)
    )
    csv = write(tmp / "messages.csv", "thread_id,sender,body,sent_at,msg_id\n" + rows)
    csv_map = "conversation=thread_id,from=sender,text=body,ts=sent_at,id=msg_id"
    return {
        "jsonl": (jsonl, []),
        "pan12": (pan12, ["--reader", "pan12"]),
        "whatsapp": (whatsapp, ["--reader", "whatsapp"]),
        "telegram": (telegram, ["--reader", "telegram"]),
        "discord": (discord, ["--reader", "discord"]),
        "csv": (csv, ["--reader", "csv", "--map", csv_map]),
    }


@pytest.mark.parametrize("reader", ["jsonl", "pan12", "whatsapp", "telegram", "discord", "csv"])
def test_analyze_writes_the_spec_prediction_format(tmp_path: Path, reader: str):
    path, extra = sample_files(tmp_path)[reader]
    out = tmp_path / "predictions.jsonl"
    result = runner.invoke(app, ["chats", "analyze", str(path), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines, "one prediction per conversation"
    for prediction in lines:
        assert list(prediction) == PREDICTION_KEYS
        assert prediction["class"] in {"benign", "grooming", "sextortion"}
        assert 0.0 <= prediction["risk"] <= 1.0
        assert isinstance(prediction["techniques"], dict)
    ids = [p["id"] for p in lines]
    assert len(ids) == len(set(ids))
    risky = max(lines, key=lambda p: p["risk"])
    assert risky["class"] != "benign", f"{reader}: the risky chat was not flagged: {lines}"
    assert risky["alert_message"] is not None and risky["suspect"] is not None
    assert "wrote" in result.output


def test_analyze_reports_bad_records_and_keeps_the_rest(tmp_path: Path):
    path = tmp_path / "mixed.jsonl"
    good = json.dumps(labelled("ok1", ["hi", "hey"]))
    path.write_text(good + "\n{not json\n" + good.replace("ok1", "ok2") + "\n", encoding="utf-8")
    out = tmp_path / "p.jsonl"
    result = runner.invoke(app, ["chats", "analyze", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["ok1", "ok2"]
    assert "skipped" in result.output and "mixed.jsonl:2" in result.output
    strict = runner.invoke(app, ["chats", "analyze", str(path), "--out", str(out), "--strict"])
    assert strict.exit_code != 0
    # the earlier output is left as it was when a strict run stops
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["ok1", "ok2"]


def test_analyze_with_a_missing_model_file(tmp_path: Path):
    path, _ = sample_files(tmp_path)["jsonl"]
    result = runner.invoke(
        app,
        [
            "chats",
            "analyze",
            str(path),
            "--out",
            str(tmp_path / "p.jsonl"),
            "--model",
            str(tmp_path / "nope.json"),
        ],
    )
    assert result.exit_code != 0


def test_explain_prints_a_timeline(tmp_path: Path):
    path, _ = sample_files(tmp_path)["jsonl"]
    result = runner.invoke(
        app, ["chats", "explain", str(path), "--id", "c1"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Conversation c1" in output
    assert "send me a private pic" in output
    assert "T0601" in output  # the technique on the message
    assert "ALERT" in output and "risk curve" in output
    assert "stage" in output and "reasons" in output
    missing = runner.invoke(app, ["chats", "explain", str(path), "--id", "nope"])
    assert missing.exit_code != 0


def test_eval_and_json_output(tmp_path: Path, dev_conversation_files):
    out = tmp_path / "pred.jsonl"
    files = [str(p) for p in dev_conversation_files]
    analysed = runner.invoke(app, ["chats", "analyze", *files, "--out", str(out)])
    assert analysed.exit_code == 0, analysed.output
    args = ["chats", "eval", "--pred", str(out)]
    for f in files:
        args += ["--gold", f]
    text = runner.invoke(app, args)
    assert text.exit_code == 0, text.output
    assert "F0.5" in text.output and "latency-weighted F1" in text.output
    as_json = runner.invoke(app, [*args, "--json"])
    report = json.loads(as_json.output)
    assert report["conversations"] == 60
    assert set(report) >= {"conversation", "alert_delay", "latency_f1", "techniques"}


def test_train_writes_a_model_the_analyser_uses(tmp_path: Path, dev_conversation_files):
    model_path = tmp_path / "model.json"
    args = ["chats", "train", "--out", str(model_path)]
    for f in dev_conversation_files:
        args += ["--data", str(f)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    model = json.loads(model_path.read_text())
    assert model["format"] == "cosea.chats.risk-model/1"
    assert model["metadata"]["conversations"] == 60
    sample, _ = sample_files(tmp_path)["jsonl"]
    out = tmp_path / "p.jsonl"
    analysed = runner.invoke(
        app, ["chats", "analyze", str(sample), "--out", str(out), "--model", str(model_path)]
    )
    assert analysed.exit_code == 0, analysed.output


def test_crossval_small_folds_json(tmp_path: Path, dev_conversation_files):
    args = ["chats", "crossval", "--folds", "3", "--json", "--out", str(tmp_path / "cv.jsonl")]
    for f in dev_conversation_files:
        args += ["--data", str(f)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["cross_validation"] == {"folds": 3, "seed": 0}
    assert report["conversations"] == 60
    assert len((tmp_path / "cv.jsonl").read_text().splitlines()) == 60


def test_readers_and_convert_are_registered():
    result = runner.invoke(app, ["chats", "--help"])
    for command in ("analyze", "explain", "eval", "crossval", "train", "readers", "convert"):
        assert command in result.output
