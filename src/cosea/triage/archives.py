"""Reading archives member by member, in memory, with limits against archive bombs.

Nothing is extracted to disk. ZIP members and tar streams are read through
:class:`GuardedReader`, which counts what comes out of the decompressor and stops
when the compression ratio or the total size of one top-level archive passes its
limit (the zip-bomb and 42.zip defences); nesting depth is limited by the caller.
7z archives are pushed out by py7zr, so a small thread turns that into the same
pull-style stream the other formats give.

Member names are never used as file-system paths; :func:`neutral_name` still makes
names that climb out of the archive (``../../etc/x``, ``/etc/x``, ``C:\\x``) plain so
that the logical path a report shows cannot be mistaken for a real location.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import queue
import re
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(slots=True, frozen=True)
class Limits:
    """Bounds a scan keeps to, whatever the input (all configurable on the CLI)."""

    max_depth: int = 8  # archives inside archives
    max_ratio: float = 200.0  # decompressed / compressed bytes …
    ratio_floor: int = 16 * MiB  # … enforced once this much came out of one stream
    max_archive_bytes: int = 32 * GiB  # all members of one top-level archive together
    max_members: int = 1_000_000  # members of one top-level archive, nested included
    max_buffer: int = 512 * MiB  # largest member held in memory (nested archive, image, chat)
    max_image_pixels: int = 120_000_000  # decompression-bomb guard for images
    max_chat_bytes: int = 64 * MiB  # chat exports larger than this are hashed, not analysed

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


class LimitExceeded(Exception):
    """An archive went past a limit; ``kind`` is the error kind recorded in the case."""

    def __init__(self, kind: str, reason: str, scope: str = "archive") -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        # member: skip that member; archive: stop that archive; top: stop the whole tree
        self.scope = scope


class Budget:
    """What one top-level archive (and everything nested in it) may decompress."""

    __slots__ = ("limits", "members", "total")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0
        self.members = 0

    def consume(self, count: int) -> None:
        self.total += count
        if self.total > self.limits.max_archive_bytes:
            raise LimitExceeded(
                "archive-bomb",
                f"archive bomb: more than {_size(self.limits.max_archive_bytes)} decompressed "
                "from one archive (total size limit)",
                scope="top",
            )

    def count_member(self) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(
                "archive-bomb",
                f"archive bomb: more than {self.limits.max_members} members in one archive",
                scope="top",
            )


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


class CountingReader(io.RawIOBase):
    """Counts the bytes read from the wrapped (compressed) stream."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class GuardedReader(io.RawIOBase):
    """Decompressed bytes, stopped when the ratio or the archive budget is exceeded.

    ``basis`` returns the compressed bytes the output came from so far (for a ZIP
    member its compressed size; for a stream what was consumed; for 7z the archive's
    size), ``shared_out`` lets several members share one output count (7z solid).
    """

    def __init__(
        self,
        raw: IO[bytes],
        budget: Budget,
        basis: Callable[[], int],
        label: str,
        shared_out: list[int] | None = None,
        scope: str = "archive",
    ) -> None:
        self.raw = raw
        self.scope = scope
        self.budget = budget
        self.basis = basis
        self.label = label
        self.out = shared_out if shared_out is not None else [0]

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        data = self.raw.read(size)
        self._account(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _account(self, count: int) -> None:
        if not count:
            return
        self.out[0] += count
        self.budget.consume(count)
        produced = self.out[0]
        limits = self.budget.limits
        if produced > limits.ratio_floor:
            ratio = produced / max(self.basis(), 1)
            if ratio > limits.max_ratio:
                raise LimitExceeded(
                    "archive-bomb",
                    f"archive bomb: {self.label} expands more than {limits.max_ratio:.0f}:1 "
                    f"({_size(produced)} out of {_size(self.basis())} so far)",
                    scope=self.scope,
                )


@dataclass(slots=True)
class Entry:
    """One member of an archive; ``stream`` is readable until the next member is asked for."""

    raw_name: str
    kind: str  # file | dir | link | other
    size: int | None = None
    compressed: int | None = None
    mtime: datetime | None = None
    crc: int | None = None
    link_target: str | None = None
    encrypted: bool = False
    stream: IO[bytes] | None = None
    refused: LimitExceeded | None = None  # not opened, for this reason


_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def neutral_name(raw: str) -> tuple[str, bool]:
    """A member name made safe to show as a path inside the archive; True when changed.

    ``..`` becomes ``__``, leading slashes and drive letters are dropped, backslashes
    become slashes and control characters ``?``.
    """
    text = raw.replace("\\", "/")
    changed = text != raw and ".." in raw  # backslash alone is a Windows archive, not an attack
    if _CONTROL.search(text):
        text = _CONTROL.sub("?", text)
        changed = True
    if _DRIVE.match(text):
        text = text[0] + "_" + text[2:]
        changed = True
    if text.startswith("/"):
        changed = True
    parts = []
    for part in text.split("/"):
        if part in {"", "."}:
            continue
        if part == "..":
            parts.append("__")
            changed = True
        else:
            parts.append(part)
    return ("/".join(parts) or "_unnamed_"), changed


# --- the formats ------------------------------------------------------------------------


def _zip_time(info: zipfile.ZipInfo) -> datetime | None:
    try:
        return datetime(*info.date_time)
    except ValueError:
        return None


def iter_zip(source: Path | IO[bytes], budget: Budget, label: str) -> Iterator[Entry]:
    limits = budget.limits
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            budget.count_member()
            name = info.filename
            if info.is_dir():
                yield Entry(name, "dir", mtime=_zip_time(info))
                continue
            mode = (info.external_attr >> 16) & 0o170000
            if mode == 0o120000:  # a symbolic link stored by Info-ZIP
                target = archive.read(info)[:4096].decode("utf-8", "replace")
                yield Entry(name, "link", link_target=target, mtime=_zip_time(info))
                continue
            declared_ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_floor and declared_ratio > limits.max_ratio:
                yield Entry(
                    name,
                    "file",
                    size=info.file_size,
                    compressed=info.compress_size,
                    mtime=_zip_time(info),
                    crc=info.CRC,
                    refused=LimitExceeded(
                        "archive-bomb",
                        f"archive bomb: member {name!r} declares {_size(info.file_size)} from "
                        f"{_size(info.compress_size)} ({declared_ratio:.0f}:1); not decompressed",
                        scope="member",
                    ),
                )
                continue
            entry = Entry(
                name,
                "file",
                size=info.file_size,
                compressed=info.compress_size,
                mtime=_zip_time(info),
                crc=info.CRC,
                encrypted=bool(info.flag_bits & 0x1),
            )
            if entry.encrypted:
                yield entry
                continue
            with archive.open(info) as member:
                compressed = info.compress_size
                entry.stream = GuardedReader(  # type: ignore[assignment]
                    member, budget, lambda c=compressed: c, f"member {name!r}", scope="member"
                )
                yield entry


# The decompressed stream is returned open: the caller reads and closes it.
_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    "gz": lambda raw: gzip.GzipFile(fileobj=raw, mode="rb"),
    "bz2": lambda raw: bz2.BZ2File(raw, mode="rb"),
    "xz": lambda raw: lzma.LZMAFile(raw, mode="rb"),  # noqa: SIM115
}


