"""Small chat files in every supported format, written by the tests themselves.

Imported by conftest (the fixtures) and by tests (the helpers). Content follows the project's rules: benign chatter, and risky lines only as
short, non-graphic warning-sign phrases.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NNBSP = "\u202f"
LRM = "\u200e"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def labelled_record(cid: str, texts: list[str], *, label: bool = True) -> dict:
    record = {
        "id": cid,
        "platform": "game_chat",
        "language": "en",
        "participants": [
            {"id": "u1", "display_name": "skyler_09", "declared_age": 13},
            {"id": "u2", "display_name": "max.plays", "account_created": "2026-01-10"},
        ],
        "messages": [
            {
                "id": f"m{i + 1}",
                "ts": f"2026-01-12T18:{i:02d}:00Z",
                "from": "u1" if i % 2 else "u2",
                "text": text,
            }
            for i, text in enumerate(texts)
        ],
    }
    if label:
        record["label"] = {"class": "benign", "offender": None, "first_risk_message": None}
    return record


@pytest.fixture
def jsonl_file(tmp_path: Path) -> Path:
    lines = [
        labelled_record("c1", ["gg that was close", "lol ty", "same time tomorrow?"]),
        labelled_record("c2", ["are you alone right now", "why", "dont tell your parents"]),
    ]
    return write(tmp_path / "chats.jsonl", "".join(json.dumps(r) + "\n" for r in lines))


PAN12_TEXT = """<?xml version="1.0" encoding="UTF-8"?>
<conversations>
<conversation id="aa01">
    <message line="1">
        <author>p111</author>
        <time>03:20</time>
        <text>hey whats up</text>
    </message>
    <message line="2">
        <author>p222</author>
        <time>03:21</time>
        <text>not much, homework &amp; stuff</text>
    </message>
    <message line="3">
        <author>p111</author>
        <time>03:22</time>
        <text>are you alone right now</text>
    </message>
</conversation>
<conversation id="bb02">
    <message line="1"><author>p333</author><time>10:00</time><text>anyone up for a match</text></message>
    <message line="2"><author>p444</author><time>10:01</time><text/></message>
</conversation>
</conversations>
"""


@pytest.fixture
def pan12_file(tmp_path: Path) -> Path:
    return write(tmp_path / "corpus.xml", PAN12_TEXT)


ANDROID_TEXT = """12/01/2024, 18:02 - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.
12/01/2024, 18:02 - Maya: gg that was close
12/01/2024, 18:03 - Theo: lol ty
see you at practice

