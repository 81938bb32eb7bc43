"""The project's own labelled JSON Lines format (``shared/spec/conversation-format.md``).

One conversation per line. A line is the unit of streaming: memory holds one
conversation at a time. ``label`` is kept in :attr:`Conversation.label` for
evaluation only; predicting code never reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from cosea.chats.io.base import (
    END,
    ChatReader,
    Event,
    ReadReport,
    decoded_lines,
    open_binary,
    parse_epoch,
    parse_iso,
    register_reader,
)
from cosea.errors import InputError
from cosea.types import Conversation, Message, Participant


def _timestamp(value: Any, zone: tzinfo) -> datetime | None:
    if type(value) is str and value:  # the usual case first
        return parse_iso(value, zone)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return parse_epoch(float(value))
    if isinstance(value, str):
        return parse_iso(value, zone)
    raise ValueError(f"not a timestamp: {value!r}")


def _participant(raw: Any) -> Participant:
    if not isinstance(raw, dict):
        raise ValueError("a participant must be an object")
    if raw.get("id") in (None, ""):
        raise ValueError("a participant has no 'id'")
    age = raw.get("declared_age")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int | float | str)):
        raise ValueError(f"participant {raw['id']!r}: declared_age is not a number")
    try:
        return Participant.from_dict(raw)
    except ValueError as error:
        raise ValueError(
            f"participant {raw['id']!r}: declared_age {age!r} is not a number"
        ) from error


def _message(raw: Any, conversation_id: str, zone: tzinfo) -> Message:
    if not isinstance(raw, dict):
        raise ValueError("a message must be an object")
    message_id = raw.get("id")
    if message_id in (None, ""):
        raise ValueError("message has no 'id'")
    sender = raw.get("from")
    if sender is None and "from" not in raw:
        sender = raw.get("sender")
    if sender in (None, ""):
        raise ValueError(f"message {message_id!r} has no 'from'")
    text = raw.get("text")
    attachments = raw.get("attachments") or []
    if text is None and not attachments:
        raise ValueError(f"message {message_id!r} has no 'text'")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"message {message_id!r}: 'text' is not a string")
    if not isinstance(attachments, list):
        raise ValueError(f"message {message_id!r}: 'attachments' is not a list")
    try:
        ts = _timestamp(raw.get("ts"), zone)
    except ValueError:
        raise ValueError(
            f"message {message_id!r}: 'ts' {raw.get('ts')!r} is not ISO 8601"
        ) from None
    return Message(
        id=str(message_id),
        sender=str(sender),
        text=text or "",
        ts=ts,
        conversation_id=conversation_id,
        attachments=[str(a) for a in attachments] if attachments else [],
    )


@register_reader
class JsonlReader(ChatReader):
    name = "jsonl"
    description = "cosea labelled JSON Lines: one conversation per line (labels kept for eval)"
    extensions = (".jsonl", ".ndjson", ".json")

    def sniff(self, head: str, path: Path) -> bool:
        first = next((line for line in head.splitlines() if line.strip()), "")
        if not first.lstrip().startswith("{"):
            return False
        try:
            data = json.loads(first)
        except ValueError:
            # The first line may be cut by the head's size: look for the keys.
            return '"messages"' in first and '"id"' in first and '"participants"' in first
        if not (isinstance(data, dict) and "id" in data and isinstance(data.get("messages"), list)):
            return False
        # A one-line platform export also has an id and messages: ask for this
        # format's own marks (participants, "ts" on messages, a label).
        messages = data["messages"]
        first_message = messages[0] if messages and isinstance(messages[0], dict) else {}
        return "participants" in data or "label" in data or "ts" in first_message

    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        zone: tzinfo = options["tz"]
        with open_binary(path) as handle:
            for number, line in enumerate(decoded_lines(handle, path, report, strict), start=1):
                if not line.strip():
                    continue
                header = self._header(line, path, number, report, strict, options)
                if header is None:
                    continue
                raw_messages, header.messages = header.messages, []
                for index, raw in enumerate(raw_messages):
                    try:
                        message = _message(raw, header.id, zone)
                    except ValueError as error:
                        report.problem(
                            InputError(
                                path,
                                str(error),
                                line=number,
                                entry=f"{header.id} messages[{index}]",
                            ),
                            strict=strict,
                        )
                        continue
                    yield header, message
                yield header, END

    def _header(
        self,
        line: str,
        path: Path,
        number: int,
        report: ReadReport,
        strict: bool,
        options: dict[str, Any],
    ) -> Conversation | None:
        """The conversation on one line, its raw messages left in ``messages`` for the caller."""
        try:
            data = json.loads(line)
        except ValueError as error:
            report.problem(InputError(path, f"invalid JSON: {error}", line=number), strict=strict)
            return None
        problem = None
        if not isinstance(data, dict):
            problem = "a line must hold one JSON object (a conversation)"
        elif data.get("id") in (None, ""):
            problem = "conversation has no 'id'"
        elif not isinstance(data.get("messages"), list):
            problem = "conversation has no 'messages' list"
        elif not isinstance(data.get("participants", []), list):
            problem = "'participants' is not a list"
        if problem:
            entry = str(data.get("id")) if isinstance(data, dict) and data.get("id") else None
            report.problem(InputError(path, problem, line=number, entry=entry), strict=strict)
            return None
        cid = str(data["id"])
        participants = []
        for index, raw in enumerate(data.get("participants") or []):
            try:
                participants.append(_participant(raw))
            except ValueError as error:
                report.problem(
                    InputError(path, str(error), line=number, entry=f"{cid} participants[{index}]"),
                    strict=strict,
                )
        header = Conversation(
            id=cid,
            participants=participants,
            messages=data["messages"],
            platform=options.get("platform") or data.get("platform"),
            language=options.get("language") or data.get("language"),
            source=str(path),
            label=data.get("label"),
        )
        return header


def write_jsonl(
    conversations: Iterable[Conversation],
    path_or_file: str | Path | IO[str],
    *,
    with_labels: bool = False,
) -> int:
    """Write conversations in the labelled JSON Lines format; returns how many.

    Labels are left out unless ``with_labels`` (a prediction set must not carry them).
    ``-`` writes to standard output.
    """
    if isinstance(path_or_file, str | Path):
        if str(path_or_file) == "-":
            import sys

            return _write(conversations, sys.stdout, with_labels)
        with open(path_or_file, "w", encoding="utf-8", newline="\n") as handle:
            return _write(conversations, handle, with_labels)
    return _write(conversations, path_or_file, with_labels)


def _write(conversations: Iterable[Conversation], handle: IO[str], with_labels: bool) -> int:
    count = 0
    for conversation in conversations:
        record = conversation.to_dict(with_label=with_labels)
        handle.write(json.dumps(record, ensure_ascii=False))
        handle.write("\n")
        count += 1
    return count
