"""Discord channels and DMs as exported to JSON by DiscordChatExporter.

```json
{"guild": {"id": "...", "name": "..."},
 "channel": {"id": "...", "type": "GuildTextChat", "name": "general"},
 "messages": [{"id": "...", "type": "Default", "timestamp": "2024-01-12T18:02:11.123+00:00",
               "author": {"id": "...", "name": "maya", "nickname": "Maya", "isBot": false},
               "content": "gg", "attachments": [{"fileName": "clip.png", "url": "..."}]}]}
```

One file is one channel, one conversation (id: the channel id), streamed message
by message with ijson. A participant's display name is the server nickname when
there is one, its ``username`` kept beside it. Non-message records (joins, pins,
calls, renames) are ignored and counted. DMs are recorded as platform
``social_dm``, server channels as ``forum`` unless ``platform`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import tzinfo
from pathlib import Path
from typing import Any

from cosea.chats.io.base import (
    END,
    ChatReader,
    Event,
    ParticipantBook,
    ReadReport,
    parse_iso,
    register_reader,
    strip_suffixes,
)
from cosea.chats.io.jsonstream import CLOSED, ITEM, JsonSyntaxError, iter_json
from cosea.errors import InputError
from cosea.types import Conversation, Message

_MESSAGE_TYPES = frozenset({"Default", "Reply", "ThreadStarterMessage"})
_DIRECT_CHANNELS = frozenset({"DirectTextChat", "DirectGroupTextChat"})
_MESSAGES = frozenset({"messages.item"})
_CHANNEL_FIELDS = frozenset({"channel.id", "channel.type", "channel.name"})


def _attachments(raw: dict[str, Any]) -> list[str]:
    found = []
    for attachment in raw.get("attachments") or []:
        if isinstance(attachment, dict):
            found.append(str(attachment.get("fileName") or attachment.get("url") or "attachment"))
    for sticker in raw.get("stickers") or []:
        if isinstance(sticker, dict):
            found.append(f"sticker:{sticker.get('name') or sticker.get('id') or ''}")
    return found


@register_reader
class DiscordReader(ChatReader):
    name = "discord"
    description = "DiscordChatExporter JSON (one channel or DM per file)"
    extensions = (".json",)

    def sniff(self, head: str, path: Path) -> bool:
        return head.lstrip().startswith("{") and '"guild"' in head and '"channel"' in head

    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        zone: tzinfo = options["tz"]
        channel: dict[str, Any] = {}
        header: Conversation | None = None
        book: ParticipantBook | None = None
        index = 0

        def make_header() -> Conversation:
            nonlocal book
            kind = channel.get("type")
            platform = options.get("platform") or (
                "social_dm" if kind in _DIRECT_CHANNELS else "forum"
            )
            made = Conversation(
                id=str(channel.get("id") or strip_suffixes(path)),
                platform=platform,
                language=options.get("language"),
                source=str(path),
            )
            book = ParticipantBook(made)
            return made

        try:
            for prefix, value in iter_json(
                path, items=_MESSAGES, scalars=_CHANNEL_FIELDS, ends=frozenset({""})
            ):
                if value is CLOSED:
                    yield (header or make_header()), END
                    header = None
                    continue
                if prefix != ITEM:
                    channel[prefix.removeprefix("channel.")] = value
                    continue
                if header is None:
                    header = make_header()
                position = index
                index += 1
                message = self._message(value, header, book, position, path, report, strict, zone)
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
            if header is not None:
                yield header, END  # what was read of it is kept

    @staticmethod
    def _message(
        raw: Any,
        header: Conversation,
        book: ParticipantBook | None,
        index: int,
        path: Path,
        report: ReadReport,
        strict: bool,
        zone: tzinfo,
    ) -> Message | None:
        entry = f"messages[{index}]"
        try:
            if not isinstance(raw, dict):
                raise ValueError("a message must be an object")
            if raw.get("id"):
                entry += f" (id {raw['id']})"
            if raw.get("type", "Default") not in _MESSAGE_TYPES:
                report.ignored += 1
                return None
            if raw.get("id") in (None, ""):
                raise ValueError("message has no 'id'")
            author = raw.get("author")
            if not isinstance(author, dict) or author.get("id") in (None, ""):
                raise ValueError("message has no 'author' with an 'id'")
            content = raw.get("content", "")
            if not isinstance(content, str):
                raise ValueError("'content' is not a string")
            stamp = raw.get("timestamp")
            try:
                ts = parse_iso(str(stamp), zone) if stamp else None
            except ValueError:
                raise ValueError(f"bad timestamp {stamp!r}") from None
        except ValueError as error:
            report.problem(InputError(path, str(error), entry=entry), strict=strict)
            return None
        sender = str(author["id"])
        username = author.get("name")
        nickname = author.get("nickname")
        if book is not None:
            extra: dict[str, Any] = {}
            if username and nickname and nickname != username:
                extra["username"] = username
            if author.get("isBot"):
                extra["bot"] = True
            book.see(sender, nickname or username, **extra)
        return Message(
            id=str(raw["id"]),
            sender=sender,
            text=content,
            ts=ts,
            conversation_id=header.id,
            attachments=_attachments(raw),
        )
