"""Hash files, streams and folders: the entry point triage and the service call.

Each file is read once: its bytes are digested (MD5, SHA-1, SHA-256) as they pass
and, when it is a picture, decoded from the same bytes in memory for PDQ. Videos
get vPDQ frame hashes when ffmpeg is installed. Nothing here raises on a bad
file: the problem is recorded in :attr:`FileHashes.error` (naming the file) and
the other hashes are kept, so one corrupt picture never stops a triage run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from cosea.media.images import (
    REDUCED_MIN_SIDE,
    DecodedImage,
    ImageDecodeError,
    decode_image,
    sniff_kind,
)
from cosea.media.signals.base import get_signal
from cosea.media.signals.crypto import CHUNK, CRYPTO_ALGORITHMS, digest_source
from cosea.media.signals.pdq import pdq_from_decoded

DEFAULT_SIGNALS = ("md5", "sha1", "sha256", "pdq")
# Pictures up to this size are read into memory once (digests and decoding share the
# bytes); larger files are streamed for the digests and decoded from disk.
MAX_IN_MEMORY = 256 << 20
SMALL_FILE = 16 << 20  # other files up to this size are read whole, larger ones streamed

VIDEO_SUFFIXES = {
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".wmv", ".flv", ".3gp", ".3g2",
    ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".ogv", ".vob",
}  # fmt: skip
IMAGE_SUFFIXES = {".heic", ".heif", ".avif", ".tga", ".jp2", ".ico", ".ppm", ".pgm", ".pbm"}


@dataclass(slots=True)
class FileHashes:
    """Every hash of one file (or archive member) and what went wrong, if anything."""

    path: str | None
    size: int | None = None
    kind: str | None = None  # "image", "video" or None for anything else
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_low_quality: bool = False
    vpdq: list[Any] | None = None  # list[VideoFrameHash]
    extra: dict[str, str] = field(default_factory=dict)  # plug-in signal types by name
    pdq_variants: dict[str, str] = field(default_factory=dict)  # robust mode: name -> PDQ
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # signals skipped, and why

    def hash_for(self, signal: str) -> str | None:
        if signal in ("md5", "sha1", "sha256", "pdq"):
            return getattr(self, signal)
        if signal == "vpdq":
            if not self.vpdq:
                return None
            from cosea.media.signals.vpdq import frames_to_json

            return frames_to_json(self.vpdq)
        return self.extra.get(signal)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "size": self.size, "kind": self.kind}
        for name in ("md5", "sha1", "sha256"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.pdq is not None:
            out["pdq"] = self.pdq
            out["pdq_quality"] = self.pdq_quality
            out["pdq_low_quality"] = self.pdq_low_quality
        if self.vpdq is not None:
            out["vpdq"] = [str(frame) for frame in self.vpdq]
        if self.pdq_variants:
            out["pdq_variants"] = dict(self.pdq_variants)
        out.update(self.extra)
        if self.error is not None:
            out["error"] = self.error
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileHashes:
        from cosea.media.signals.vpdq import VideoFrameHash

        known = {
            "path", "size", "kind", "md5", "sha1", "sha256", "pdq", "pdq_quality",
            "pdq_low_quality", "vpdq", "pdq_variants", "error", "notes",
        }  # fmt: skip
        frames = data.get("vpdq")
        return cls(
            path=data.get("path"),
            size=data.get("size"),
            kind=data.get("kind"),
            md5=data.get("md5"),
            sha1=data.get("sha1"),
            sha256=data.get("sha256"),
            pdq=data.get("pdq"),
            pdq_quality=data.get("pdq_quality"),
            pdq_low_quality=bool(data.get("pdq_low_quality", False)),
            vpdq=[VideoFrameHash.parse(f) for f in frames] if frames is not None else None,
            extra={k: v for k, v in data.items() if k not in known and isinstance(v, str)},
            pdq_variants=dict(data.get("pdq_variants") or {}),
            error=data.get("error"),
            notes=list(data.get("notes") or []),
        )


def normalise_signals(signals: Iterable[str] | str) -> tuple[str, ...]:
    """Signal names checked against the registry ("pdq,sha256" or a sequence)."""
    if isinstance(signals, str):
        signals = signals.split(",")
    names: list[str] = []
    for raw in signals:
        name = raw.strip().lower()
        if not name:
            continue
        get_signal(name)  # KeyError naming the known signals
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("no signal types given")
    return tuple(names)


def _kind(head: bytes, name: str | None) -> str | None:
    kind = sniff_kind(head)
    if kind is None and name:
        suffix = Path(name).suffix.lower()
        if suffix in VIDEO_SUFFIXES:
            return "video"
        if suffix in IMAGE_SUFFIXES:
            return "image"
    return kind


def hash_file(
    path: str | Path,
    signals: Sequence[str] = DEFAULT_SIGNALS,
    *,
    min_side: int | None = REDUCED_MIN_SIDE,
    max_pixels: int | None = None,
) -> FileHashes:
    """All requested hashes of one file; problems are recorded, not raised."""
    return hash_file_detailed(path, signals, min_side=min_side, max_pixels=max_pixels)[0]


def hash_file_detailed(
    path: str | Path,
    signals: Sequence[str] = DEFAULT_SIGNALS,
    *,
    min_side: int | None = REDUCED_MIN_SIDE,
    max_pixels: int | None = None,
    keep_image: bool = False,
) -> tuple[FileHashes, DecodedImage | None]:
    """Like :func:`hash_file`, also returning the decoded picture (for robust matching)."""
    signals = normalise_signals(signals)
    label = str(path)
    result = FileHashes(path=label)
    try:
        size = os.stat(path).st_size
        result.size = size
        with open(path, "rb", buffering=0) as handle:
            head = handle.read(32)
            result.kind = _kind(head, label)
            wants_picture = result.kind == "image" and "pdq" in signals
            limit = MAX_IN_MEMORY if wants_picture else SMALL_FILE
            if size <= limit:
                # One read to the end: fewer system calls than chunks for typical files.
                rest = handle.readall()
                _digest_into(result, (head, rest), signals)
                source: Any = head + rest if wants_picture else None
            else:
                handle.seek(0)
                _digest_into(result, handle, signals)
                source = path
    except OSError as exc:
        result.error = f"{label}: cannot read ({exc.strerror or exc})"
        return result, None
    image = None
    if result.kind == "image" and "pdq" in signals:
        image = _pdq_into(result, source, label, min_side, max_pixels)
    if result.kind == "video" and "vpdq" in signals:
        _vpdq_into(result, path)
    _plugins_into(result, signals, path=path)
    return result, (image if keep_image else None)


def hash_stream(
    stream: BinaryIO,
    name: str | None = None,
    signals: Sequence[str] = DEFAULT_SIGNALS,
    *,
    min_side: int | None = REDUCED_MIN_SIDE,
    max_pixels: int | None = None,
) -> FileHashes:
    """Hashes of a readable binary stream (an archive member); ``name`` labels it."""
    signals = normalise_signals(signals)
    label = name or "<stream>"
    result = FileHashes(path=name)
    try:
        head = stream.read(32) or b""
        result.kind = _kind(head, name)
        needs_copy = (result.kind == "image" and "pdq" in signals) or (
            result.kind == "video" and "vpdq" in signals
        )
        if not needs_copy:
            result.size = _digest_into(result, _Prefixed(head, stream), signals)
            _plugins_into(result, signals, data=None)
            return result
        data = head + _read_all(stream, MAX_IN_MEMORY + 1)
    except OSError as exc:
        result.error = f"{label}: cannot read ({exc})"
        return result
    if len(data) > MAX_IN_MEMORY:
        # Too large to hold: digest what is read plus the rest, skip perceptual hashes.
        result.size = _digest_into(result, _Prefixed(data, stream), signals)
        result.notes.append(f"perceptual hash skipped: larger than {MAX_IN_MEMORY >> 20} MiB")
        return result
    return _hash_in_memory(result, data, label, signals, min_side, max_pixels)


def hash_bytes(
    data: bytes,
    name: str | None = None,
    signals: Sequence[str] = DEFAULT_SIGNALS,
    *,
    min_side: int | None = REDUCED_MIN_SIDE,
    max_pixels: int | None = None,
) -> FileHashes:
    """Hashes of content already in memory (an upload, a small archive member)."""
    signals = normalise_signals(signals)
    result = FileHashes(path=name, kind=_kind(bytes(data[:32]), name))
    return _hash_in_memory(result, data, name or "<bytes>", signals, min_side, max_pixels)


def _hash_in_memory(
    result: FileHashes,
    data: bytes,
    label: str,
    signals: Sequence[str],
    min_side: int | None,
    max_pixels: int | None,
) -> FileHashes:
    result.size = _digest_into(result, data, signals)
    if result.kind == "image" and "pdq" in signals:
        _pdq_into(result, data, label, min_side, max_pixels)
    if result.kind == "video" and "vpdq" in signals:
        suffix = Path(label).suffix or ".video"
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            handle.write(data)
            handle.flush()
            _vpdq_into(result, handle.name, label=label)
    _plugins_into(result, signals, data=data)
    return result


def _read_all(stream: BinaryIO, expected: int) -> bytes:
    parts = []
    remaining = expected
    while remaining > 0:
        part = stream.read(min(remaining, 16 * CHUNK))
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


class _Prefixed:
    """A stream whose first bytes were already read (to sniff the kind)."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._rest.read(size)