def compression_of(head: bytes) -> str | None:
    if head[:2] == b"\x1f\x8b":
        return "gz"
    if head[:3] == b"BZh":
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return None


def _reopen(source: Path | IO[bytes]) -> IO[bytes]:
    if isinstance(source, Path):
        return source.open("rb")
    source.seek(0)
    return _Unclosable(source)


class _Unclosable(io.RawIOBase):
    """A view of an in-memory buffer that readers may close without closing the buffer."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.inner.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _decompressed(
    source: Path | IO[bytes], compression: str | None, budget: Budget, label: str
) -> tuple[IO[bytes], IO[bytes]]:
    raw = _reopen(source)
    if compression is None:
        return raw, GuardedReader(raw, budget, lambda: 1 << 62, label)  # type: ignore[return-value]
    counter = CountingReader(raw)
    inner = _DECOMPRESSORS[compression](io.BufferedReader(counter, 1 << 16))  # type: ignore[arg-type]
    return raw, GuardedReader(inner, budget, lambda: counter.count, label)  # type: ignore[return-value]


def is_tar_stream(source: Path | IO[bytes], compression: str | None, budget: Budget) -> bool:
    """Whether (decompressed) content is a tar archive: ``ustar`` at 257, or a valid header."""
    raw, stream = _decompressed(source, compression, Budget(budget.limits), "probe")
    try:
        block = b""
        while len(block) < 512:
            chunk = stream.read(512 - len(block))
            if not chunk:
                break
            block += chunk
    except (OSError, EOFError, lzma.LZMAError, LimitExceeded):
        return False
    finally:
        raw.close()
    if len(block) < 512:
        return False
    if block[257:262] == b"ustar":
        return True
    try:
        tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def iter_tar(
    source: Path | IO[bytes], compression: str | None, budget: Budget, label: str
) -> Iterator[Entry]:
    raw, stream = _decompressed(source, compression, budget, label)
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                budget.count_member()
                mtime = datetime.fromtimestamp(member.mtime, UTC) if member.mtime else None
                if member.isdir():
                    yield Entry(member.name, "dir", mtime=mtime)
                elif member.issym() or member.islnk():
                    yield Entry(member.name, "link", mtime=mtime, link_target=member.linkname)
                elif member.isfile():
                    entry = Entry(member.name, "file", size=member.size, mtime=mtime)
                    entry.stream = archive.extractfile(member)
                    yield entry
                else:
                    yield Entry(member.name, "other", mtime=mtime)
    finally:
        raw.close()


def iter_single(
    source: Path | IO[bytes], compression: str, budget: Budget, label: str, name: str
) -> Iterator[Entry]:
    """A lone compressed file (``notes.txt.gz``): one member, named without the suffix."""
    raw, stream = _decompressed(source, compression, budget, label)
    try:
        budget.count_member()
        base = name.rsplit("/", 1)[-1]
        lowered = base.lower()
        for suffix in (".gz", ".gzip", ".bz2", ".xz", ".tgz", ".tbz2", ".txz"):
            if lowered.endswith(suffix):
                base = base[: -len(suffix)] + (".tar" if suffix.startswith(".t") else "")
                break
        yield Entry(base or "data", "file", stream=stream)
    finally:
        raw.close()


class _PipeStream(io.RawIOBase):
    """One 7z member's bytes, as py7zr's extraction thread pushes them."""

    def __init__(self, chunks: queue.Queue[tuple[str, Any]]) -> None:
        self.chunks = chunks
        self.pending = b""
        self.finished = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self.finished and (size < 0 or len(self.pending) < size):
            kind, value = self.chunks.get()
            if kind == "data":
                self.pending += value
            elif kind == "end":
                self.finished = True
            else:  # an error or the end of the archive while a member was open
                self.finished = True
                self.chunks.put((kind, value))
                if kind == "error":
                    raise value
        if size < 0:
            data, self.pending = self.pending, b""
        else:
            data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        while not self.finished:
            self.read(1 << 20)


class _Cancelled(Exception):
    pass


def iter_7z(source: Path | IO[bytes], budget: Budget, label: str) -> Iterator[Entry]:
    import py7zr
    import py7zr.io

    limits = budget.limits
    if isinstance(source, Path):
        archive_size = source.stat().st_size
    else:
        source.seek(0, io.SEEK_END)
        archive_size = source.tell()
        source.seek(0)
    archive = py7zr.SevenZipFile(source)
    infos = {info.filename: info for info in archive.list()}
    declared = sum(int(info.uncompressed or 0) for info in infos.values())
    if declared > limits.ratio_floor and declared / max(archive_size, 1) > limits.max_ratio:
        archive.close()
        raise LimitExceeded(
            "archive-bomb",
            f"archive bomb: 7z declares {_size(declared)} from {_size(archive_size)}",
        )
    for info in infos.values():
        if info.is_directory:
            budget.count_member()
            yield Entry(info.filename, "dir", mtime=_aware(info.creationtime))
    chunks: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=16)
    cancelled = threading.Event()

    def put(item: tuple[str, Any]) -> None:
        while True:
            if cancelled.is_set():
                raise _Cancelled()
            try:
                chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    class Sink(py7zr.io.Py7zIO):
        def __init__(self, name: str) -> None:
            self.name = name
            self.count = 0

        def write(self, data: bytes | bytearray) -> int:
            self.count += len(data)
            put(("data", bytes(data)))
            return len(data)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return offset

        def flush(self) -> None:
            pass

        def size(self) -> int:
            return self.count

        def close(self) -> None:
            put(("end", self.name))

    class Factory(py7zr.io.WriterFactory):
        def create(self, filename: str) -> py7zr.io.Py7zIO:
            put(("member", filename))
            return Sink(filename)

    def produce() -> None:
        try:
            archive.extract(factory=Factory())
        except _Cancelled:
            return
        except BaseException as error:
            try:
                put(("error", error))
            except _Cancelled:
                return
        try:
            put(("finish", None))
        except _Cancelled:
            return

    thread = threading.Thread(target=produce, name="cosea-7z", daemon=True)
    thread.start()
    shared_out = [0]
    try:
        while True:
            kind, value = chunks.get()
            if kind == "finish":
                break
            if kind == "error":
                raise value
            if kind != "member":
                continue
            budget.count_member()
            info = infos.get(value)
            pipe = _PipeStream(chunks)
            entry = Entry(
                value,
                "file",
                size=int(info.uncompressed) if info and info.uncompressed is not None else None,
                compressed=int(info.compressed) if info and info.compressed else None,
                mtime=_aware(info.creationtime) if info else None,
                crc=getattr(info, "crc32", None) if info else None,
                stream=GuardedReader(  # type: ignore[arg-type]
                    pipe, budget, lambda: archive_size, f"7z {label!r}", shared_out
                ),
            )
            yield entry
            pipe.drain()
    finally:
        cancelled.set()
        thread.join(timeout=30)
        archive.close()


def _aware(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iter_archive(
    kind: str, source: Path | IO[bytes], budget: Budget, label: str, name: str
) -> Iterator[Entry]:
    """Members of an archive of ``kind`` (zip, tar, 7z, compressed) from a path or buffer."""
    if kind == "zip":
        yield from iter_zip(source, budget, label)
    elif kind == "tar":
        yield from iter_tar(source, None, budget, label)
    elif kind == "7z":
        yield from iter_7z(source, budget, label)
    elif kind == "compressed":
        head = _reopen(source)
        try:
            compression = compression_of(head.read(8))
        finally:
            if isinstance(source, Path):
                head.close()
        if compression is None:
            return
        if is_tar_stream(source, compression, budget):
            yield from iter_tar(source, compression, budget, label)
        else:
            yield from iter_single(source, compression, budget, label, name)
    else:
        raise ValueError(f"unknown archive kind {kind!r}")
