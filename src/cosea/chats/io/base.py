"""The reader interface, the registry of readers by name, and what every reader shares.

A reader turns one file of some chat format into :class:`~cosea.types.Conversation`
objects. Every reader streams: it never holds a whole file, only the conversation
(or, in ``stream``, the message) it is on, plus small per-conversation headers.

Readers implement one generator, :meth:`ChatReader.events`, that yields
``(header, message)`` pairs in file order and ``(header, END)`` once when a
conversation is complete. ``stream`` and ``read`` are built on it, so both see
the same records, count them the same way and report the same errors.
"""

from __future__ import annotations

import bz2
import gzip
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cosea.errors import InputError
from cosea.types import Conversation, Message, Participant

PathLike = str | Path


class _End:
    """Marks the end of a conversation in a reader's event stream."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "END"


END = _End()

# The head of a file that detection looks at.
SNIFF_BYTES = 64 * 1024


@dataclass
class ReadReport:
    """What was read and what was skipped, across every file of one read.

    ``errors`` keeps the first ``max_errors`` problems (a badly broken file could
    otherwise fill memory with them); ``skipped`` counts every skipped record.
    ``ignored`` counts records that are not messages by design (system lines,
    service messages, join notices): nothing is wrong with them.
    """

    files: int = 0
    conversations: int = 0
    messages: int = 0
    skipped: int = 0
    ignored: int = 0
    errors: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    max_errors: int = 1000

    @property
    def ok(self) -> bool:
        return self.skipped == 0 and not self.errors

    def problem(self, error: InputError, *, strict: bool) -> None:
        """Record a bad record (skipped), or raise it when reading strictly."""
        if strict:
            raise error
        self.skipped += 1
        if len(self.errors) < self.max_errors:
            self.errors.append(error)

    def fatal(self, error: InputError, *, strict: bool) -> None:
        """Record a problem that ends the file (the rest of it cannot be read)."""
        self.problem(error, strict=strict)

    def warn(self, text: str) -> None:
        if len(self.warnings) < self.max_errors:
            self.warnings.append(text)

    def summary(self) -> str:
        text = (
            f"read {self.conversations} conversation(s), {self.messages} message(s) "
            f"from {self.files} file(s)"
        )
        if self.skipped:
            text += f"; skipped {self.skipped} bad record(s)"
        if self.ignored:
            text += f"; ignored {self.ignored} system record(s)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "conversations": self.conversations,
            "messages": self.messages,
            "skipped": self.skipped,
            "ignored": self.ignored,
            "errors": [
                {"file": e.source, "line": e.line, "entry": e.entry, "problem": e.problem}
                for e in self.errors
            ],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ReaderOption:
    """An option a reader takes: how to parse it from ``KEY=VALUE`` text, and its help."""

    help: str
    parse: Callable[[str], Any] = str


def parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_zone(text: str | tzinfo | None) -> tzinfo:
    """A time zone name (``Europe/Berlin``, ``UTC``) or a fixed ``+02:00`` offset."""
    if text is None:
        return UTC
    if isinstance(text, tzinfo):
        return text
    name = text.strip()
    if name.upper() in {"UTC", "Z"}:
        return UTC
    if name[:1] in "+-" and ":" in name:
        return datetime.fromisoformat(f"2000-01-01T00:00:00{name}").tzinfo or UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {text!r}") from error


COMMON_OPTIONS: dict[str, ReaderOption] = {
    "tz": ReaderOption(
        "time zone for timestamps that carry none (default UTC), e.g. Europe/Berlin or +02:00",
        parse_zone,
    ),
    "platform": ReaderOption("platform to record on each conversation (game_chat, sms, ...)"),
    "language": ReaderOption("language code to record on each conversation (en, es, ...)"),
}


def as_aware(value: datetime, zone: tzinfo) -> datetime:
    """Naive datetimes are read in ``zone`` (UTC unless the user says otherwise)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=zone)
    return value


def parse_iso(text: str, zone: tzinfo) -> datetime:
    """ISO 8601 text (``Z``, an offset or none) to an aware datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return as_aware(datetime.fromisoformat(value), zone)


def parse_epoch(value: float) -> datetime:
    """Seconds (or milliseconds, for values past the year 5138) since 1970 in UTC."""
    seconds = value / 1000.0 if abs(value) >= 1e11 else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for reading, decompressing gzip and bzip2 files transparently."""
    handle = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = handle.read(3)
    handle.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    if magic == b"BZh":
        handle.close()
        return bz2.open(path, "rb")
    return handle


def open_text(path: Path, encoding: str = "utf-8-sig") -> IO[str]:
    """Text lines of a (possibly compressed) file; a leading byte-order mark is dropped."""
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors="strict", newline="")


def decoded_lines(
    handle: IO[bytes],
    path: Path,
    report: ReadReport,
    strict: bool,
    encoding: str = "utf-8",
) -> Iterator[str]:
    """Lines (with their endings) decoded one by one, so one bad byte costs one line.

    A line that is not valid in ``encoding`` is read with the bad bytes replaced
    (U+FFFD) and a warning naming the line, or stops a strict read.
    """
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode(encoding)
        except UnicodeDecodeError as error:
            problem = f"not valid {encoding} text ({error.reason} at byte {error.start})"
            if strict:
                raise InputError(path, problem, line=number) from None
            report.warn(f"{path}:{number}: {problem}; bad bytes replaced")
            yield raw.decode(encoding, errors="replace")


