"""Exact digests: MD5, SHA-1 and SHA-256, all three from one read of the content.

Hash lists from hotlines and law enforcement (VICS, CAID, NSRL) are keyed by MD5
and SHA-1 as often as by SHA-256, so each file is digested with all three while
its bytes pass once through memory.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, ClassVar

from cosea.media.signals.base import SignalType, register_signal

CHUNK = 1 << 20  # 1 MiB: large enough that hashlib releases the GIL and runs at full speed
CRYPTO_ALGORITHMS = ("md5", "sha1", "sha256")
_HEX_LENGTH = {"md5": 32, "sha1": 40, "sha256": 64}


def crypto_hashes(
    source: str | Path | BinaryIO | bytes | memoryview,
    chunk: int = CHUNK,
    algorithms: Iterable[str] = CRYPTO_ALGORITHMS,
) -> dict[str, str]:
    """Hex digests of ``source`` (a path, an open binary file, or bytes) in one pass."""
    digests, _size = digest_source(source, algorithms, chunk)
    return digests


def digest_source(
    source: str | Path | BinaryIO | bytes | memoryview | tuple[bytes, ...],
    algorithms: Iterable[str] = CRYPTO_ALGORITHMS,
    chunk: int = CHUNK,
) -> tuple[dict[str, str], int]:
    """Digests and the number of bytes read (``source`` may be a tuple of buffers)."""
    hashers = [hashlib.new(name) for name in algorithms]
    size = 0
    if isinstance(source, bytes | bytearray | memoryview):
        source = (source,)
    if isinstance(source, tuple | list):  # buffers already in memory, in order
        for buffer in source:
            view = memoryview(buffer)
            size += len(view)
            for start in range(0, len(view), chunk):
                piece = view[start : start + chunk]
                for hasher in hashers:
                    hasher.update(piece)
    elif isinstance(source, str | Path):
        with open(source, "rb", buffering=0) as handle:
            size = _digest_stream(handle, hashers, chunk)
    else:
        size = _digest_stream(source, hashers, chunk)
    return {h.name: h.hexdigest() for h in hashers}, size


def _digest_stream(stream: BinaryIO, hashers: list, chunk: int) -> int:
    size = 0
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            count = readinto(buffer)
            if not count:
                break
            piece = view[:count]
        else:
            data = stream.read(chunk)
            if not data:
                break
            piece = memoryview(data)
            count = len(data)
        for hasher in hashers:
            hasher.update(piece)
        size += count
    return size


class CryptoSignal(SignalType):
    applies_to: ClassVar[str] = "any"
    default_threshold: ClassVar[int] = 0
    exact: ClassVar[bool] = True

    def __init__(self, name: str) -> None:
        self.name = name  # type: ignore[misc]
        self._pattern = re.compile(rf"^[0-9a-f]{{{_HEX_LENGTH[name]}}}$")

    def hash_file(self, path: str | Path) -> str:
        return crypto_hashes(path, algorithms=(self.name,))[self.name]

    def hash_bytes(self, data: bytes) -> str:
        return hashlib.new(self.name, data).hexdigest()

    def validate(self, hash_str: str) -> str:
        text = str(hash_str).strip().lower()
        if not self._pattern.match(text):
            raise ValueError(
                f"not a {self.name.upper()} hash: expected {_HEX_LENGTH[self.name]} hex digits,"
                f" got {hash_str!r:.80}"
            )
        return text


MD5 = register_signal(CryptoSignal("md5"))
SHA1 = register_signal(CryptoSignal("sha1"))
SHA256 = register_signal(CryptoSignal("sha256"))