def _digest_into(result: FileHashes, source: Any, signals: Sequence[str]) -> int:
    algorithms = [name for name in CRYPTO_ALGORITHMS if name in signals]
    if not algorithms and isinstance(source, bytes | bytearray | memoryview):
        return len(source)
    if not algorithms and isinstance(source, tuple):
        return sum(len(part) for part in source)
    digests, size = digest_source(source, algorithms)
    for name, value in digests.items():
        setattr(result, name, value)
    if result.size is None:
        result.size = size
    return size


def _pdq_into(
    result: FileHashes,
    source: Any,
    label: str,
    min_side: int | None,
    max_pixels: int | None,
) -> DecodedImage | None:
    try:
        image = decode_image(source, name=label, min_side=min_side, max_pixels=max_pixels)
    except ImageDecodeError as exc:
        result.error = str(exc)
        return None
    pdq = pdq_from_decoded(image)
    result.pdq = pdq.hash
    result.pdq_quality = pdq.quality
    result.pdq_low_quality = pdq.low_quality
    return image


def _vpdq_into(result: FileHashes, path: str | Path, label: str | None = None) -> None:
    from cosea.media.signals.vpdq import VideoUnavailable, ffmpeg_path, vpdq_hash_file

    if ffmpeg_path() is None:
        result.notes.append("vpdq skipped: the ffmpeg program is not installed")
        return
    try:
        result.vpdq = vpdq_hash_file(path)
    except VideoUnavailable as exc:
        problem = exc.problem
        result.error = f"{label or path}: {problem}"


