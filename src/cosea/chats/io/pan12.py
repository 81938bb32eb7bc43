"""PAN12 XML, the sexual-predator-identification benchmark's format, and its ground truth.

```xml
<conversations>
  <conversation id="e621da5d...">
    <message line="1"><author>97964e7a...</author><time>03:20</time><text>hi</text></message>
  </conversation>
</conversations>
```

Parsed with expat, the parser under :mod:`xml.etree.ElementTree`, driven directly
so that every record knows its line in the file and nothing but the current
message is kept: memory stays flat on the 900,000-message training corpus.
Entity declarations are refused (no entity-expansion bombs).

PAN12 gives only a time of day (``03:20``), no date, so ``Message.ts`` is None.
The message id is the ``line`` attribute, the key PAN12's line-level ground truth uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.parsers import expat

from cosea.chats.io.base import (
    END,
    ChatReader,
    Event,
    ParticipantBook,
    PathLike,
    ReadReport,
    open_binary,
    register_reader,
)
from cosea.errors import InputError
from cosea.types import Conversation, ConversationClass, Message

CHUNK_BYTES = 64 * 1024
_FIELDS = frozenset({"author", "time", "text"})


class _EntityRefused(Exception):
    pass


class _Pan12Parser:
    """Turns expat callbacks into reader events, collected per fed chunk."""

    def __init__(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> None:
        self.path = path
        self.report = report
        self.strict = strict
        self.options = options
        self.pending: list[Event] = []
        self.header: Conversation | None = None
        self.book: ParticipantBook | None = None
        self.in_conversation = False
        self.message_count = 0
        self.message: dict[str, str] | None = None
        self.message_line = 0
        self.field: str | None = None
        self.parts: list[str] = []

        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 64 * 1024
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.characters
        parser.EntityDeclHandler = self.refuse_entity
        self.parser = parser

    def refuse_entity(self, *_: Any) -> None:
        raise _EntityRefused()

    def problem(self, problem: str, line: int, entry: str | None = None) -> None:
        self.report.problem(
            InputError(self.path, problem, line=line, entry=entry), strict=self.strict
        )

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "message":
            if self.in_conversation:
                self.message = {"line": attrs.get("line", "")}
                self.message_line = self.parser.CurrentLineNumber
            return
        if name in _FIELDS:
            if self.message is not None:
                self.field = name
                self.parts = []
            return
        if name == "conversation":
            self.in_conversation = True
            self.message_count = 0
            conversation_id = attrs.get("id", "").strip()
            if not conversation_id:
                self.header = None
                self.problem(
                    "<conversation> has no id attribute; its messages are skipped",
                    self.parser.CurrentLineNumber,
                )
                return
            self.header = Conversation(
                id=conversation_id,
                platform=self.options.get("platform"),
                language=self.options.get("language"),
                source=str(self.path),
            )
            self.book = ParticipantBook(self.header)

    def characters(self, data: str) -> None:
        if self.field is not None:
            self.parts.append(data)

    def end(self, name: str) -> None:
        if name in _FIELDS:
            if self.field == name and self.message is not None:
                self.message[name] = "".join(self.parts)
                self.field = None
            return
        if name == "message":
            if self.message is not None:
                self.finish_message(self.message)
            self.message = None
            return
        if name == "conversation":
            if self.header is not None:
                self.pending.append((self.header, END))
            self.header = None
            self.in_conversation = False

    def finish_message(self, raw: dict[str, str]) -> None:
        self.message_count += 1
        if self.header is None or self.book is None:
            return  # the conversation had no id: already reported once
        message_id = raw.get("line", "").strip() or str(self.message_count)
        author = raw.get("author", "").strip()
        if not author:
            self.problem(
                "<message> has no <author>",
                self.message_line,
                entry=f"conversation {self.header.id} message {message_id}",
            )
            return
        self.book.see(author)
        message = Message(
            id=message_id,
            sender=author,
            text=raw.get("text", ""),
            conversation_id=self.header.id,
        )
        self.pending.append((self.header, message))

    def feed(self, data: bytes, final: bool = False) -> None:
        self.parser.Parse(data, final)


@register_reader
class Pan12Reader(ChatReader):
    name = "pan12"
    description = "PAN12 XML (<conversations><conversation id><message line>...)"
    extensions = (".xml",)

    def sniff(self, head: str, path: Path) -> bool:
        return "<conversations" in head and "<conversation" in head.replace("<conversations", "")

    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        state = _Pan12Parser(path, report, strict, options)
        with open_binary(path) as handle:
            try:
                while True:
                    chunk = handle.read(CHUNK_BYTES)
                    state.feed(chunk, final=not chunk)
                    yield from state.pending
                    state.pending.clear()
                    if not chunk:
                        break
            except expat.ExpatError as error:
                # Events completed before the break are good; the rest of the file
                # cannot be parsed (XML has no resynchronisation point).
                yield from state.pending
                report.fatal(
                    InputError(
                        path,
                        f"broken XML: {expat.errors.messages[error.code]} "
                        f"(column {error.offset + 1}); the rest of the file is not read",
                        line=error.lineno,
                    ),
                    strict=strict,
                )
                if state.header is not None:
                    yield state.header, END  # what was read of it is kept
            except _EntityRefused:
                yield from state.pending
                report.fatal(
                    InputError(
                        path,
                        "XML entity declarations are not accepted in PAN12 files",
                        line=state.parser.CurrentLineNumber,
                    ),
                    strict=strict,
                )


def load_pan12_predators(path: PathLike) -> set[str]:
    """The author ids of PAN12's predator list (one id per line)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    predators: set[str] = set()
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            value = line.strip()
            if not value or value.startswith("#"):
                continue
            if len(value.split()) != 1:
                raise InputError(path, "expected one author id per line", line=number)
            predators.add(value)
    return predators


def load_pan12_lines(path: PathLike) -> dict[str, list[str]]:
    """PAN12 problem-2 ground truth: ``conversation-id <tab> line`` per suspicious line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    lines: dict[str, list[str]] = {}
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise InputError(path, "expected 'conversation-id line' on each line", line=number)
            lines.setdefault(fields[0], []).append(fields[1])
    return lines


def _line_key(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (1 << 62, value)


def pan12_gold(
    xml_path: PathLike,
    predators_path: PathLike,
    *,
    lines_path: PathLike | None = None,
    report: ReadReport | None = None,
) -> Iterator[dict[str, Any]]:
    """Gold lines for ``cosea chats eval`` from a PAN12 corpus and its predator list.

    A conversation with a listed predator among its authors is ``grooming`` and
    that author its offender; every other one is ``benign``. With the problem-2
    ground truth (``lines_path``), its first suspicious line becomes
    ``first_risk_message``.
    """
    predators = load_pan12_predators(predators_path)
    suspicious = load_pan12_lines(lines_path) if lines_path is not None else {}
    for conversation in Pan12Reader().read(xml_path, report=report):
        offender = next((p.id for p in conversation.participants if p.id in predators), None)
        label: dict[str, Any] = {
            "class": str(ConversationClass.GROOMING if offender else ConversationClass.BENIGN),
            "offender": offender,
        }
        if lines_path is not None:
            marked = suspicious.get(conversation.id)
            label["first_risk_message"] = min(marked, key=_line_key) if marked else None
        yield {"id": conversation.id, "label": label}
