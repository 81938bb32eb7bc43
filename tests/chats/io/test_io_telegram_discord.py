from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chat_samples import discord_export, telegram_chat, write

from cosea.chats.io import ReadReport, detect_reader, read_conversations
from cosea.chats.io.telegram import message_text
from cosea.errors import InputError

# --- Telegram ---------------------------------------------------------------------


def test_telegram_single_chat(telegram_file: Path) -> None:
    report = ReadReport()
    (chat,) = read_conversations(telegram_file, reader="telegram", report=report)
    assert chat.id == "4242" and chat.platform == "messenger"
    assert [(p.id, p.display_name) for p in chat.participants] == [
        ("user1", "Alex"),
        ("user2", "Sam"),
    ]
    first, second, photo, voice = chat.messages
    assert (first.id, first.sender, first.text) == ("2", "user1", "gg that was close")
    # date_unixtime wins over the zone-less local date
    assert first.ts == datetime(2024, 1, 12, 18, 2, 11, tzinfo=UTC)
    assert second.text == "the schedule is at example.org ok"
    assert second.ts == datetime(2024, 1, 12, 18, 3, 11, tzinfo=UTC)
    assert photo.attachments == ["photos/photo_1@12-01-2024_18-04-11.jpg"]
    assert voice.attachments == ["voice_message"]
    assert report.ignored == 1  # the service record (a call)


def test_telegram_full_export_has_one_conversation_per_chat(telegram_full_file: Path) -> None:
    chats = list(read_conversations(telegram_full_file))
    assert [c.id for c in chats] == ["4242", "77", "88"]
    assert chats[1].messages == []
    assert chats[2].messages[0].sender == "user9"
    assert chats[2].participants[0].display_name is None


def test_telegram_local_dates_use_the_zone_option(tmp_path: Path) -> None:
    chat = telegram_chat()
    chat["messages"] = [chat["messages"][2]]  # only a local "date"
    path = write(tmp_path / "result.json", json.dumps(chat))
    (read,) = read_conversations(path, tz="+02:00")
    assert read.messages[0].ts.utcoffset() == timedelta(hours=2)


def test_telegram_text_pieces() -> None:
    assert message_text(["a ", {"type": "bold", "text": "b"}, " c"]) == "a b c"
    assert message_text(None) == ""
    with pytest.raises(ValueError):
        message_text(12)


def test_telegram_bad_messages_name_their_entry(tmp_path: Path) -> None:
    chat = telegram_chat()
    del chat["messages"][2]["from_id"]
    chat["messages"][3]["text"] = 5
    path = write(tmp_path / "result.json", json.dumps(chat, indent=1))
    report = ReadReport()
    (read,) = read_conversations(path, report=report)
    assert [m.id for m in read.messages] == ["2", "5"]
    entries = [e.entry for e in report.errors]
    assert entries == ["chat 4242 messages[2] (id 3)", "chat 4242 messages[3] (id 4)"]
    assert "from_id" in report.errors[0].problem


def test_telegram_broken_json_names_the_line_and_keeps_earlier_messages(tmp_path: Path) -> None:
    text = json.dumps(telegram_chat(), indent=1)
    cut = text.index('"id": 4,')
    broken = text[:cut] + "oops " + text[cut:]
    path = write(tmp_path / "result.json", broken)
    expected_line = broken[: broken.index("oops")].count("\n") + 1
    report = ReadReport()
    (chat,) = read_conversations(path, reader="telegram", report=report)
    assert [m.id for m in chat.messages] == ["2", "3"]
    (error,) = report.errors
    assert error.line == expected_line and "invalid JSON" in error.problem
    with pytest.raises(InputError):
        list(read_conversations(path, reader="telegram", strict=True))


# --- Discord ----------------------------------------------------------------------


def test_discord_channel_nicknames_and_attachments(discord_file: Path) -> None:
    report = ReadReport()
    (chat,) = read_conversations(discord_file, report=report)
    assert chat.id == "555" and chat.platform == "forum"
    maya, theo = chat.participants
    assert (maya.id, maya.display_name, maya.extra) == ("11", "Maya", {"username": "maya"})
    assert (theo.display_name, theo.extra) == ("theo", {})
    first, second = chat.messages
    assert first.text == "gg that was close"
    assert first.ts == datetime(2024, 1, 12, 17, 2, 11, 123000, tzinfo=UTC)
    assert second.attachments == ["clip.png", "sticker:wave"]
    assert report.ignored == 1  # the join notice


def test_discord_direct_messages_and_nickname_fallback(tmp_path: Path) -> None:
    export = discord_export()
    export["channel"]["type"] = "DirectTextChat"
    export["messages"][1]["author"]["nickname"] = None
    path = write(tmp_path / "dm.json", json.dumps(export))
    (chat,) = read_conversations(path)
    assert chat.platform == "social_dm"
    assert chat.participants[0].display_name == "maya"


def test_discord_bad_message(tmp_path: Path) -> None:
    export = discord_export()
    del export["messages"][1]["author"]
    export["messages"][2]["timestamp"] = "not a time"
    path = write(tmp_path / "bad.json", json.dumps(export))
    report = ReadReport()
    (chat,) = read_conversations(path, reader="discord", report=report)
    assert chat.messages == []
    assert [e.entry for e in report.errors] == ["messages[1] (id 2)", "messages[2] (id 3)"]
    assert "author" in report.errors[0].problem and "timestamp" in report.errors[1].problem


def test_json_exports_are_told_apart(
    discord_file: Path, telegram_file: Path, telegram_full_file: Path, jsonl_file: Path
) -> None:
    assert detect_reader(discord_file) == "discord"
    assert detect_reader(telegram_file) == "telegram"
    assert detect_reader(telegram_full_file) == "telegram"
    single_line = jsonl_file.with_suffix(".json")
    single_line.write_text(jsonl_file.read_text().splitlines()[0] + "\n")
    assert detect_reader(single_line) == "jsonl"
