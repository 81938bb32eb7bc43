from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chat_samples import CSV_MAP, CSV_TEXT, write

from cosea.chats.io import (
    END,
    ReadReport,
    get_reader,
    parse_mapping,
    read_conversations,
    stream_messages,
)
from cosea.errors import InputError


def test_parse_mapping() -> None:
    assert parse_mapping("conversation=thread_id, from=sender ,text=body,ts=sent_at") == {
        "conversation": "thread_id",
        "from": "sender",
        "text": "body",
        "ts": "sent_at",
    }
    # aliases name the same fields
    assert parse_mapping("thread=t,sender=s,body=b,timestamp=w")["ts"] == "w"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty mapping"),
        ("conversation=t,from=s,text", "not FIELD=COLUMN"),
        ("conversation=t,from=s,text=b,colour=c", "unknown field 'colour'"),
        ("conversation=t,from=s,text=b,from=x", "mapped twice"),
        ("conversation=t,from=,text=b", "has no column"),
        ("conversation=t,text=b", "required field(s) not mapped: from"),
    ],
)
def test_mapping_errors_are_clear(text: str, problem: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_mapping(text)
    assert problem in raised.value.problem
    assert raised.value.source == "--map"


def test_read_groups_interleaved_rows(csv_file: Path) -> None:
    report = ReadReport()
    t1, t2 = read_conversations(csv_file, mapping=CSV_MAP, report=report)
    assert report.ok and report.conversations == 2 and report.messages == 4
    assert [(m.id, m.sender, m.text) for m in t1.messages] == [
        ("a1", "u1", "gg that was close"),
        ("a2", "u2", "lol ty"),
    ]
    assert [(p.id, p.display_name) for p in t1.participants] == [("u1", "Maya"), ("u2", "Theo")]
    assert t2.messages[0].text == "hi, new here\nwho is on the team"
    # ISO with zone, ISO without (UTC), epoch seconds, epoch milliseconds
    assert t1.messages[0].ts == datetime(2024, 1, 12, 18, 2, 11, tzinfo=UTC)
    assert t1.messages[1].ts == datetime(2024, 1, 12, 18, 3, tzinfo=UTC)
    assert t2.messages[0].ts == datetime(2024, 1, 12, 18, 2, 11, tzinfo=UTC)
    assert t2.messages[1].ts == datetime(2024, 1, 12, 18, 3, 20, tzinfo=UTC)


def test_stream_follows_file_order_with_one_header_per_conversation(csv_file: Path) -> None:
    pairs = list(stream_messages(csv_file, mapping=CSV_MAP))
    assert [(h.id, m.id) for h, m in pairs] == [
        ("t1", "a1"),
        ("t2", "b1"),
        ("t1", "a2"),
        ("t2", "b2"),
    ]
    assert pairs[0][0] is pairs[2][0] and pairs[1][0] is pairs[3][0]
    ended = [
        h.id for h, item in stream_messages(csv_file, mapping=CSV_MAP, ends=True) if item is END
    ]
    assert ended == ["t1", "t2"]


def test_default_mapping_uses_column_names_and_aliases(csv_file: Path) -> None:
    # thread_id, sender, sender_name, body, sent_at, msg_id are all known aliases
    (t1, _) = read_conversations(csv_file)
    assert t1.participants[0].display_name == "Maya" and t1.messages[0].id == "a1"


def test_missing_mapped_column_names_the_file_and_header(csv_file: Path) -> None:
    report = ReadReport()
    mapping = CSV_MAP.replace("body", "message_body")
    assert list(read_conversations(csv_file, mapping=mapping, report=report)) == []
    (error,) = report.errors
    assert error.line == 1 and error.source == str(csv_file)
    assert "'message_body' (for text)" in error.problem and "thread_id" in error.problem
    with pytest.raises(InputError):
        list(read_conversations(csv_file, mapping=mapping, strict=True))


def test_no_mapping_and_unknown_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "a,b,c\n1,2,3\n")
    report = ReadReport()
    assert list(read_conversations(path, report=report)) == []
    assert "pass a mapping" in report.errors[0].problem


