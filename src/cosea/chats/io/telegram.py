"""Telegram Desktop's JSON export ("Export chat history" or "Export Telegram data").

Two shapes, both streamed message by message with ijson:

* one chat's ``result.json``: ``{"name", "type", "id", "messages": [...]}``;
* the full export: ``{"chats": {"list": [chat, ...]}, "left_chats": {"list": [...]}}``,
  one conversation per chat.

A message's ``text`` is a string or a list of strings and entity objects
(``{"type": "link", "text": ...}``); the pieces are joined. Service records
(joins, calls, pins) are ignored and counted. ``date_unixtime`` (newer exports)
is exact UTC; older exports give only the local ``date`` without a zone, read
in ``tz`` (UTC unless given). Photos, files, stickers and voice messages become
attachments (their file name, or their kind when the export left the file out).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from cosea.chats.io.base import (
    END,
    ChatReader,
    Event,
    ParticipantBook,
    ReadReport,
    parse_epoch,
    parse_iso,
    register_reader,
)
from cosea.chats.io.jsonstream import CLOSED, JsonSyntaxError, iter_json
from cosea.errors import InputError
from cosea.types import Conversation, Message

_CHAT_BASES = ("", "chats.list.item", "left_chats.list.item")
_CHAT_FIELDS = ("name", "type", "id")


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


_MESSAGE_PREFIXES = frozenset(_join(base, "messages.item") for base in _CHAT_BASES)
_FIELD_PREFIXES = {_join(base, key): (base, key) for base in _CHAT_BASES for key in _CHAT_FIELDS}
_FIELDS = frozenset(_FIELD_PREFIXES)
_ENDS = frozenset(_CHAT_BASES)


def message_text(value: Any) -> str:
    """Telegram's ``text``: a string, or a list of strings and ``{"text": ...}`` entities."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for piece in value:
            if isinstance(piece, str):
                parts.append(piece)
            elif isinstance(piece, dict):
                parts.append(str(piece.get("text", "")))
            else:
                raise ValueError("a text piece is neither a string nor an entity")
        return "".join(parts)
    raise ValueError("'text' is neither a string nor a list")


def _left_out(value: Any) -> bool:
    return not isinstance(value, str) or value.startswith("(File not included")


def _attachments(raw: dict[str, Any]) -> list[str]:
    found = []
    if "photo" in raw:
        found.append("photo" if _left_out(raw["photo"]) else str(raw["photo"]))
    if "file" in raw:
        kind = str(raw.get("media_type") or "file")
        name = raw.get("file_name")
        if name:
            found.append(str(name))
        elif _left_out(raw["file"]):
            found.append(kind)
        else:
            found.append(str(raw["file"]))
    for key, kind in (
        ("contact_information", "contact"),
        ("location_information", "location"),
        ("poll", "poll"),
    ):
        if key in raw:
            found.append(kind)
    return found


def _timestamp(raw: dict[str, Any], zone: tzinfo) -> datetime | None:
    unix = raw.get("date_unixtime")
    if unix not in (None, ""):
        return parse_epoch(float(unix))
    date = raw.get("date")
    if date in (None, ""):
        return None
    return parse_iso(str(date), zone)


class _Chat:
    """The chat being read: its fields, and its header once a message needs one."""

    def __init__(self) -> None:
        self.fields: dict[str, Any] = {}
        self.header: Conversation | None = None
        self.book: ParticipantBook | None = None
        self.position = 0

    def ensure_header(self, path: Path, options: dict[str, Any], number: int) -> Conversation:
        if self.header is None:
            chat_id = self.fields.get("id")
            name = self.fields.get("name")
            conversation_id = str(chat_id if chat_id is not None else name or f"chat{number}")
            self.header = Conversation(
                id=conversation_id,
                platform=options.get("platform") or "messenger",
                language=options.get("language"),
                source=str(path),
            )
            self.book = ParticipantBook(self.header)
        return self.header


@register_reader
class TelegramReader(ChatReader):
    name = "telegram"
    description = "Telegram Desktop JSON export (one chat's result.json, or the full export)"
    extensions = (".json",)

    def sniff(self, head: str, path: Path) -> bool:
        start = head.lstrip()
        if not start.startswith("{"):
            return False
        if '"chats"' in head and '"list"' in head and '"personal_information"' in head:
            return True
        return '"messages"' in head and (
            '"from_id"' in head
            or '"date_unixtime"' in head
            or any(f'"type": "{kind}"' in head for kind in ("personal_chat", "private_group"))
            or '"text_entities"' in head
        )

    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        zone: tzinfo = options["tz"]
        chat = _Chat()
        chats_seen = 0
        try:
            for prefix, value in iter_json(
                path, items=_MESSAGE_PREFIXES, scalars=_FIELDS, ends=_ENDS
            ):
                if value is CLOSED:
                    if prefix or chat.fields or chat.header is not None:
                        chats_seen += 1
                        header = chat.ensure_header(path, options, chats_seen)
                        yield header, END
                    chat = _Chat()
                    continue
                if prefix in _FIELD_PREFIXES:
                    chat.fields[_FIELD_PREFIXES[prefix][1]] = value
                    continue
                header = chat.ensure_header(path, options, chats_seen + 1)
                index = chat.position
                chat.position += 1
                message = self._message(value, header, chat, index, path, report, strict, zone)
                if message is not None:
                    yield header, message
        except JsonSyntaxError as error:
            report.fatal(
                InputError(
                    path,
                    f"invalid JSON: {error.problem}; the rest of the file is not read",
                    line=error.line,
                ),
                strict=strict,
            )
            if chat.header is not None:
                yield chat.header, END  # what was read of it is kept

    @staticmethod
    def _message(
        raw: Any,
        header: Conversation,
        chat: _Chat,
        index: int,
        path: Path,
        report: ReadReport,
        strict: bool,
        zone: tzinfo,
    ) -> Message | None:
        entry = f"chat {header.id} messages[{index}]"
        try:
            if not isinstance(raw, dict):
                raise ValueError("a message must be an object")
            if raw.get("id") is not None:
                entry += f" (id {raw['id']})"
            if raw.get("type", "message") != "message":
                report.ignored += 1
                return None
            if raw.get("id") in (None, ""):
                raise ValueError("message has no 'id'")
            sender = raw.get("from_id")
            if sender in (None, ""):
                raise ValueError("message has no 'from_id'")
            text = message_text(raw.get("text"))
            try:
                ts = _timestamp(raw, zone)
            except (ValueError, OverflowError):
                raise ValueError(
                    f"bad date {raw.get('date_unixtime') or raw.get('date')!r}"
                ) from None
        except ValueError as error:
            report.problem(InputError(path, str(error), entry=entry), strict=strict)
            return None
        sender = str(sender)
        assert chat.book is not None
        display = raw.get("from")
        chat.book.see(sender, str(display) if display else None)
        return Message(
            id=str(raw["id"]),
            sender=sender,
            text=text,
            ts=ts,
            conversation_id=header.id,
            attachments=_attachments(raw),
        )
