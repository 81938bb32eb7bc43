"""Reading one file of a case back from the evidence, by its logical path.

``/evidence/a.zip!/dir/b.tar.gz!/c.jpg`` is opened layer by layer in memory, the same
way the scan read it (same neutral member names, same limits). The bytes are checked
against the SHA-256 the case recorded, so a report never shows content that is not
what was scanned.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import IO

from cosea.errors import InputError
from cosea.triage import filetypes
from cosea.triage.archives import Budget, Limits, iter_archive, neutral_name

SEPARATOR = "!/"


def _read_bounded(stream: IO[bytes], limit: int, label: str) -> bytes:
    parts = []
    total = 0
    while chunk := stream.read(1 << 20):
        total += len(chunk)
        if total > limit:
            raise InputError(label, f"larger than {limit} bytes; not read into memory")
        parts.append(chunk)
    return b"".join(parts)


def read_logical(
    logical_path: str, expected_sha256: str | None = None, limits: Limits | None = None
) -> bytes:
    limits = limits or Limits()
    layers = logical_path.split(SEPARATOR)
    disk = Path(layers[0])
    try:
        with disk.open("rb") as handle:
            if len(layers) == 1:
                data = _read_bounded(handle, limits.max_buffer, logical_path)
                return _checked(data, expected_sha256, logical_path)
            head = handle.read(filetypes.HEAD_BYTES)
    except OSError as error:
        raise InputError(
            layers[0], f"cannot read the evidence: {error.strerror or error}"
        ) from None
    source: Path | IO[bytes] = disk
    name = disk.name
    container = layers[0]
    for position, wanted in enumerate(layers[1:], start=1):
        kind = filetypes.archive_kind(filetypes.detect(head, name), name)
        if kind is None:
            raise InputError(container, "is no longer an archive cosea can open")
        found = None
        seen: dict[str, int] = {}
        for entry in iter_archive(kind, source, Budget(limits), container, name):
            safe, _ = neutral_name(entry.raw_name)
            count = seen.get(safe, 0) + 1
            seen[safe] = count
            if count > 1 and entry.kind == "file":
                safe = f"{safe}~{count}"
            if safe == wanted and entry.kind == "file" and entry.stream is not None:
                found = _read_bounded(entry.stream, limits.max_buffer, logical_path)
                break
        if found is None:
            raise InputError(container, f"holds no member {wanted!r} any more")
        if position == len(layers) - 1:
            return _checked(found, expected_sha256, logical_path)
        source = io.BytesIO(found)
        head = found[: filetypes.HEAD_BYTES]
        name = wanted.rsplit("/", 1)[-1]
        container = container + SEPARATOR + wanted
    raise InputError(logical_path, "empty logical path")


def _checked(data: bytes, expected: str | None, label: str) -> bytes:
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise InputError(label, "content differs from what the scan recorded (SHA-256 mismatch)")
    return data
