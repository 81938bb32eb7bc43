"""Chat exports found among the files are analysed; their alerts join the case.

The conversations are written to the project's content rules: short, non-graphic
warning-sign phrases only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from triage_helpers import RISKY_CHAT as RISKY
from triage_helpers import case_rows, run_scan, tar_bytes, write, zip_bytes

from cosea.triage import adapters
from cosea.triage.demo import WHATSAPP_CHAT

BENIGN = {
    "id": "c-benign",
    "participants": [{"id": "x"}, {"id": "y"}],
    "messages": [
        {"id": "m1", "ts": "2024-03-04T08:00:00Z", "from": "x", "text": "dont forget your lunch"},
        {"id": "m2", "ts": "2024-03-04T08:01:00Z", "from": "y", "text": "see you at 4"},
    ],
}


@pytest.fixture(autouse=True)
def _needs_the_analyser() -> None:
    if not adapters.chats_available():
        pytest.skip("the conversations capability is not importable")


def test_chat_exports_on_disk_and_in_archives_raise_alerts(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    lines = json.dumps(RISKY) + "\n" + json.dumps(BENIGN) + "\n"
    write(source / "export" / "messages.jsonl", lines)
    write(source / "WhatsApp Chat with Alex.txt", WHATSAPP_CHAT)
    write(
        source / "phone.zip",
        zip_bytes([("backup.tar.gz", tar_bytes([("chats/old.txt", WHATSAPP_CHAT.encode())]))]),
    )
    write(source / "shopping.txt", "bread\napples\n")
    summary = run_scan([source], cases, workers=2)
    assert summary.totals["chat_conversations"] == 4
    assert summary.totals["chat_alerts"] == 3
    rows = {
        (Path(r[0]).name, r[1]): r[2:]
        for r in case_rows(
            cases,
            "t",
            "SELECT f.path, c.conversation_id, c.alert, c.reader, c.techniques, c.suspect "
            "FROM chat_assessments c JOIN files f ON f.id = c.file_id",
        )
    }
    assert rows[("messages.jsonl", "c-risky")][0] == 1
    assert rows[("messages.jsonl", "c-risky")][3] == "b"
    assert rows[("messages.jsonl", "c-benign")][0] == 0
    whatsapp = rows[("WhatsApp Chat with Alex.txt", "WhatsApp Chat with Alex")]
    assert whatsapp[0] == 1 and whatsapp[1] == "whatsapp"
    assert json.loads(whatsapp[2])  # techniques by message
    nested = rows[("old.txt", "old")]
    assert nested[0] == 1
    groups = dict(case_rows(cases, "t", "SELECT name, type_group FROM files"))
    assert groups["messages.jsonl"] == "chat" and groups["shopping.txt"] == "text"


def test_a_broken_chat_export_is_an_error_not_a_stop(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(source / "messages.jsonl", json.dumps(RISKY) + "\n{not json\n")
    summary = run_scan([source], cases)
    assert summary.totals["chat_conversations"] == 1
    errors = case_rows(cases, "t", "SELECT kind, reason FROM errors")
    assert errors and errors[0][0] == "chat-read" and "line 2" in errors[0][1]
