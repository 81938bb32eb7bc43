"""Inputs where users keep them: local paths, ``file://`` and object-storage URLs (fsspec).

``s3://bucket/prefix/`` (and ``gs://``, ``az://``, ``hdfs://``... whatever fsspec
has a filesystem for) name one object or, when they name a prefix, every object
under it in sorted order. Credentials and endpoints come from the usual places of
each filesystem (for S3: the ``AWS_*`` variables, ``~/.aws``, an instance role; an
S3-compatible store such as MinIO or Ceph via ``AWS_ENDPOINT_URL``), or from
fsspec's own ``FSSPEC_<PROTOCOL>_<OPTION>`` variables, on the machine that runs
the command and on every worker.

``file://`` URLs are plain local paths and are handled exactly like them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cosea.errors import InputError

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")
# What pathlib makes of a URL given on the command line: "s3://b/k" -> "s3:/b/k".
_MANGLED = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):/(?!/)(.*)$", re.DOTALL)


def _known_protocol(scheme: str) -> bool:
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a core dependency
        return scheme == "file"
    return scheme.lower() in fsspec.available_protocols()


def restore_url(value: str | os.PathLike[str]) -> str:
    """The text a user typed, undoing what ``pathlib.Path`` does to ``scheme://`` URLs."""
    text = os.fspath(value)
    if _URL.match(text):
        return text
    mangled = _MANGLED.match(text)
    if mangled and _known_protocol(mangled.group(1)) and not os.path.exists(text):
        scheme, rest = mangled.groups()
        return (
            f"{scheme}:///{rest}" if scheme.lower() in ("file", "local") else f"{scheme}://{rest}"
        )
    return text


def is_url(value: str | os.PathLike[str]) -> bool:
    """Whether an input names a URL (``file://`` included) rather than a local path."""
    match = _URL.match(restore_url(value))
    return bool(match) and _known_protocol(match.group(1))


def is_remote(value: str | os.PathLike[str]) -> bool:
    """A URL that is not simply a local file."""
    match = _URL.match(restore_url(value))
    return bool(match) and match.group(1).lower() not in ("file", "local")


def local_path(value: str | os.PathLike[str]) -> str:
    """A local path for a local input; ``file:///x`` becomes ``/x``."""
    text = restore_url(value)
    match = _URL.match(text)
    if match and match.group(1).lower() in ("file", "local"):
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem._strip_protocol(text)
    return text


def any_url(values: Iterable[str | os.PathLike[str]]) -> bool:
    return any(is_url(v) for v in values)


@dataclass(frozen=True, slots=True)
class InputFile:
    """One file to read: where it is (a local path or a URL) and how results name it."""

    location: str
    label: str
    size: int | None = None

    @property
    def remote(self) -> bool:
        return is_remote(self.location)

    @property
    def name(self) -> str:
        return self.location.rstrip("/").rsplit("/", 1)[-1]


def _filesystem(url: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as error:
        raise InputError(url, f"cannot open this URL: {error}") from None


def expand_remote(url: str) -> list[InputFile]:
    """The object a URL names, or every object under the prefix it names (sorted)."""
    fs, path = _filesystem(url)
    try:
        if fs.isdir(path):
            found = sorted(fs.find(path))
            if not found:
                raise InputError(url, "no objects under this prefix")
            return [
                InputFile(fs.unstrip_protocol(p), fs.unstrip_protocol(p), fs.size(p)) for p in found
            ]
        if not fs.isfile(path):
            raise InputError(url, "no such object")
        return [InputFile(url, url, fs.size(path))]
    except (OSError, PermissionError) as error:
        raise InputError(url, f"cannot list: {error}") from None


def open_input(location: str) -> IO[bytes]:
    """A seekable binary reader of a local file or an object."""
    if not is_remote(location):
        return open(local_path(location), "rb")
    fs, path = _filesystem(location)
    try:
        return fs.open(path, "rb")
    except (OSError, PermissionError) as error:
        raise InputError(location, f"cannot read: {error}") from None


def head_bytes(location: str, size: int = 64 * 1024) -> bytes:
    with open_input(location) as handle:
        return handle.read(size)


def fetch(location: str, folder: Path) -> Path:
    """A local copy of an object under ``folder`` (its base name kept for format detection)."""
    if not is_remote(location):
        return Path(local_path(location))
    target = folder / (InputFile(location, location).name or "object")
    fs, path = _filesystem(location)
    try:
        fs.get_file(path, str(target))
    except (OSError, PermissionError) as error:
        raise InputError(location, f"cannot fetch: {error}") from None
    return target


def line_range(handle: IO[bytes], start: int, end: int | None) -> Iterator[tuple[int, bytes]]:
    """``(byte offset, line)`` for the lines that *begin* in ``[start, end)``.

    A line that straddles ``start`` belongs to the range before (the same rule Hadoop's
    line splits follow), so ranges that tile a file give every line exactly once.
    """
    if start > 0:
        handle.seek(start - 1)
        handle.readline()  # the rest of a line that began before this range
    position = handle.tell()
    while end is None or position < end:
        line = handle.readline()
        if not line:
            return
        yield position, line
        position += len(line)


def split_ranges(size: int, part: int) -> list[tuple[int, int | None]]:
    """Byte ranges of about ``part`` bytes covering ``size`` bytes (the last one open)."""
    if size <= part:
        return [(0, None)]
    bounds = list(range(0, size, part))
    return [(b, bounds[i + 1] if i + 1 < len(bounds) else None) for i, b in enumerate(bounds)]