bring the ball
13/01/2024, 09:15 - Theo: <Media omitted>
13/01/2024, 09:16 - Maya: IMG-20240113-WA0001.jpg (file attached)
our team photo
13/01/2024, 09:17 - Theo added Sam
13/01/2024, 21:40 - Sam: dont tell your parents
"""

IOS_TEXT = (
    f"{LRM}[1/12/24, 6:02:11{NNBSP}PM] Team Chat: {LRM}Messages and calls are end-to-end "
    "encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
    f"[1/12/24, 6:02:40{NNBSP}PM] Maya: are you coming to practice?\n"
    f"{LRM}[1/12/24, 6:03:00{NNBSP}PM] Theo: {LRM}image omitted\n"
    f"[1/12/24, 6:04:00{NNBSP}PM] Team Chat: {LRM}Maya added Sam\n"
    f"[1/12/24, 11:59:00{NNBSP}PM] Theo: late one\nsecond line\n"
    f"[1/13/24, 12:04:00{NNBSP}AM] Sam: night\n"
)


@pytest.fixture
def whatsapp_android(tmp_path: Path) -> Path:
    return write(tmp_path / "WhatsApp Chat with Theo.txt", ANDROID_TEXT)


@pytest.fixture
def whatsapp_ios(tmp_path: Path) -> Path:
    folder = tmp_path / "WhatsApp Chat - Team Chat"
    folder.mkdir()
    return write(folder / "_chat.txt", IOS_TEXT)


def telegram_chat() -> dict:
    return {
        "name": "Alex",
        "type": "personal_chat",
        "id": 4242,
        "messages": [
            {
                "id": 1,
                "type": "service",
                "date": "2024-01-12T18:00:00",
                "date_unixtime": "1705082400",
                "actor": "Alex",
                "actor_id": "user1",
                "action": "phone_call",
            },
            {
                "id": 2,
                "type": "message",
                "date": "2024-01-12T19:02:11",
                "date_unixtime": "1705082531",
                "from": "Alex",
                "from_id": "user1",
                "text": "gg that was close",
                "text_entities": [{"type": "plain", "text": "gg that was close"}],
            },
            {
                "id": 3,
                "type": "message",
                "date": "2024-01-12T18:03:11",
                "from": "Sam",
                "from_id": "user2",
                "text": ["the schedule is at ", {"type": "link", "text": "example.org"}, " ok"],
            },
            {
                "id": 4,
                "type": "message",
                "date": "2024-01-12T18:04:11",
                "from": "Sam",
                "from_id": "user2",
                "text": "",
                "photo": "photos/photo_1@12-01-2024_18-04-11.jpg",
            },
            {
                "id": 5,
                "type": "message",
                "date": "2024-01-12T18:05:11",
                "from": "Sam",
                "from_id": "user2",
                "file": "(File not included. Change data exporting settings to download.)",
                "media_type": "voice_message",
                "text": "",
            },
        ],
    }


@pytest.fixture
def telegram_file(tmp_path: Path) -> Path:
    return write(tmp_path / "result.json", json.dumps(telegram_chat(), indent=1))


@pytest.fixture
def telegram_full_file(tmp_path: Path) -> Path:
    second = {"name": "Club", "type": "private_group", "id": 77, "messages": []}
    left = {
        "name": "Old group",
        "type": "private_supergroup",
        "id": 88,
        "messages": [
            {
                "id": 9,
                "type": "message",
                "date": "2023-05-01T10:00:00",
                "from": None,
                "from_id": "user9",
                "text": "bye all",
            }
        ],
    }
    export = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1, "first_name": "Me"},
        "chats": {"about": "chats", "list": [telegram_chat(), second]},
        "left_chats": {"about": "left", "list": [left]},
    }
    return write(tmp_path / "export.json", json.dumps(export, indent=1))


def discord_export() -> dict:
    def author(user_id: str, name: str, nickname: str, bot: bool = False) -> dict:
        return {
            "id": user_id,
            "name": name,
            "discriminator": "0000",
            "nickname": nickname,
            "color": None,
            "isBot": bot,
            "roles": [],
            "avatarUrl": "https://cdn.example/avatar.png",
        }

    return {
        "guild": {"id": "100", "name": "Game Night", "iconUrl": ""},
        "channel": {
            "id": "555",
            "type": "GuildTextChat",
            "categoryId": "1",
            "category": "Text",
            "name": "general",
            "topic": None,
        },
        "dateRange": {"after": None, "before": None},
        "exportedAt": "2024-02-01T00:00:00+00:00",
        "messages": [
            {
                "id": "1",
                "type": "GuildMemberJoin",
                "timestamp": "2024-01-12T18:00:00+00:00",
                "content": "Joined the server.",
                "author": author("11", "maya", "Maya"),
                "attachments": [],
            },
            {
                "id": "2",
                "type": "Default",
                "timestamp": "2024-01-12T18:02:11.123+01:00",
                "timestampEdited": None,
                "isPinned": False,
                "content": "gg that was close",
                "author": author("11", "maya", "Maya"),
                "attachments": [],
                "embeds": [],
                "stickers": [],
                "reactions": [],
                "mentions": [],
            },
            {
                "id": "3",
                "type": "Reply",
                "timestamp": "2024-01-12T18:03:11+00:00",
                "content": "",
                "author": author("12", "theo", "theo"),
                "attachments": [
                    {
                        "id": "77",
                        "url": "https://cdn.example/clip.png",
                        "fileName": "clip.png",
                        "fileSizeBytes": 10,
                    }
                ],
                "stickers": [{"id": "5", "name": "wave", "format": "Png"}],
            },
        ],
        "messageCount": 3,
    }


@pytest.fixture
def discord_file(tmp_path: Path) -> Path:
    return write(tmp_path / "Game Night - general [555].json", json.dumps(discord_export()))


CSV_TEXT = (
    "thread_id,sender,sender_name,body,sent_at,msg_id\n"
    "t1,u1,Maya,gg that was close,2024-01-12T18:02:11Z,a1\n"
    't2,u9,Sam,"hi, new here\nwho is on the team",1705082531,b1\n'
    "t1,u2,Theo,lol ty,2024-01-12 18:03:00,a2\n"
    "t2,u8,Kim,welcome,1705082600000,b2\n"
)
CSV_MAP = "conversation=thread_id,from=sender,name=sender_name,text=body,ts=sent_at,id=msg_id"


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    return write(tmp_path / "messages.csv", CSV_TEXT)