def _plugins_into(
    result: FileHashes,
    signals: Sequence[str],
    *,
    path: str | Path | None = None,
    data: bytes | None = None,
) -> None:
    """Signal types registered by plug-ins (anything beyond the built-in five)."""
    for name in signals:
        if name in ("md5", "sha1", "sha256", "pdq", "vpdq"):
            continue
        signal = get_signal(name)
        if signal.applies_to not in ("any", result.kind):
            continue
        try:
            if path is not None:
                result.extra[name] = signal.hash_file(path)
            elif data is not None:
                result.extra[name] = signal.hash_bytes(data)
        except Exception as exc:  # a plug-in's failure is recorded like any other
            result.notes.append(f"{name} failed: {exc}")


# --- folders and parallel hashing ----------------------------------------------------


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every regular file under ``paths`` (folders recursively, in sorted order)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    candidate = Path(folder) / name
                    if candidate.is_file() and not candidate.is_symlink():
                        yield candidate
        else:
            yield path  # missing files come back as FileHashes with an error


def _hash_one(args: tuple[str, tuple[str, ...], int | None, int | None]) -> FileHashes:
    path, signals, min_side, max_pixels = args
    return hash_file(path, signals, min_side=min_side, max_pixels=max_pixels)


def _ready(_: int = 0) -> int:
    return os.getpid()


def _worker_setup() -> None:
    # Each worker is one of several processes sharing the cores: one BLAS thread each.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except ImportError:
        pass


def process_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """A started pool of ``workers`` processes (default: one per core).

    Workers are forked (cheap: no re-import) and started here, before the caller
    starts threads of its own such as a progress bar, so no thread's lock can be
    copied into a child in a held state.
    """
    import multiprocessing

    count = workers if workers is not None else (os.cpu_count() or 1)
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context(method),
        initializer=_worker_setup,
    )
    list(pool.map(_ready, range(count)))
    return pool


def hash_paths(
    paths: Iterable[str | Path],
    signals: Sequence[str] = DEFAULT_SIGNALS,
    workers: int | None = None,
    *,
    min_side: int | None = REDUCED_MIN_SIDE,
    max_pixels: int | None = None,
    chunksize: int = 8,
    pool: ProcessPoolExecutor | None = None,
) -> Iterator[FileHashes]:
    """Hash files and folders (recursively), across ``workers`` processes, in input order.

    ``workers`` defaults to the number of cores; 1 hashes in this process. Pass a
    ``pool`` from :func:`process_pool` to reuse one.
    """
    signals = normalise_signals(signals)
    files = (str(p) for p in iter_files(paths))
    jobs = ((f, signals, min_side, max_pixels) for f in files)
    if pool is not None:
        yield from pool.map(_hash_one, jobs, chunksize=chunksize)
        return
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1:
        yield from map(_hash_one, jobs)
        return
    with process_pool(count) as own_pool:
        yield from own_pool.map(_hash_one, jobs, chunksize=chunksize)
