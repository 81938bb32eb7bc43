"""WhatsApp's "Export chat" text file (``.txt``, or the ``.zip`` it comes in).

Two date styles, by phone::

    12/01/2024, 18:02 - Maya: see you at practice          (Android)
    [12/01/2024, 18:02:11] Maya: see you at practice        (iPhone)

Either may use a 12-hour clock (``6:02 PM``, often with a narrow no-break space
before ``PM``), two-digit years, and ``.`` or ``-`` between date parts. Day and
month order follow the phone's locale and are not written in the file: unless
``date_order`` is given, a first pass looks for a part above 12 to decide
(constant memory, the file is read twice); when nothing decides, day-first is
assumed (month-first with a 12-hour clock) and a warning says so.

A message runs until the next line that starts with a date, so multi-line
messages are kept whole. System lines (the encryption notice, "X added Y",
group changes) are ignored and counted; media placeholders (``<Media omitted>``,
``image omitted``, ``<attached: ...>``, ``... (file attached)``) become attachments.

The export has no time zone: times are read in ``tz`` (UTC unless given). It
has no account ids either: a participant's id is the name the exporting phone
showed. One file is one conversation, named after the file.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any, ClassVar

from cosea.chats.io.base import (
    END,
    ChatReader,
    Event,
    ParticipantBook,
    ReaderOption,
    ReadReport,
    decoded_lines,
    format_suffix,
    open_binary,
    register_reader,
    strip_suffixes,
)
from cosea.errors import InputError
from cosea.types import Conversation, Message

_SPACE = r"[ \u00a0\u202f]"
_DATE = r"(?P<d1>\d{1,4})[./-](?P<d2>\d{1,2})[./-](?P<d3>\d{1,4})\.?"
_TIME = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?"
_AMPM = rf"(?:{_SPACE}?(?P<ampm>[AaPp]\.?{_SPACE}?[Mm]\.?))?"
_ANDROID = re.compile(rf"{_DATE},?{_SPACE}{_TIME}{_AMPM}{_SPACE}[-–]{_SPACE}(?P<rest>.*)", re.S)
_IOS = re.compile(rf"\[{_DATE},?{_SPACE}{_TIME}{_AMPM}\]{_SPACE}(?P<rest>.*)", re.S)
_INVISIBLE = "\u200e\u200f\ufeff\u202a\u202c"

# The notice WhatsApp writes at the top of every chat, in a few languages.
_ENCRYPTION_NOTICE = re.compile(
    r"(?:messages and calls are end-to-end encrypted|messages to this (?:chat|group) are now"
    r"|(?:los )?mensajes y (?:las )?llamadas están cifrados|nachrichten und anrufe sind ende"
    r"|les messages et (?:les )?appels sont chiffrés|as mensagens e (?:as )?(?:chamadas|ligações))",
    re.I,
)
# Group and account notices; on iPhones they come as the chat's own lines, marked by
# an invisible left-to-right mark, so they are recognised only with that mark.
_SYSTEM_NOTICE = re.compile(
    r"created (?:the )?group|\badded\b|\bremoved\b|\bleft$|joined using this group's invite"
    r"|changed the (?:subject|group description)|changed this group's (?:icon|settings)"
    r"|security code (?:with .+ )?changed|changed (?:their|your) phone number|changed to \+?\d"
    r"|disappearing messages|blocked this contact|unblocked this contact|now an admin"
    r"|is a contact|business account",
    re.I,
)
_MEDIA_WORDS = re.compile(
    r"omitted|omitido|omis|ausgeschlossen|weggelassen|oculta|ocultos|media|medien|mídia", re.I
)
_ATTACHED = re.compile(r"<attached: (?P<file>[^>]+)>")
_FILE_ATTACHED = re.compile(r"(?P<file>.+\.\w{1,5}) \((?:file attached|archivo adjunto)\)")
_OMITTED = re.compile(
    r"(?:.* )?(?:image|video|audio|sticker|GIF|document|Contact card|photo|voice message)"
    r" omitted",
    re.I,
)

DATE_ORDERS = ("auto", "dmy", "mdy", "ymd")


def _date_order(text: str) -> str:
    value = text.strip().lower()
    if value not in DATE_ORDERS:
        raise ValueError(f"date_order must be one of {', '.join(DATE_ORDERS)}")
    return value


def header_match(line: str) -> re.Match[str] | None:
    """The date/time/rest match of a line that starts a message, else None."""
    stripped = line.lstrip(_INVISIBLE)
    if not stripped[:1].isdigit() and not stripped.startswith("["):
        return None
    return _IOS.match(stripped) or _ANDROID.match(stripped)


def zip_chat_member(path: Path) -> str | None:
    """The chat text inside a WhatsApp export zip (``_chat.txt`` on iPhones)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".txt")]
    except (zipfile.BadZipFile, OSError):
        return None
    for name in names:
        base = name.rsplit("/", 1)[-1]
        if base == "_chat.txt" or base.lower().startswith("whatsapp chat"):
            return name
    return names[0] if len(names) == 1 else None


@contextmanager
def _open_chat(path: Path) -> Iterator[IO[bytes]]:
    if format_suffix(path) == ".zip":
        member = zip_chat_member(path)
        if member is None:
            raise InputError(path, "a zip file without a WhatsApp chat text inside")
        with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
            yield handle
    else:
        with open_binary(path) as handle:
            yield handle


def _conversation_id(path: Path) -> str:
    stem = strip_suffixes(path)
    if stem == "_chat" and path.parent.name:
        return path.parent.name
    return stem


