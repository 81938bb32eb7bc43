"""Helpers for triage tests: benign generated pictures, archives built in memory, scans.

Every picture here is drawn by code (cosea.triage.demo.generated_picture); hash lists
are made from those pictures only.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image

from cosea.triage.case import Case
from cosea.triage.demo import generated_picture
from cosea.triage.scanner import ScanOptions, ScanSummary, scan

REPO = Path(__file__).resolve().parents[2]


def jpeg(
    seed: int,
    size: tuple[int, int] = (256, 192),
    quality: int = 85,
    scale: float = 1.0,
    **exif: Any,
) -> bytes:
    """A generated picture; ``scale`` resizes it (a near-duplicate of the same seed)."""
    image = generated_picture(seed, size)
    if scale != 1.0:
        image = image.resize((int(size[0] * scale), int(size[1] * scale)))
    tags = Image.Exif()
    if exif.get("model"):
        tags[ExifTags.Base.Make] = "Fictional Optics"
        tags[ExifTags.Base.Model] = exif["model"]
    if exif.get("taken"):
        tags.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = exif["taken"]
    if exif.get("gps"):
        latitude, longitude = exif["gps"]
        gps = tags.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if latitude >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = (abs(latitude), 0.0, 0.0)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if longitude >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = (abs(longitude), 0.0, 0.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=tags.tobytes())
    return buffer.getvalue()


def zip_bytes(
    members: Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, (2024, 3, 1, 12, 0, 0)), data, compression)
    return buffer.getvalue()


def tar_bytes(members: Iterable[tuple[str, bytes]], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def run_scan(
    sources: list[Path], cases: Path, case: str = "t", workers: int = 1, **options: Any
) -> ScanSummary:
    return scan(
        ScanOptions(case=case, sources=sources, cases_dir=cases, workers=workers, **options),
        console=None,
        progress=False,
    )


def case_rows(cases: Path, case: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with Case.open(case, cases) as opened:
        return [tuple(row) for row in opened.conn.execute(sql, params)]


def errors_by_kind(cases: Path, case: str = "t") -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for path, kind, reason in case_rows(cases, case, "SELECT path, kind, reason FROM errors"):
        found.setdefault(kind, []).append((path, reason))
    return found


def cosea_subprocess(
    args: list[str], home: Path, prefix: list[str] | None = None, **kwargs: Any
) -> subprocess.Popen[bytes]:
    """``cosea ARGS`` as a real process in its own session (so a test can kill it all)."""
    env = {**os.environ, "COSEA_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*(prefix or []), sys.executable, "-m", "cosea", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kwargs,
    )


# A chat written to the content rules (short, non-graphic warning-sign phrases), with
# declared ages: the risky conversation of the triage chat and report tests.
RISKY_CHAT = {
    "id": "c-risky",
    "platform": "game_chat",
    "participants": [{"id": "a", "declared_age": 12}, {"id": "b", "declared_age": 17}],
    "messages": [
        {"id": "m1", "ts": "2024-03-03T17:00:00Z", "from": "b", "text": "gg"},
        {"id": "m2", "ts": "2024-03-03T17:01:00Z", "from": "b", "text": "how old r u"},
        {"id": "m3", "ts": "2024-03-03T17:02:00Z", "from": "a", "text": "im 12"},
        {"id": "m4", "ts": "2024-03-03T17:03:00Z", "from": "b",
         "text": "you seem really mature for your age"},
        {"id": "m5", "ts": "2024-03-03T17:04:00Z", "from": "b",
         "text": "i can get you free skins if you keep this between us"},
        {"id": "m6", "ts": "2024-03-03T17:05:00Z", "from": "b", "text": "dont tell your parents"},
        {"id": "m7", "ts": "2024-03-03T17:06:00Z", "from": "b", "text": "are you alone right now"},
        {"id": "m8", "ts": "2024-03-03T17:07:00Z", "from": "b", "text": "lets move to another app"},
        {"id": "m9", "ts": "2024-03-03T17:08:00Z", "from": "b", "text": "send me a private pic"},
    ],
}  # fmt: skip
