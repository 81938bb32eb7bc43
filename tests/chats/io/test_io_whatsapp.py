from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chat_samples import ANDROID_TEXT, IOS_TEXT, NNBSP, write

from cosea.chats.io import ReadReport, detect_reader, read_conversations, stream_messages
from cosea.errors import InputError


def test_android_export(whatsapp_android: Path) -> None:
    report = ReadReport()
    (chat,) = read_conversations(whatsapp_android, report=report)
    assert chat.id == "WhatsApp Chat with Theo"
    assert chat.platform == "messenger"
    assert [p.id for p in chat.participants] == ["Maya", "Theo", "Sam"]
    assert chat.participants[0].display_name == "Maya"
    texts = [(m.id, m.sender, m.text, m.attachments) for m in chat.messages]
    assert texts == [
        ("m1", "Maya", "gg that was close", []),
        ("m2", "Theo", "lol ty\nsee you at practice\n\nbring the ball", []),
        ("m3", "Theo", "", ["Media omitted"]),
        ("m4", "Maya", "our team photo", ["IMG-20240113-WA0001.jpg"]),
        ("m5", "Sam", "dont tell your parents", []),
    ]
    assert chat.messages[0].ts == datetime(2024, 1, 12, 18, 2, tzinfo=UTC)
    assert chat.messages[4].ts == datetime(2024, 1, 13, 21, 40, tzinfo=UTC)
    assert report.ignored == 2  # the encryption notice and "Theo added Sam"
    assert report.ok and not report.warnings  # 13/01 tells day-first apart


def test_ios_export_twelve_hour_clock_with_narrow_spaces(whatsapp_ios: Path) -> None:
    report = ReadReport()
    (chat,) = read_conversations(whatsapp_ios, report=report)
    assert chat.id == "WhatsApp Chat - Team Chat"  # _chat.txt is named after its folder
    assert [p.id for p in chat.participants] == ["Maya", "Theo", "Sam"]
    messages = chat.messages
    assert [m.text for m in messages] == [
        "are you coming to practice?",
        "",
        "late one\nsecond line",
        "night",
    ]
    assert messages[1].attachments == ["image omitted"]
    assert messages[0].ts == datetime(2024, 1, 12, 18, 2, 40, tzinfo=UTC)
    assert messages[2].ts == datetime(2024, 1, 12, 23, 59, tzinfo=UTC)
    assert messages[3].ts == datetime(2024, 1, 13, 0, 4, tzinfo=UTC)  # 12:04 AM
    assert report.ignored == 2
    assert not report.warnings  # 1/13/24 tells month-first apart


def test_ambiguous_dates_warn_and_can_be_told(tmp_path: Path) -> None:
    text = "03/04/2024, 10:00 - Maya: hi\n03/04/2024, 10:01 - Theo: hello\n"
    path = write(tmp_path / "chat.txt", text)
    report = ReadReport()
    (chat,) = read_conversations(path, report=report)
    assert chat.messages[0].ts == datetime(2024, 4, 3, 10, 0, tzinfo=UTC)
    assert "date_order" in report.warnings[0]
    (us,) = read_conversations(path, date_order="mdy")
    assert us.messages[0].ts == datetime(2024, 3, 4, 10, 0, tzinfo=UTC)


def test_other_date_styles_and_time_zone(tmp_path: Path) -> None:
    text = (
        f"31.12.23, 23:59 - Ana: feliz año\n2024-01-01, 1:05{NNBSP}a.{NNBSP}m. - Ben: igualmente\n"
    )
    path = write(tmp_path / "chat.txt", text)
    (chat,) = read_conversations(path, tz="America/Sao_Paulo")
    first, second = chat.messages
    assert first.ts.utcoffset() == timedelta(hours=-3)
    assert first.ts.replace(tzinfo=None) == datetime(2023, 12, 31, 23, 59)
    assert second.ts.replace(tzinfo=None) == datetime(2024, 1, 1, 1, 5)


def test_unparseable_and_bad_date_lines_are_reported(tmp_path: Path) -> None:
    text = (
        "this is not a chat line\n"  # 1: before any message
        "12/01/2024, 18:02 - Maya: hi\n"  # 2
        "45/13/2024, 18:03 - Theo: never\n"  # 3: no such date
        "continuation of the bad one\n"  # 4: part of the skipped record
        "13/01/2024, 25:00 - Theo: bad hour\n"  # 5
        "13/01/2024, 09:00 - Theo: ok\n"
    )
    path = write(tmp_path / "chat.txt", text)
    report = ReadReport()
    (chat,) = read_conversations(path, reader="whatsapp", report=report)
    assert [m.text for m in chat.messages] == ["hi", "ok"]
    assert [e.line for e in report.errors] == [1, 3, 5]
    assert "not a WhatsApp message line" in report.errors[0].problem
    assert "bad date" in report.errors[1].problem
    assert report.skipped == 3
    with pytest.raises(InputError) as raised:
        list(read_conversations(path, reader="whatsapp", strict=True))
    assert raised.value.line == 1


def test_zip_export(tmp_path: Path) -> None:
    archive = tmp_path / "WhatsApp Chat - Theo.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("_chat.txt", IOS_TEXT)
        handle.writestr("00000012-PHOTO-2024-01-12-18-03-00.jpg", b"not really a photo")
    assert detect_reader(archive) == "whatsapp"
    (chat,) = read_conversations(archive)
    assert chat.id == "WhatsApp Chat - Theo"
    assert len(chat.messages) == 4


def test_conversation_id_option_and_stream(whatsapp_android: Path) -> None:
    pairs = list(stream_messages(whatsapp_android, conversation_id="case-17"))
    assert {h.id for h, _ in pairs} == {"case-17"}
    header = pairs[0][0]
    assert all(h is header for h, _ in pairs)
    assert [p.id for p in header.participants] == ["Maya", "Theo", "Sam"]


def test_crlf_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(b"\xef\xbb\xbf" + ANDROID_TEXT.replace("\n", "\r\n").encode())
    assert detect_reader(path) == "whatsapp"
    (chat,) = read_conversations(path)
    assert chat.messages[1].text == "lol ty\nsee you at practice\n\nbring the ball"
