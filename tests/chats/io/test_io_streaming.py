"""Every reader: stream and read agree, formats are detected, memory stays flat on big files."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chat_samples import CSV_MAP, write

from cosea.chats.io import (
    ChatReader,
    ReadReport,
    detect_reader,
    get_reader,
    read_conversations,
    reader_names,
    register_reader,
    stream_messages,
)
from cosea.chats.io.base import _READERS, END
from cosea.errors import InputError
from cosea.types import Conversation, Message

SAMPLES = [
    ("jsonl_file", "jsonl"),
    ("pan12_file", "pan12"),
    ("whatsapp_android", "whatsapp"),
    ("whatsapp_ios", "whatsapp"),
    ("telegram_file", "telegram"),
    ("telegram_full_file", "telegram"),
    ("discord_file", "discord"),
    ("csv_file", "csv"),
]


def test_registry_lists_every_format() -> None:
    assert set(reader_names()) >= {"jsonl", "pan12", "whatsapp", "telegram", "discord", "csv"}
    for name in reader_names():
        reader = get_reader(name)
        assert isinstance(reader, ChatReader) and reader.name == name and reader.description
    with pytest.raises(InputError, match="no reader named 'icq'"):
        get_reader("icq")


@pytest.mark.parametrize(("fixture", "name"), SAMPLES)
def test_detection(fixture: str, name: str, request: pytest.FixtureRequest) -> None:
    assert detect_reader(request.getfixturevalue(fixture)) == name


def test_detection_without_a_telling_extension(
    tmp_path: Path, pan12_file: Path, whatsapp_android: Path
) -> None:
    bare = tmp_path / "exported"
    bare.write_bytes(pan12_file.read_bytes())
    assert detect_reader(bare) == "pan12"
    bare.write_bytes(whatsapp_android.read_bytes())
    assert detect_reader(bare) == "whatsapp"
    unknown = write(tmp_path / "notes.txt", "just some notes\nnothing else\n")
    with pytest.raises(InputError, match="cannot tell the chat format"):
        detect_reader(unknown)
    with pytest.raises(InputError, match="no such file"):
        detect_reader(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(("fixture", "name"), SAMPLES)
def test_stream_and_read_agree(fixture: str, name: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    options = {"mapping": CSV_MAP} if name == "csv" else {}
    read_report, stream_report = ReadReport(), ReadReport()
    whole = list(read_conversations(path, reader=name, report=read_report, **options))
    streamed: dict[int, tuple[Conversation, list[Message]]] = {}
    for header, message in stream_messages(path, reader=name, report=stream_report, **options):
        assert header.messages == []
        assert message.conversation_id == header.id
        streamed.setdefault(id(header), (header, []))[1].append(message)
    with_messages = [c for c in whole if c.messages]
    assert [h.id for h, _ in streamed.values()] == [c.id for c in with_messages]
    for (header, messages), conversation in zip(streamed.values(), with_messages, strict=True):
        assert messages == conversation.messages
        assert header.participants == conversation.participants
        assert header.platform == conversation.platform
    assert read_report.to_dict() == stream_report.to_dict()
    assert read_report.messages == sum(len(c.messages) for c in whole)
    assert read_report.conversations == len(whole)


def test_many_files_of_mixed_formats(
    jsonl_file: Path, pan12_file: Path, whatsapp_android: Path, csv_file: Path, tmp_path: Path
) -> None:
    report = ReadReport()
    files = [jsonl_file, pan12_file, whatsapp_android, csv_file, tmp_path / "gone.jsonl"]
    # the CSV mapping goes to the CSV file only
    ids = [c.id for c in read_conversations(files, report=report, mapping=CSV_MAP)]
    assert ids == ["c1", "c2", "aa01", "bb02", "WhatsApp Chat with Theo", "t1", "t2"]
    assert report.files == 4 and report.conversations == 7
    (missing,) = report.errors
    assert missing.problem == "no such file" and missing.source.endswith("gone.jsonl")
    with pytest.raises(InputError):
        list(read_conversations(files, strict=True))


def test_a_named_reader_rejects_options_it_does_not_take(jsonl_file: Path) -> None:
    with pytest.raises(InputError, match="reader 'jsonl' takes no option 'mapping'"):
        list(read_conversations(jsonl_file, reader="jsonl", mapping=CSV_MAP))
    with pytest.raises(InputError, match="unknown time zone"):
        list(read_conversations(jsonl_file, tz="Mars/Olympus"))


def test_a_new_reader_plugs_in_by_name(tmp_path: Path) -> None:
    @register_reader
    class LinesReader(ChatReader):
        """One message per line, ``sender<TAB>text``: a minimal reader to show the interface."""

        name = "test-lines"
        description = "sender<TAB>text per line"
        extensions = (".lines",)

        def sniff(self, head: str, path: Path) -> bool:
            return "\t" in head.splitlines()[0]

        def events(
            self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
        ) -> Iterator[tuple[Conversation, Any]]:
            header = Conversation(id=path.stem, source=str(path))
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                sender, _, text = line.partition("\t")
                yield header, Message(id=str(number), sender=sender, text=text)
            yield header, END

    try:
        path = write(tmp_path / "talk.lines", "u1\thi\nu2\thello\n")
        assert detect_reader(path) == "test-lines"
        (chat,) = read_conversations(path)
        assert [m.text for m in chat.messages] == ["hi", "hello"]
    finally:
        _READERS.pop("test-lines")


# --- constant memory --------------------------------------------------------------

BENIGN = ["gg that was close", "lol ty", "same time tomorrow?", "brb dinner", "ok see you"]
RISKY = ["are you alone right now", "dont tell your parents"]


def _text(i: int) -> str:
    return RISKY[i % 2] if i % 97 == 0 else BENIGN[i % len(BENIGN)]


def big_pan12(path: Path, conversations: int, per: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<conversations>\n')
        for c in range(conversations):
            out.write(f'<conversation id="conv{c:06d}">\n')
            for m in range(per):
                out.write(
                    f'    <message line="{m + 1}">\n        <author>a{(c + m) % 7}</author>\n'
                    f"        <time>10:{m % 60:02d}</time>\n        <text>{_text(m)}</text>\n"
                    "    </message>\n"
                )
            out.write("</conversation>\n")
        out.write("</conversations>\n")
    return path


def big_jsonl(path: Path, conversations: int, per: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for c in range(conversations):
            record = {
                "id": f"conv{c:06d}",
                "participants": [{"id": "u1"}, {"id": "u2"}],
                "messages": [
                    {
                        "id": f"m{m}",
                        "ts": "2026-01-12T18:02:11Z",
                        "from": f"u{m % 2 + 1}",
                        "text": _text(m),
                    }
                    for m in range(per)
                ],
            }
            out.write(json.dumps(record) + "\n")
    return path


def big_telegram(path: Path, messages: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n "name": "Big", "type": "private_group", "id": 1,\n "messages": [\n')
        for m in range(messages):
            record = {
                "id": m,
                "type": "message",
                "date": "2024-01-12T18:02:11",
                "date_unixtime": "1705082531",
                "from": f"User {m % 9}",
                "from_id": f"user{m % 9}",
                "text": ["see ", {"type": "bold", "text": _text(m)}],
            }
            out.write(("  " if m == 0 else ",\n  ") + json.dumps(record))
        out.write("\n ]\n}\n")
    return path


def _peak_while_streaming(path: Path, reader: str) -> tuple[int, int]:
    count = 0
    tracemalloc.start()
    try:
        for _header, _message in stream_messages(path, reader=reader):
            count += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


@pytest.mark.parametrize(
    ("reader", "make", "small"),
    [
        ("pan12", lambda path, n: big_pan12(path / f"big{n}.xml", n // 50, 50), 10_000),
        ("jsonl", lambda path, n: big_jsonl(path / f"big{n}.jsonl", n // 25, 25), 10_000),
        ("telegram", lambda path, n: big_telegram(path / f"big{n}.json", n), 2_500),
    ],
)
def test_streaming_memory_stays_flat(
    tmp_path: Path, reader: str, make: Callable[[Path, int], Path], small: int
) -> None:
    small_count, small_peak = _peak_while_streaming(make(tmp_path, small), reader)
    big_file = make(tmp_path, 4 * small)
    big_count, big_peak = _peak_while_streaming(big_file, reader)
    assert (small_count, big_count) == (small, 4 * small)
    # Four times the messages, the same memory: one conversation (or one parser
    # buffer) at a time, never the file. Holding the messages would take several
    # times the file's size in Python objects.
    assert big_peak < small_peak * 1.25 + 100_000, (small_peak, big_peak)
    assert big_peak < big_file.stat().st_size / 2, (big_peak, big_file.stat().st_size)