def read_head(path: Path, size: int = SNIFF_BYTES) -> str:
    """The first ``size`` bytes of a file as text, for format detection."""
    with open_binary(path) as handle:
        data = handle.read(size)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="ignore")


def strip_suffixes(path: Path) -> str:
    """The file name without compression and format suffixes: ``chat.jsonl.gz`` -> ``chat``."""
    name = path.name
    for suffix in (".gz", ".bz2"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name.rsplit(".", 1)[0] if "." in name else name


def format_suffix(path: Path) -> str:
    """The format extension under any compression suffix: ``x.jsonl.gz`` -> ``.jsonl``."""
    name = path.name.lower()
    for suffix in (".gz", ".bz2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return "." + name.rsplit(".", 1)[1] if "." in name else ""


class ParticipantBook:
    """Adds a participant to a conversation header the first time an author speaks.

    The header's list grows in place, so a consumer of ``stream`` holding the
    header sees every author met so far.
    """

    __slots__ = ("_known", "header")

    def __init__(self, header: Conversation) -> None:
        self.header = header
        self._known: dict[str, Participant] = {p.id: p for p in header.participants}

    def see(self, participant_id: str, display_name: str | None = None, **extra: Any) -> None:
        known = self._known.get(participant_id)
        if known is None:
            participant = Participant(id=participant_id, display_name=display_name)
            for key, value in extra.items():
                if key == "declared_age":
                    participant.declared_age = value
                elif key == "account_created":
                    participant.account_created = value
                elif value is not None:
                    participant.extra[key] = value
            self._known[participant_id] = participant
            self.header.participants.append(participant)
        elif known.display_name is None and display_name:
            known.display_name = display_name


Event = tuple[Conversation, "Message | _End"]


class ChatReader(ABC):
    """One chat format. Subclasses set the class attributes and write :meth:`events`."""

    name: ClassVar[str]
    description: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[dict[str, ReaderOption]] = {}

    # --- what a reader implements -------------------------------------------------

    @abstractmethod
    def events(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        """Yield ``(header, message)`` in file order and ``(header, END)`` once per conversation.

        ``header`` is one :class:`Conversation` object per conversation, with an
        empty ``messages`` list, the same object for all its messages. Bad records
        go to ``report.problem(error, strict=strict)`` and are skipped.
        """

    def sniff(self, head: str, path: Path) -> bool:
        """Whether the start of a file looks like this format (extension already matched or not)."""
        return False

    # --- what every reader gets -----------------------------------------------------

    @classmethod
    def accepted_options(cls) -> dict[str, ReaderOption]:
        return {**COMMON_OPTIONS, **cls.options}

    def check_options(self, options: dict[str, Any]) -> dict[str, Any]:
        accepted = self.accepted_options()
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise InputError(
                None,
                f"reader {self.name!r} takes no option {', '.join(map(repr, unknown))}; "
                f"it takes: {', '.join(sorted(accepted))}",
            )
        checked: dict[str, Any] = {}
        for key, value in options.items():
            if value is None:
                continue
            try:
                checked[key] = accepted[key].parse(value) if isinstance(value, str) else value
            except ValueError as error:
                raise InputError(None, f"option {key}={value!r}: {error}") from None
        checked["tz"] = parse_zone(checked.get("tz"))
        return checked

    def stream(
        self,
        path: PathLike,
        *,
        report: ReadReport | None = None,
        strict: bool = False,
        ends: bool = False,
        **options: Any,
    ) -> Iterator[tuple[Conversation, Message]]:
        """``(conversation header, message)`` in file order, in constant memory.

        The header has an empty ``messages`` list and is the same object for all
        messages of its conversation; its participants grow as new authors speak.
        With ``ends``, ``(header, END)`` also comes once when a conversation is
        complete (conversations without messages included), so a consumer can
        finish it at once even when a source interleaves conversations (CSV).
        """
        report = report if report is not None else ReadReport()
        for header, item in self._counted(Path(path), report, strict, options):
            if ends or item is not END:
                yield header, item  # type: ignore[misc]

    def read(
        self,
        path: PathLike,
        *,
        report: ReadReport | None = None,
        strict: bool = False,
        **options: Any,
    ) -> Iterator[Conversation]:
        """Whole conversations, one at a time, in the order they end in the file."""
        report = report if report is not None else ReadReport()
        for header, item in self._counted(Path(path), report, strict, options):
            if item is END:
                yield header
            else:
                header.messages.append(item)  # type: ignore[arg-type]

    def _counted(
        self, path: Path, report: ReadReport, strict: bool, options: dict[str, Any]
    ) -> Iterator[Event]:
        checked = self.check_options(options)
        if not path.is_file():
            report.fatal(InputError(path, "no such file"), strict=strict)
            return
        report.files += 1
        # Conversations begun but not ended when a file breaks off are still
        # delivered with what was read of them: nothing read is lost.
        open_headers: dict[int, Conversation] = {}
        current: Conversation | None = None
        try:
            for header, item in self.events(path, report, strict, checked):
                if item is END:
                    open_headers.pop(id(header), None)
                    current = None
                    report.conversations += 1
                else:
                    if header is not current:
                        open_headers[id(header)] = header
                        current = header
                    report.messages += 1
                yield header, item
        except UnicodeDecodeError as error:
            report.fatal(
                InputError(path, f"not UTF-8 text ({error.reason}); pass the right encoding"),
                strict=strict,
            )
        except OSError as error:
            report.fatal(InputError(path, f"cannot read: {error}"), strict=strict)
        for header in list(open_headers.values()):
            report.conversations += 1
            yield header, END


# --- the registry -----------------------------------------------------------------

_READERS: dict[str, type[ChatReader]] = {}


def register_reader(cls: type[ChatReader]) -> type[ChatReader]:
    """Add a reader class under its ``name``; usable as a class decorator."""
    name = getattr(cls, "name", None)
    if not name:
        raise ValueError("a reader needs a name")
    _READERS[name] = cls
    return cls


def reader_names() -> list[str]:
    return list(_READERS)


def get_reader(name: str) -> ChatReader:
    try:
        return _READERS[name]()
    except KeyError:
        raise InputError(
            None, f"no reader named {name!r}; readers: {', '.join(reader_names())}"
        ) from None


_GENERIC_EXTENSIONS = frozenset({".txt", ".json", ".zip"})


def detect_reader(path: PathLike) -> str:
    """The name of the reader for a file, from its extension and a look at its start.

    A reader whose extension matches and whose sniff accepts the content wins;
    then any reader whose sniff accepts it; then a sole extension match.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    suffix = format_suffix(path)
    if suffix == ".zip":
        from cosea.chats.io.whatsapp import zip_chat_member

        if zip_chat_member(path) is not None:
            return "whatsapp"
        raise InputError(path, "a zip file without a chat text export inside")
    head = read_head(path)
    by_extension = [cls() for cls in _READERS.values() if suffix and suffix in cls.extensions]
    for reader in by_extension:
        if reader.sniff(head, path):
            return reader.name
    for cls in _READERS.values():
        reader = cls()
        if reader.sniff(head, path):
            return reader.name
    # A specific extension (.jsonl, .xml, .csv) names its reader even when the
    # start of the file is broken, so the reader can report where; .txt and
    # .json are too common to say anything.
    if len(by_extension) == 1 and suffix not in _GENERIC_EXTENSIONS:
        return by_extension[0].name
    raise InputError(
        path,
        "cannot tell the chat format from the name and content; "
        f"pass the reader (one of: {', '.join(reader_names())})",
    )


def _paths(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(p) for p in paths]


def _reader_and_options(
    path: Path, reader: str | None, options: dict[str, Any]
) -> tuple[ChatReader, dict[str, Any]]:
    if reader is not None:
        return get_reader(reader), options
    chosen = get_reader(detect_reader(path))
    # Options meant for another format (a CSV mapping in a mixed list) are not
    # errors when each file's format is detected: pass each reader its own.
    accepted = chosen.accepted_options()
    return chosen, {k: v for k, v in options.items() if k in accepted}


def _events_over(
    paths: PathLike | Iterable[PathLike],
    reader: str | None,
    strict: bool,
    report: ReadReport,
    options: dict[str, Any],
) -> Iterator[tuple[ChatReader, Path, dict[str, Any]]]:
    for path in _paths(paths):
        try:
            chosen, chosen_options = _reader_and_options(path, reader, options)
        except InputError as error:
            if reader is not None and error.source is None:
                raise  # a wrong reader name or option is the caller's error, not the file's
            report.fatal(error, strict=strict)
            continue
        yield chosen, path, chosen_options


def read_conversations(
    paths: PathLike | Iterable[PathLike],
    *,
    reader: str | None = None,
    strict: bool = False,
    report: ReadReport | None = None,
    **options: Any,
) -> Iterator[Conversation]:
    """Whole conversations from several files, each file's format detected unless named."""
    report = report if report is not None else ReadReport()
    for chosen, path, chosen_options in _events_over(paths, reader, strict, report, options):
        yield from chosen.read(path, report=report, strict=strict, **chosen_options)


def stream_messages(
    paths: PathLike | Iterable[PathLike],
    *,
    reader: str | None = None,
    strict: bool = False,
    report: ReadReport | None = None,
    ends: bool = False,
    **options: Any,
) -> Iterator[tuple[Conversation, Message]]:
    """``(conversation header, message)`` pairs from several files, in constant memory.

    With ``ends``, ``(header, END)`` marks each conversation's completion (see
    :meth:`ChatReader.stream`).
    """
    report = report if report is not None else ReadReport()
    for chosen, path, chosen_options in _events_over(paths, reader, strict, report, options):
        yield from chosen.stream(path, report=report, strict=strict, ends=ends, **chosen_options)
