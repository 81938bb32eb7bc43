from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chat_samples import labelled_record, write

from cosea.chats.io import ReadReport, get_reader, read_conversations, stream_messages, write_jsonl
from cosea.errors import InputError


def test_reads_the_shared_dev_set(dev_conversation_files: list[Path]) -> None:
    report = ReadReport()
    conversations = list(read_conversations(dev_conversation_files, report=report))
    assert len(conversations) == 60
    assert report.ok and report.conversations == 60 and report.files == 2
    assert report.messages == sum(len(c.messages) for c in conversations)
    classes = {c.label["class"] for c in conversations}
    assert classes >= {"benign", "grooming"}
    for conversation in conversations:
        assert conversation.participants
        for message in conversation.messages:
            assert message.conversation_id == conversation.id
            assert message.ts is None or message.ts.tzinfo is not None


def test_dev_set_stream_matches_read(dev_conversation_files: list[Path]) -> None:
    whole = {c.id: c for c in read_conversations(dev_conversation_files)}
    seen: dict[str, list] = {}
    for header, message in stream_messages(dev_conversation_files):
        assert header.messages == []
        seen.setdefault(header.id, []).append(message)
    assert list(seen) == list(whole)
    for cid, messages in seen.items():
        assert messages == whole[cid].messages


def test_fields_and_labels(jsonl_file: Path) -> None:
    first, second = read_conversations(jsonl_file)
    assert (first.id, first.platform, first.language) == ("c1", "game_chat", "en")
    assert first.participants[0].declared_age == 13
    assert first.participants[1].account_created == "2026-01-10"
    assert first.messages[0].sender == "u2"
    assert first.messages[0].ts == datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    assert first.label == {"class": "benign", "offender": None, "first_risk_message": None}
    assert second.messages[2].text == "dont tell your parents"
    assert first.source == str(jsonl_file)


def test_naive_timestamps_are_utc_unless_a_zone_is_given(tmp_path: Path) -> None:
    record = labelled_record("c1", ["hi"])
    record["messages"][0]["ts"] = "2026-01-12T18:00:00"
    path = write(tmp_path / "naive.jsonl", json.dumps(record) + "\n")
    (utc,) = read_conversations(path)
    assert utc.messages[0].ts == datetime(2026, 1, 12, 18, 0, tzinfo=UTC)
    (berlin,) = read_conversations(path, tz="+01:00")
    assert berlin.messages[0].ts == datetime(2026, 1, 12, 17, 0, tzinfo=UTC)
    assert berlin.messages[0].ts.utcoffset() == timedelta(hours=1)
    (named,) = read_conversations(path, tz="Europe/Berlin")
    assert named.messages[0].ts.astimezone(UTC).hour == 17


def test_malformed_lines_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    good = labelled_record("ok1", ["hello", "hi"])
    no_from = labelled_record("partial", ["one", "two", "three"])
    del no_from["messages"][1]["from"]
    no_id = labelled_record("x", ["hi"])
    del no_id["id"]
    bad_ts = labelled_record("badts", ["a", "b"])
    bad_ts["messages"][0]["ts"] = "yesterday"
    lines = [
        json.dumps(good),
        '{"id": "broken", "messages": [',  # line 2: invalid JSON
        json.dumps(no_id),  # line 3: no conversation id
        json.dumps(no_from),  # line 4: one message without a sender
        "",
        json.dumps(bad_ts),  # line 6
        "[1, 2]",  # line 7: not an object
        json.dumps(labelled_record("ok2", ["bye"])),
    ]
    path = write(tmp_path / "mixed.jsonl", "\n".join(lines) + "\n")
    report = ReadReport()
    conversations = list(read_conversations(path, report=report))
    assert [c.id for c in conversations] == ["ok1", "partial", "badts", "ok2"]
    assert [m.id for m in conversations[1].messages] == ["m1", "m3"]
    assert [m.id for m in conversations[2].messages] == ["m2"]
    assert report.skipped == 5
    by_line = {e.line: e for e in report.errors}
    assert set(by_line) == {2, 3, 4, 6, 7}
    assert all(e.source == str(path) for e in report.errors)
    assert "invalid JSON" in by_line[2].problem
    assert "no 'id'" in by_line[3].problem
    assert "no 'from'" in by_line[4].problem and by_line[4].entry == "partial messages[1]"
    assert "ts" in by_line[6].problem
    assert f"{path}:2" in str(by_line[2])
    assert report.conversations == 4 and report.messages == 2 + 2 + 1 + 1


def test_strict_stops_at_the_first_bad_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.jsonl",
        json.dumps(labelled_record("ok", ["hi"]))
        + "\nnot json\n"
        + json.dumps(labelled_record("later", ["x"]))
        + "\n",
    )
    seen = []
    with pytest.raises(InputError) as raised:
        for conversation in read_conversations(path, strict=True):
            seen.append(conversation.id)
    assert raised.value.line == 2 and raised.value.source == str(path)
    assert seen == ["ok"]


def test_bad_utf8_costs_a_warning_not_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    record = json.dumps(labelled_record("c1", ["caf\u00e9"]), ensure_ascii=False).encode("utf-8")
    path.write_bytes(record.replace("é".encode(), b"\xe9") + b"\n")
    report = ReadReport()
    (conversation,) = read_conversations(path, report=report)
    assert conversation.messages[0].text == "caf\ufffd"
    assert report.warnings and ":1:" in report.warnings[0]
    with pytest.raises(InputError):
        list(read_conversations(path, strict=True))


def test_write_jsonl_round_trip_without_labels_by_default(jsonl_file: Path, tmp_path: Path) -> None:
    conversations = list(read_conversations(jsonl_file))
    out = tmp_path / "out.jsonl"
    assert write_jsonl(conversations, out) == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert all("label" not in r for r in records)
    assert records[0]["messages"][0] == {
        "id": "m1",
        "ts": "2026-01-12T18:00:00Z",
        "from": "u2",
        "text": "gg that was close",
    }
    again = list(read_conversations(out))
    assert [m for c in again for m in c.messages] == [m for c in conversations for m in c.messages]
    assert [c.participants for c in again] == [c.participants for c in conversations]

    buffer = io.StringIO()
    write_jsonl(conversations, buffer, with_labels=True)
    assert json.loads(buffer.getvalue().splitlines()[0])["label"]["class"] == "benign"


def test_gzip_input_is_read_transparently(jsonl_file: Path, tmp_path: Path) -> None:
    import gzip

    packed = tmp_path / "chats.jsonl.gz"
    packed.write_bytes(gzip.compress(jsonl_file.read_bytes()))
    assert [c.id for c in read_conversations(packed)] == ["c1", "c2"]


def test_stream_can_mark_conversation_ends(jsonl_file: Path) -> None:
    from cosea.chats.io import END

    items = list(get_reader("jsonl").stream(jsonl_file, ends=True))
    assert [type(item).__name__ for _, item in items].count("_End") == 2
    assert items[3][1] is END and items[3][0].id == "c1"