def test_bad_rows_are_skipped_with_their_line(tmp_path: Path) -> None:
    text = (
        "conv,who,said,when,age\n"
        "c1,u1,hello,2024-01-12T10:00:00Z,13\n"  # 2
        ",u2,no conversation,2024-01-12T10:01:00Z,\n"  # 3
        "c1,u2,when?,last tuesday,\n"  # 4
        "c1\n"  # 5: too short
        'c1,u2,"two\nlines",2024-01-12T10:02:00Z,x\n'  # 6-7: bad age is a warning
        "c1,u1,bye\n"  # 8: short rows may leave out optional columns
    )
    path = write(tmp_path / "rows.csv", text)
    report = ReadReport()
    (chat,) = read_conversations(
        path, mapping="conversation=conv,from=who,text=said,ts=when,age=age", report=report
    )
    assert [m.text for m in chat.messages] == ["hello", "two\nlines", "bye"]
    assert [e.line for e in report.errors] == [3, 4, 5]
    assert "time_format" in report.errors[1].problem
    assert report.warnings == [f"{path}:6: age 'x' is not a number; left out"]
    assert chat.participants[0].declared_age == 13


def test_time_format_delimiter_and_zone(tmp_path: Path) -> None:
    path = write(tmp_path / "rows.txt", "conv;who;said;when\nc1;u1;hola;31/12/2023 23:59\n")
    (chat,) = read_conversations(
        path,
        reader="csv",
        mapping="conversation=conv,from=who,text=said,ts=when",
        time_format="%d/%m/%Y %H:%M",
        delimiter="semicolon",
        tz="-03:00",
    )
    assert chat.messages[0].ts.utcoffset() == timedelta(hours=-3)
    assert chat.messages[0].ts.replace(tzinfo=None) == datetime(2023, 12, 31, 23, 59)


def test_tsv_and_attachments(tmp_path: Path) -> None:
    path = write(
        tmp_path / "rows.tsv",
        "conversation\tfrom\ttext\tattachments\tplatform\n"
        "c1\tu1\tlook\tclip.png; notes.pdf\tgame_chat\n",
    )
    (chat,) = read_conversations(path)
    assert chat.messages[0].attachments == ["clip.png", "notes.pdf"]
    assert chat.platform == "game_chat" and chat.messages[0].id == "m1"


def test_grouped_frees_each_conversation_as_the_next_starts(tmp_path: Path) -> None:
    path = write(
        tmp_path / "sorted.csv",
        "conversation,from,text\nc1,u1,a\nc1,u2,b\nc2,u1,c\nc1,u1,late\n",
    )
    reader = get_reader("csv")
    report = ReadReport()
    produced = []
    for conversation in reader.read(path, grouped=True, report=report):
        produced.append((conversation.id, [m.text for m in conversation.messages]))
    assert produced == [("c1", ["a", "b"]), ("c2", ["c"]), ("c1", ["late"])]
    assert "grouped=true" in report.warnings[0]
    # not grouped: c1 is whole
    whole = [(c.id, len(c.messages)) for c in reader.read(path)]
    assert whole == [("c1", 3), ("c2", 1)]


def test_header_only_and_empty_files(tmp_path: Path) -> None:
    assert list(read_conversations(write(tmp_path / "h.csv", "conversation,from,text\n"))) == []
    report = ReadReport()
    assert (
        list(read_conversations(write(tmp_path / "e.csv", ""), reader="csv", report=report)) == []
    )
    assert report.files == 1


def test_options_are_checked() -> None:
    reader = get_reader("csv")
    with pytest.raises(InputError, match="takes no option 'colour'"):
        list(reader.read("x.csv", colour="red"))
    with pytest.raises(InputError, match="grouped"):
        list(reader.read("x.csv", grouped="maybe"))
    assert CSV_TEXT  # the sample stays importable for other tests
