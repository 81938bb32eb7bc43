"""What a scan learns about each file: hashes, type, image signals, EXIF, chats, archives.

An :class:`Analyzer` lives in each worker process. It reads every file once, in
chunks: the chunks feed MD5, SHA-1 and SHA-256 together, the first bytes decide the
type, and only content that needs decoding (images, chat exports, archives nested in
archives) is held in memory, up to a limit. Archives found on disk are reopened from
their path; archives inside archives are opened from memory. Nothing is extracted to
disk.

Results leave through ``emit`` as messages: ``("file", record)``,
``("error", path, kind, reason)`` and ``("container", info)`` once every member of an
archive has been sent. Bad input of any kind becomes an error message; the analyzer
itself never stops on it.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cosea.triage import adapters, filetypes
from cosea.triage.archives import Budget, Entry, LimitExceeded, Limits, iter_archive, neutral_name

CHUNK = 1 << 20
HEAD = 8192

Emit = Callable[[tuple[Any, ...]], None]


@dataclass(slots=True, frozen=True)
class AnalysisSettings:
    crypto: tuple[str, ...] = ("md5", "sha1", "sha256")
    pdq: bool = True
    exif: bool = True
    vpdq: bool = True
    chats: bool = True
    open_archives: bool = True
    robust: bool = False  # PDQ variants for the matcher's robust mode
    limits: Limits = field(default_factory=Limits)

    def to_dict(self) -> dict[str, Any]:
        return {
            "crypto": list(self.crypto),
            "pdq": self.pdq,
            "exif": self.exif,
            "vpdq": self.vpdq,
            "chats": self.chats,
            "open_archives": self.open_archives,
            "robust": self.robust,
            "limits": self.limits.to_dict(),
        }


@dataclass(slots=True)
class DiskItem:
    """A regular file found on disk, as the walker saw it."""

    path: str
    source: str
    size: int
    mtime_ns: int
    ctime_ns: int
    atime_ns: int
    # The record is stored and unchanged; only the archive inside needs finishing.
    skip_record: bool = False
    # path -> (size, mtime_ns, crc, is_archive) of members stored by an earlier run.
    done_members: dict[str, tuple[Any, ...]] | None = None
    done_containers: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Item:
    path: str
    source: str
    container: str | None
    depth: int
    name: str
    original_name: str | None = None
    size: int | None = None
    mtime_ns: int | None = None
    mtime: str | None = None
    ctime: str | None = None
    atime: str | None = None
    member_crc: int | None = None
    disk_path: Path | None = None


def iso_from_ns(value: int | None) -> str | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1e9, UTC).isoformat().replace("+00:00", "Z")


def _member_time(moment: datetime | None) -> tuple[str | None, int | None]:
    if moment is None:
        return None, None
    # ZIP times carry no zone: shown as written, compared as if UTC.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    text = moment.isoformat().replace("+00:00", "Z")
    return text, int(aware.timestamp() * 1e9)


class _Sink:
    """Hashes chunks as they come and keeps the bytes while they may be needed."""

    __slots__ = ("chunks", "decided", "hasher", "head", "keep", "keep_limit", "kept")

    def __init__(self, crypto: tuple[str, ...], keep_limit: int) -> None:
        self.hasher = adapters.CryptoHasher(crypto)
        self.head = b""
        self.chunks: list[bytes] = []
        self.kept = 0
        self.keep = True
        self.decided = False
        self.keep_limit = keep_limit

    def write(self, chunk: bytes | memoryview) -> None:
        """Take one chunk; ``chunk`` may be a view of a reused buffer (copied if kept)."""
        self.hasher.update(chunk)
        if len(self.head) < HEAD:
            self.head += bytes(chunk[: HEAD - len(self.head)])
        if self.keep:
            self.kept += len(chunk)
            if self.kept > self.keep_limit:
                self.keep = False
                self.chunks = []
            else:
                self.chunks.append(bytes(chunk))

    def stop_keeping(self) -> None:
        self.keep = False
        self.chunks = []

    def data(self) -> bytes | None:
        if not self.keep:
            return None
        if len(self.chunks) == 1:
            return self.chunks[0]
        return b"".join(self.chunks)


class Analyzer:
    def __init__(self, settings: AnalysisSettings, emit: Emit) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.emit = emit
        self._vpdq = settings.vpdq and adapters.vpdq_available()
        self._chats = settings.chats and adapters.chats_available()
        self._done: dict[str, tuple[Any, ...]] = {}
        self._done_containers: frozenset[str] = frozenset()
        # Reads go into one reused buffer: nested reads never overlap (an archive is read
        # to its end before its members are), and chunks that are kept get copied.
        self._buffer = bytearray(CHUNK)
        self._view = memoryview(self._buffer)

    # -- entry points ------------------------------------------------------------------------

    def error(self, path: str, kind: str, reason: str) -> None:
        self.emit(("error", path, kind, reason))

    def disk_file(self, item: DiskItem) -> None:
        """Analyse one file on disk (and every archive member inside it)."""
        self._done = item.done_members or {}
        self._done_containers = item.done_containers
        try:
            self._disk_file(item)
        except Exception as error:  # a bug or an unforeseen library error: keep scanning
            self.error(
                item.path,
                "internal-error",
                f"{type(error).__name__}: {error} "
                f"({traceback.format_exc(limit=-3).strip().splitlines()[-3:]})",
            )
        finally:
            self._done = {}
            self._done_containers = frozenset()

    def _disk_file(self, item: DiskItem) -> None:
        path = item.path
        try:
            # O_NONBLOCK: a FIFO that slipped in between walk and open must not hang us.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except PermissionError as error:
            self._unreadable(item, "permission-denied", f"permission denied: {error.strerror}")
            return
        except FileNotFoundError:
            self._unreadable(item, "vanished", "the file disappeared during the scan")
            return
        except OSError as error:
            kind = "symlink-loop" if error.errno == errno.ELOOP else "unreadable"
            self._unreadable(item, kind, f"cannot open: {error.strerror or error}")
            return
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                os.close(fd)
                self._unreadable(item, "not-regular-file", "not a regular file any more")
                return
            os.set_blocking(fd, True)
            handle = os.fdopen(fd, "rb", buffering=0)
        except OSError as error:
            os.close(fd)
            self._unreadable(item, "unreadable", f"cannot read: {error}")
            return
        meta = _Item(
            path=path,
            source=item.source,
            container=None,
            depth=0,
            name=os.path.basename(path),
            size=info.st_size,
            mtime_ns=item.mtime_ns,
            mtime=iso_from_ns(item.mtime_ns),
            ctime=iso_from_ns(item.ctime_ns),
            atime=iso_from_ns(item.atime_ns),
            disk_path=Path(path),
        )
        with handle:
            self._analyse(handle, meta, budget=None, skip_record=item.skip_record)

    def _unreadable(self, item: DiskItem, kind: str, reason: str) -> None:
        self.error(item.path, kind, reason)
        self.emit(
            (
                "file",
                {
                    "path": item.path,
                    "source": item.source,
                    "container": None,
                    "depth": 0,
                    "name": os.path.basename(item.path),
                    "extension": filetypes.extension_of(item.path),
                    "size": item.size,
                    "mtime_ns": item.mtime_ns,
                    "mtime": iso_from_ns(item.mtime_ns),
                    "ctime": iso_from_ns(item.ctime_ns),
                    "atime": iso_from_ns(item.atime_ns),
                    "status": "error",
                },
            )
        )

    # -- one file or member -------------------------------------------------------------------

    def _wants_bytes(self, detected: filetypes.FileType, meta: _Item) -> bool:
        extension = filetypes.extension_of(meta.name)
        if detected.group == "image" and (self.settings.pdq or self.settings.exif):
            return True
        if self._chats and (extension in adapters.CHAT_EXTENSIONS or detected.group == "text"):
            return True
        # Archives on disk are reopened from their path; nested ones are opened from memory.
        return meta.disk_path is None and filetypes.archive_kind(detected, meta.name) is not None

    def _analyse(
        self, stream: IO[bytes], meta: _Item, budget: Budget | None, skip_record: bool = False
    ) -> None:
        limits = self.limits
        sink = _Sink(self.settings.crypto, limits.max_buffer)
        read_error: str | None = None
        detected: filetypes.FileType | None = None
        readinto = getattr(stream, "readinto", None)
        try:
            while True:
                if readinto is not None:
                    # One reused buffer: no 1 MiB allocation per read.
                    count = readinto(self._buffer)
                    if not count:
                        break
                    chunk: bytes | memoryview = self._view[:count]
                else:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                sink.write(chunk)
                if not sink.decided and len(sink.head) >= HEAD:
                    sink.decided = True
                    detected = filetypes.detect(sink.head, meta.name)
                    if not self._wants_bytes(detected, meta):
                        sink.stop_keeping()
        except LimitExceeded:
            raise
        except Exception as error:  # truncated archive member, I/O error, bad CRC
            read_error = f"{type(error).__name__}: {error}"
        if detected is None:
            detected = filetypes.detect(sink.head, meta.name)
        if not sink.decided and not self._wants_bytes(detected, meta):
            sink.stop_keeping()
        data = sink.data()
        record: dict[str, Any] = {
            "path": meta.path,
            "source": meta.source,
            "container": meta.container,
            "depth": meta.depth,
            "name": meta.name,
            "original_name": meta.original_name,
            "extension": filetypes.extension_of(meta.name),
            "size": sink.hasher.size,
            "mtime_ns": meta.mtime_ns,
            "mtime": meta.mtime,
            "ctime": meta.ctime,
            "atime": meta.atime,
            "member_crc": meta.member_crc,
            "detected_type": detected.extension,
            "mime": detected.mime,
            "type_group": detected.group,
            "ext_mismatch": filetypes.extension_mismatch(meta.name, detected),
            "status": "ok",
        }
        record.update(sink.hasher.digests())
        if read_error is not None:
            record["status"] = "error"
            self.error(meta.path, "read-error", f"could not read to the end: {read_error}")
        elif meta.size is not None and meta.container is None and sink.hasher.size != meta.size:
            self.error(
                meta.path,
                "changed-during-scan",
                f"size changed while reading ({meta.size} → {sink.hasher.size} bytes)",
            )
        if (
            read_error is None
            and detected.group == "image"
            and (self.settings.pdq or self.settings.exif)
        ):
            self._image(record, data, meta)
        elif read_error is None and detected.group == "video" and self._vpdq:
            result = adapters.video_vpdq(meta.disk_path)
            if "error" in result:
                self.error(meta.path, result["error_kind"], result["error"])
            elif result:
                record["vpdq"] = result["vpdq"]
        if (
            read_error is None
            and self._chats
            and data is not None
            and detected.group in {"text", "other"}
            and len(data) <= limits.max_chat_bytes
        ):
            self._chat(record, data, meta)
        kind = filetypes.archive_kind(detected, meta.name)
        if kind is None or read_error is not None or not self.settings.open_archives:
            kind = None
        elif meta.depth >= limits.max_depth:
            self.error(
                meta.path,
                "archive-too-deep",
                f"archive nested deeper than {limits.max_depth} levels; hashed but not opened",
            )
            kind = None
        elif meta.disk_path is None and data is None:
            self.error(
                meta.path,
                "archive-too-large",
                f"nested archive larger than {limits.max_buffer} bytes held in memory; "
                "hashed but not opened",
            )
            kind = None
        record["archive_kind"] = kind
        if not skip_record:
            self.emit(("file", record))
        if kind is None:
            return
        source: Path | IO[bytes] = (
            meta.disk_path if meta.disk_path is not None else io.BytesIO(data)
        )  # type: ignore[arg-type]
        del data, sink
        self._archive(kind, source, meta, budget or Budget(limits))

    def _image(self, record: dict[str, Any], data: bytes | None, meta: _Item) -> None:
        if data is None:
            self.error(
                meta.path,
                "image-too-large",
                f"image larger than {self.limits.max_buffer} bytes; hashed, not decoded",
            )
            return
        if self.settings.pdq:
            result = adapters.image_pdq(
                data, meta.name, self.limits.max_image_pixels, variants=self.settings.robust
            )
            if "error" in result:
                self.error(meta.path, result["error_kind"], result["error"])
            else:
                record.update(result)
        if self.settings.exif and record["detected_type"] in {"jpg", "tif", "png", "webp", "heic"}:
            from cosea.triage.exif import read_exif

            try:
                facts = read_exif(data)
            except ValueError as error:
                self.error(meta.path, "exif", str(error))
                return
            if facts:
                record["exif"] = facts
                record["taken_at"] = facts.get("taken_at")
                record["camera_make"] = facts.get("make")
                record["camera_model"] = facts.get("model")
                record["software"] = facts.get("software")
                record["gps_lat"] = facts.get("gps_lat")
                record["gps_lon"] = facts.get("gps_lon")

    def _chat(self, record: dict[str, Any], data: bytes, meta: _Item) -> None:
        try:
            result = adapters.analyse_chat(data, meta.name, meta.disk_path)
        except Exception as error:
            self.error(meta.path, "chat-read", f"{type(error).__name__}: {error}")
            return
        if result is None:
            return
        record["type_group"] = "chat"
        record["chats"] = result
        for problem in result.get("problems") or []:
            self.error(meta.path, "chat-read", problem)

    # -- archives -----------------------------------------------------------------------------

    def _archive(self, kind: str, source: Path | IO[bytes], meta: _Item, budget: Budget) -> None:
        container = meta.path
        if container in self._done_containers:
            return
        seen: dict[str, int] = {}
        members = 0
        try:
            for entry in iter_archive(kind, source, budget, container, meta.name):
                members += self._member(entry, meta, budget, seen)
        except LimitExceeded as limit:
            self.error(container, limit.kind, limit.reason)
            if limit.scope == "top" and meta.depth > 0:
                raise
        except Exception as error:  # corrupt or truncated archive: keep what was read
            self.error(
                container,
                "corrupt-archive",
                f"archive unreadable after {members} member(s): {type(error).__name__}: {error}",
            )
        self.emit(
            (
                "container",
                {
                    "path": container,
                    "size": meta.size,
                    "mtime_ns": meta.mtime_ns,
                    "member_crc": meta.member_crc,
                    "members": members,
                },
            )
        )

    def _member(self, entry: Entry, parent: _Item, budget: Budget, seen: dict[str, int]) -> int:
        safe, changed = neutral_name(entry.raw_name)
        count = seen.get(safe, 0) + 1
        seen[safe] = count
        if count > 1 and entry.kind == "file":
            # ZIP allows two members of one name; both are evidence, neither may overwrite.
            safe = f"{safe}~{count}"
            self.error(
                f"{parent.path}!/{safe}",
                "duplicate-name",
                f"archive holds {count} members named {entry.raw_name!r}; this one is '~{count}'",
            )
        path = f"{parent.path}!/{safe}"
        if changed:
            self.error(
                path,
                "path-traversal",
                f"member name {entry.raw_name!r} points outside the archive or is absolute; "
                "recorded under a neutral name (nothing is ever extracted)",
            )
        if entry.kind == "link":
            self.error(
                path,
                "link-member",
                f"link member pointing to {entry.link_target!r}; recorded, not followed",
            )
            return 0
        if entry.kind != "file":
            return 0
        mtime, mtime_ns = _member_time(entry.mtime)
        meta = _Item(
            path=path,
            source=parent.source,
            container=parent.path,
            depth=parent.depth + 1,
            name=safe.rsplit("/", 1)[-1],
            original_name=entry.raw_name if changed else None,
            size=entry.size,
            mtime_ns=mtime_ns,
            mtime=mtime,
            member_crc=entry.crc,
        )
        if entry.refused is not None:
            self.error(path, entry.refused.kind, entry.refused.reason)
            return 1
        if entry.encrypted or entry.stream is None:
            self.error(path, "encrypted", "encrypted member; its content cannot be read")
            self.emit(("file", {**_bare(meta), "status": "error"}))
            return 1
        previous = self._done.get(path)
        skip_record = False
        if previous is not None and tuple(previous[:3]) == (entry.size, mtime_ns, entry.crc):
            if not previous[3] or path in self._done_containers:
                return 1  # stored by an earlier run, unchanged
            skip_record = True  # stored, but the archive inside it was not finished
        try:
            self._analyse(entry.stream, meta, budget, skip_record=skip_record)
        except LimitExceeded as limit:
            if limit.scope == "member":
                self.error(path, limit.kind, limit.reason)
                return 1
            raise
        return 1


def _bare(meta: _Item) -> dict[str, Any]:
    return {
        "path": meta.path,
        "source": meta.source,
        "container": meta.container,
        "depth": meta.depth,
        "name": meta.name,
        "original_name": meta.original_name,
        "extension": filetypes.extension_of(meta.name),
        "size": meta.size,
        "mtime_ns": meta.mtime_ns,
        "mtime": meta.mtime,
        "member_crc": meta.member_crc,
    }