def _attachment(first_line: str) -> str | None:
    text = first_line.strip().strip(_INVISIBLE).strip()
    match = _ATTACHED.fullmatch(text) or _FILE_ATTACHED.fullmatch(text)
    if match:
        return match.group("file").strip(_INVISIBLE)
    if text.startswith("<") and text.endswith(">") and _MEDIA_WORDS.search(text):
        return text[1:-1]
    if _OMITTED.fullmatch(text):
        return text.replace("\u200e", "")
    return None


@register_reader
class WhatsAppReader(ChatReader):
    name = "whatsapp"
    description = "WhatsApp text export (.txt or .zip; Android and iPhone date styles)"
    extensions = (".txt", ".zip")
    options: ClassVar[dict[str, ReaderOption]] = {
        "date_order": ReaderOption(
            "order of date parts: auto (default), dmy, mdy or ymd", _date_order
        ),
        "conversation_id": ReaderOption("id for the conversation (default: the file name)"),
    }

    def sniff(self, head: str, path: Path) -> bool:
        lines = [line for line in head.splitlines()[:6] if line.strip()]
        return any(header_match(line) for line in lines[:5])

    def _decide_order(self, path: Path, report: ReadReport, strict: bool) -> str:
        saw_ampm = False
        with _open_chat(path) as handle:
            for line in decoded_lines(handle, path, ReadReport(), False):
                match = header_match(line)
                if match is None:
                    continue
                first, second = match.group("d1"), match.group("d2")
                if len(first) == 4:
                    return "ymd"
                if int(first) > 12:
                    return "dmy"
                if int(second) > 12:
                    return "mdy"
                saw_ampm = saw_ampm or bool(match.group("ampm"))
        order = "mdy" if saw_ampm else "dmy"
        report.warn(
            f"{path}: day and month cannot be told apart in any date; assumed "
            f"{'month/day' if order == 'mdy' else 'day/month'} "
            "(pass date_order=dmy or date_order=mdy if wrong)"
        )
        return order

    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        zone: tzinfo = options["tz"]
        order = options.get("date_order") or "auto"
        if order == "auto":
            order = self._decide_order(path, report, strict)
        header = Conversation(
            id=options.get("conversation_id") or _conversation_id(path),
            platform=options.get("platform") or "messenger",
            language=options.get("language"),
            source=str(path),
        )
        book = ParticipantBook(header)
        count = 0
        # The message being built: its first line's parts, then continuation lines.
        sender: str | None = None
        ts: datetime | None = None
        lines: list[str] = []
        skipping = False  # continuation lines of a skipped record belong to it

        def finish() -> Message | None:
            nonlocal count
            if sender is None:
                return None
            count += 1
            attachment = _attachment(lines[0]) if lines else None
            body = lines[1:] if attachment else lines
            text = "\n".join(body).rstrip()
            return Message(
                id=f"m{count}",
                sender=sender,
                text=text.lstrip(_INVISIBLE),
                ts=ts,
                conversation_id=header.id,
                attachments=[attachment] if attachment else [],
            )

        with _open_chat(path) as handle:
            for number, raw in enumerate(decoded_lines(handle, path, report, strict), start=1):
                line = raw.rstrip("\r\n")
                match = header_match(line)
                if match is None:
                    if sender is not None:
                        lines.append(line)
                    elif not skipping and line.strip(_INVISIBLE + " \t"):
                        skipping = True
                        report.problem(
                            InputError(
                                path,
                                "not a WhatsApp message line (expected "
                                "'DD/MM/YYYY, HH:MM - Name: text' or "
                                "'[DD/MM/YYYY, HH:MM:SS] Name: text')",
                                line=number,
                            ),
                            strict=strict,
                        )
                    continue
                message = finish()
                if message is not None:
                    yield header, message
                sender, lines, skipping = None, [], False
                try:
                    ts = self._timestamp(match, order, zone)
                except ValueError as error:
                    skipping = True
                    report.problem(
                        InputError(path, f"bad date or time: {error}", line=number),
                        strict=strict,
                    )
                    continue
                rest = match.group("rest")
                name, separator, text = rest.partition(": ")
                if not separator and rest.endswith(":"):
                    name, separator, text = rest[:-1], ":", ""
                if not separator or self._is_system(text):
                    report.ignored += 1
                    skipping = True
                    continue
                sender = name.strip(_INVISIBLE + " ")
                book.see(sender, sender)
                lines = [text]
            message = finish()
            if message is not None:
                yield header, message
        yield header, END

    @staticmethod
    def _is_system(text: str) -> bool:
        if _ENCRYPTION_NOTICE.match(text.lstrip(_INVISIBLE)):
            return True
        return (
            text.startswith("\u200e")
            and bool(_SYSTEM_NOTICE.search(text))
            and not (_attachment(text))
        )

    @staticmethod
    def _timestamp(match: re.Match[str], order: str, zone: tzinfo) -> datetime:
        first, second, third = (int(match.group(g)) for g in ("d1", "d2", "d3"))
        if order == "ymd" or len(match.group("d1")) == 4:
            year, month, day = first, second, third
        elif order == "mdy":
            month, day, year = first, second, third
        else:
            day, month, year = first, second, third
        if year < 100:
            year += 2000
        hour = int(match.group("hour"))
        ampm = match.group("ampm")
        if ampm:
            if not 1 <= hour <= 12:
                raise ValueError(f"hour {hour} with {ampm.strip()}")
            pm = ampm.strip()[0] in "pP"
            hour = hour % 12 + (12 if pm else 0)
        second_value = int(match.group("second") or 0)
        return datetime(
            year, month, day, hour, int(match.group("minute")), second_value, tzinfo=zone
        )
