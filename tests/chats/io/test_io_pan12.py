from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from chat_samples import PAN12_TEXT, write

from cosea.chats.io import (
    ReadReport,
    load_pan12_predators,
    pan12_gold,
    read_conversations,
    stream_messages,
)
from cosea.errors import InputError


def test_reads_conversations_authors_and_lines(pan12_file: Path) -> None:
    first, second = read_conversations(pan12_file, reader="pan12")
    assert first.id == "aa01" and second.id == "bb02"
    assert [p.id for p in first.participants] == ["p111", "p222"]
    assert [(m.id, m.sender) for m in first.messages] == [
        ("1", "p111"),
        ("2", "p222"),
        ("3", "p111"),
    ]
    assert first.messages[1].text == "not much, homework & stuff"
    assert first.messages[0].ts is None  # PAN12 has a time of day only
    assert second.messages[1].text == ""


def test_stream_keeps_one_header_per_conversation(pan12_file: Path) -> None:
    pairs = list(stream_messages(pan12_file))
    headers = [h for h, _ in pairs]
    assert headers[0] is headers[1] is headers[2]
    assert headers[3] is headers[4] and headers[3] is not headers[0]
    assert all(h.messages == [] for h in headers)


def test_message_without_author_names_its_line(tmp_path: Path) -> None:
    text = PAN12_TEXT.replace("<author>p222</author>", "")
    path = write(tmp_path / "noauthor.xml", text)
    report = ReadReport()
    first, _ = read_conversations(path, report=report)
    assert [m.id for m in first.messages] == ["1", "3"]
    (error,) = report.errors
    assert error.line == 9 and "no <author>" in error.problem
    assert error.entry == "conversation aa01 message 2"


def test_conversation_without_id_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "noid.xml", PAN12_TEXT.replace('id="aa01"', ""))
    report = ReadReport()
    assert [c.id for c in read_conversations(path, report=report)] == ["bb02"]
    assert report.skipped == 1 and report.errors[0].line == 3


def test_broken_xml_keeps_what_came_before_and_names_the_line(tmp_path: Path) -> None:
    broken = PAN12_TEXT.replace("<text>anyone up for a match</text>", "<text>anyone up</txt>")
    path = write(tmp_path / "broken.xml", broken)
    report = ReadReport()
    conversations = list(read_conversations(path, report=report))
    assert [c.id for c in conversations] == ["aa01", "bb02"]
    assert len(conversations[0].messages) == 3 and conversations[1].messages == []
    (error,) = report.errors
    assert error.line == 21 and "broken XML" in error.problem
    with pytest.raises(InputError) as raised:
        list(read_conversations(path, strict=True))
    assert raised.value.line == 21


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE conversations [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;">]>\n<conversations><conversation id="c">'
        '<message line="1"><author>x</author><text>&b;</text></message>'
        "</conversation></conversations>\n"
    )
    path = write(tmp_path / "bomb.xml", bomb)
    report = ReadReport()
    assert list(read_conversations(path, reader="pan12", report=report)) == []
    assert "entity" in report.errors[0].problem


def test_compressed_corpus(tmp_path: Path) -> None:
    path = tmp_path / "corpus.xml.gz"
    path.write_bytes(gzip.compress(PAN12_TEXT.encode()))
    assert [c.id for c in read_conversations(path)] == ["aa01", "bb02"]


def test_predator_list_and_gold_lines(pan12_file: Path, tmp_path: Path) -> None:
    predators = write(tmp_path / "predators.txt", "p111\n\nunknown999\n")
    assert load_pan12_predators(predators) == {"p111", "unknown999"}
    gold = list(pan12_gold(pan12_file, predators))
    assert gold == [
        {"id": "aa01", "label": {"class": "grooming", "offender": "p111"}},
        {"id": "bb02", "label": {"class": "benign", "offender": None}},
    ]
    json.dumps(gold)  # gold lines are plain JSON

    lines = write(tmp_path / "lines.txt", "aa01\t3\naa01\t1\n")
    with_lines = list(pan12_gold(pan12_file, predators, lines_path=lines))
    assert with_lines[0]["label"]["first_risk_message"] == "1"
    assert with_lines[1]["label"]["first_risk_message"] is None


def test_bad_predator_list(tmp_path: Path) -> None:
    path = write(tmp_path / "predators.txt", "p111\np2 p3\n")
    with pytest.raises(InputError) as raised:
        load_pan12_predators(path)
    assert raised.value.line == 2
    with pytest.raises(InputError):
        load_pan12_predators(tmp_path / "missing.txt")
