"""Any CSV (or TSV) of messages, with a mapping from cosea's fields to the file's columns.

``conversation=thread_id,from=sender,text=body,ts=sent_at,id=msg_id`` says which
column holds what. ``conversation``, ``from`` and ``text`` are required; without
a mapping, columns named like the fields (or their usual aliases: ``sender``,
``conversation_id``, ``timestamp``, ``message_id`` ...) are used.

Rows of different conversations may be interleaved (a database dump sorted by
time). :meth:`stream` handles that in memory proportional to the number of
conversations (one small header each), never to the number of messages. Whole
conversations (:meth:`read`) can only be complete at the end of the file, so
``read`` holds every message until then; pass ``grouped=true`` when each
conversation's rows are contiguous, and each is delivered (and freed) as soon as
the next one starts.

Timestamps: ISO 8601, or seconds/milliseconds since 1970, or the ``time_format``
given (``%d/%m/%Y %H:%M``); without a zone they are read in ``tz`` (UTC unless given).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar

from cosea.chats.io.base import (
    END,
    ChatReader,
    Event,
    ParticipantBook,
    ReaderOption,
    ReadReport,
    as_aware,
    decoded_lines,
    format_suffix,
    open_binary,
    parse_bool,
    parse_epoch,
    parse_iso,
    read_head,
    register_reader,
)
from cosea.errors import InputError
from cosea.types import Conversation, Message

MAPPING_FIELDS: dict[str, str] = {
    "conversation": "conversation id (required)",
    "from": "sender id (required)",
    "text": "message text (required)",
    "ts": "timestamp: ISO 8601, seconds or milliseconds since 1970, or time_format",
    "id": "message id (default m1, m2, ... within each conversation)",
    "name": "sender's display name",
    "age": "sender's declared age",
    "account_created": "sender's account creation date",
    "attachments": "attachment names separated by ';'",
    "platform": "platform of the conversation",
    "language": "language of the conversation",
}
REQUIRED_FIELDS = ("conversation", "from", "text")
ALIASES: dict[str, str] = {
    "conversation_id": "conversation",
    "thread": "conversation",
    "thread_id": "conversation",
    "chat_id": "conversation",
    "sender": "from",
    "sender_id": "from",
    "author": "from",
    "author_id": "from",
    "user_id": "from",
    "body": "text",
    "message": "text",
    "content": "text",
    "timestamp": "ts",
    "time": "ts",
    "date": "ts",
    "sent_at": "ts",
    "message_id": "id",
    "msg_id": "id",
    "display_name": "name",
    "sender_name": "name",
    "declared_age": "age",
}
MAPPING_SOURCE = "--map"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def parse_mapping(text: str) -> dict[str, str]:
    """``conversation=thread_id,from=sender,...`` to ``{"conversation": "thread_id", ...}``.

    Field names may be aliases (``sender=...``). Raises :class:`InputError` naming
    the problem: a pair without ``=``, an unknown or repeated field, an empty
    column, or a required field left out.
    """
    mapping: dict[str, str] = {}
    pairs = [pair.strip() for pair in text.split(",") if pair.strip()]
    if not pairs:
        raise InputError(MAPPING_SOURCE, "empty mapping; expected FIELD=COLUMN,...")
    for pair in pairs:
        field, separator, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not separator:
            raise InputError(MAPPING_SOURCE, f"{pair!r} is not FIELD=COLUMN")
        key = ALIASES.get(field.lower(), field.lower())
        if key not in MAPPING_FIELDS:
            raise InputError(
                MAPPING_SOURCE,
                f"unknown field {field!r}; fields: {', '.join(MAPPING_FIELDS)}",
            )
        if not column:
            raise InputError(MAPPING_SOURCE, f"field {field!r} has no column name")
        if key in mapping:
            raise InputError(MAPPING_SOURCE, f"field {key!r} is mapped twice")
        mapping[key] = column
    missing = [field for field in REQUIRED_FIELDS if field not in mapping]
    if missing:
        raise InputError(
            MAPPING_SOURCE,
            f"required field(s) not mapped: {', '.join(missing)} "
            "(e.g. conversation=thread_id,from=sender,text=body)",
        )
    return mapping


def _mapping_option(value: str | dict[str, str]) -> dict[str, str]:
    if isinstance(value, dict):
        return parse_mapping(",".join(f"{k}={v}" for k, v in value.items()))
    return parse_mapping(value)


def _delimiter(value: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    delimiter = named.get(value.lower(), value)
    if len(delimiter) != 1:
        raise ValueError("delimiter must be one character (or tab, comma, semicolon, pipe)")
    return delimiter


def _default_mapping(columns: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in columns:
        key = column.strip().lower()
        field = key if key in MAPPING_FIELDS else ALIASES.get(key)
        if field and field not in mapping:
            mapping[field] = column
    return mapping


@dataclass(slots=True)
class _Open:
    header: Conversation
    book: ParticipantBook
    count: int = 0


@register_reader
class CsvReader(ChatReader):
    name = "csv"
    description = "CSV/TSV rows of messages with a column mapping (--map conversation=...,from=...)"
    extensions = (".csv", ".tsv")
    options: ClassVar[dict[str, ReaderOption]] = {
        "mapping": ReaderOption(
            "FIELD=COLUMN pairs: conversation, from, text required; ts, id, name, age, "
            "account_created, attachments, platform, language optional",
            _mapping_option,
        ),
        "delimiter": ReaderOption("column separator (default: guessed; tab for .tsv)", _delimiter),
        "encoding": ReaderOption("text encoding (default utf-8)"),
        "time_format": ReaderOption("strptime format of the ts column, e.g. %d/%m/%Y %H:%M"),
        "grouped": ReaderOption(
            "true when each conversation's rows are contiguous: read() then frees each "
            "conversation as the next starts instead of holding all until the end",
            parse_bool,
        ),
    }

    def sniff(self, head: str, path: Path) -> bool:
        first = head.splitlines()[0] if head else ""
        if not first or first.lstrip()[:1] in "{[<":
            return False
        if format_suffix(path) in self.extensions:
            return True
        columns = {c.strip().lower() for c in re.split(r"[,;\t|]", first)}
        fields = {ALIASES.get(c, c) for c in columns}
        return all(field in fields for field in REQUIRED_FIELDS)

    def _guess_delimiter(self, path: Path) -> str:
        if format_suffix(path) == ".tsv":
            return "\t"
        sample = "\n".join(read_head(path, 16 * 1024).splitlines()[:20])
        try:
            return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            return ","

    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        zone: tzinfo = options["tz"]
        delimiter = options.get("delimiter") or self._guess_delimiter(path)
        grouped = bool(options.get("grouped"))
        time_format = options.get("time_format")
        with open_binary(path) as handle:
            lines = decoded_lines(handle, path, report, strict, options.get("encoding") or "utf-8")
            rows = csv.reader(lines, delimiter=delimiter)
            try:
                columns = next(rows)
            except StopIteration:
                return
            except csv.Error as error:
                report.fatal(InputError(path, f"bad CSV header: {error}", line=1), strict=strict)
                return
            index = self._column_index(path, columns, options.get("mapping"), report, strict)
            if index is None:
                return
            # Short rows may leave out trailing optional columns, never required ones.
            needed = max(index[field] for field in REQUIRED_FIELDS) + 1
            get = {field: index.get(field) for field in MAPPING_FIELDS}
            open_conversations: dict[str, _Open] = {}
            finished: set[str] = set()
            last: _Open | None = None
            line = rows.line_num + 1
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error as error:
                    report.problem(
                        InputError(path, f"bad CSV row: {error}", line=line), strict=strict
                    )
                    line = rows.line_num + 1
                    continue
                row_line, line = line, rows.line_num + 1
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) < needed:
                    report.problem(
                        InputError(
                            path,
                            f"row has {len(row)} column(s); the mapped required columns need {needed}",
                            line=row_line,
                        ),
                        strict=strict,
                    )
                    continue
                conversation_id = row[get["conversation"]].strip()  # type: ignore[index]
                sender = row[get["from"]].strip()  # type: ignore[index]
                if not conversation_id or not sender:
                    empty = "conversation" if not conversation_id else "from"
                    report.problem(
                        InputError(path, f"empty {empty!r} column", line=row_line),
                        strict=strict,
                    )
                    continue
                state = open_conversations.get(conversation_id)
                if state is None:
                    if grouped and last is not None:
                        del open_conversations[last.header.id]
                        finished.add(last.header.id)
                        yield last.header, END
                    if conversation_id in finished:
                        report.warn(
                            f"{path}:{row_line}: conversation {conversation_id!r} continues "
                            "after other conversations though grouped=true; read as a "
                            "separate part"
                        )
                    state = self._open(path, row, get, conversation_id, options)
                    open_conversations[conversation_id] = state
                last = state
                message = self._message(
                    path, row, row_line, get, state, zone, time_format, report, strict
                )
                if message is not None:
                    yield state.header, message
            for state in open_conversations.values():
                yield state.header, END

    def _column_index(
        self,
        path: Path,
        columns: list[str],
        mapping: dict[str, str] | None,
        report: ReadReport,
        strict: bool,
    ) -> dict[str, int] | None:
        names = [c.strip() for c in columns]
        if mapping is None:
            mapping = _default_mapping(names)
            missing_fields = [f for f in REQUIRED_FIELDS if f not in mapping]
            if missing_fields:
                report.fatal(
                    InputError(
                        path,
                        f"no column for {', '.join(missing_fields)}; columns are "
                        f"{', '.join(names)}; pass a mapping such as "
                        "--map conversation=thread_id,from=sender,text=body",
                        line=1,
                    ),
                    strict=strict,
                )
                return None
        lowered = {name.lower(): i for i, name in enumerate(names)}
        index: dict[str, int] = {}
        missing = []
        for field, column in mapping.items():
            position = names.index(column) if column in names else lowered.get(column.lower())
            if position is None:
                missing.append(f"{column!r} (for {field})")
            else:
                index[field] = position
        if missing:
            report.fatal(
                InputError(
                    path,
                    f"mapped column(s) not in the header: {', '.join(missing)}; "
                    f"columns are {', '.join(names)}",
                    line=1,
                ),
                strict=strict,
            )
            return None
        return index

    @staticmethod
    def _open(
        path: Path,
        row: list[str],
        get: dict[str, int | None],
        conversation_id: str,
        options: dict[str, Any],
    ) -> _Open:
        def cell(field: str) -> str | None:
            position = get[field]
            if position is None or position >= len(row):
                return None
            return row[position].strip() or None

        header = Conversation(
            id=conversation_id,
            platform=options.get("platform") or cell("platform"),
            language=options.get("language") or cell("language"),
            source=str(path),
        )
        return _Open(header=header, book=ParticipantBook(header))

    @staticmethod
    def _message(
        path: Path,
        row: list[str],
        line: int,
        get: dict[str, int | None],
        state: _Open,
        zone: tzinfo,
        time_format: str | None,
        report: ReadReport,
        strict: bool,
    ) -> Message | None:
        def cell(field: str) -> str:
            position = get[field]
            return row[position].strip() if position is not None and position < len(row) else ""

        entry = f"conversation {state.header.id}"
        stamp = cell("ts")
        try:
            ts = _timestamp(stamp, zone, time_format) if stamp else None
        except (ValueError, OverflowError):
            hint = "" if time_format else "; pass time_format (e.g. %d/%m/%Y %H:%M)"
            report.problem(
                InputError(path, f"cannot read timestamp {stamp!r}{hint}", line=line, entry=entry),
                strict=strict,
            )
            return None
        sender = cell("from")
        age_text = cell("age")
        age = None
        if age_text:
            try:
                age = int(float(age_text))
            except ValueError:
                report.warn(f"{path}:{line}: age {age_text!r} is not a number; left out")
        state.book.see(
            sender,
            cell("name") or None,
            declared_age=age,
            account_created=cell("account_created") or None,
        )
        state.count += 1
        attachments = [a.strip() for a in cell("attachments").split(";") if a.strip()]
        text_position = get["text"]
        return Message(
            id=cell("id") or f"m{state.count}",
            sender=sender,
            text=row[text_position] if text_position is not None else "",
            ts=ts,
            conversation_id=state.header.id,
            attachments=attachments,
        )


def _timestamp(value: str, zone: tzinfo, time_format: str | None) -> datetime:
    if time_format:
        return as_aware(datetime.strptime(value, time_format), zone)
    if _NUMBER.fullmatch(value):
        return parse_epoch(float(value))
    return parse_iso(value, zone)
