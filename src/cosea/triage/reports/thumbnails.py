"""Blurred, greyscale thumbnails: the only form in which a report ever shows a picture.

Made on the examiner's machine with Pillow: decoded (with the media capability's
decompression-bomb guard), turned grey, shrunk, and blurred strongly. A second,
less blurred (still grey) version is what a reviewer sees after choosing to click;
nothing in colour or at full detail is ever written into a report.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageFilter

BLURRED_SIDE = 128
BLURRED_RADIUS = 10.0
REVEALED_SIDE = 256
REVEALED_RADIUS = 2.5


@dataclass(slots=True)
class Thumbnail:
    file_id: int
    path: str
    blurred: str  # data: URI
    revealed: str  # data: URI


def _decode(data: bytes, name: str) -> Image.Image:
    try:
        from cosea.media.images import decode_image

        return decode_image(data, name=name, min_side=REVEALED_SIDE).to_pil()
    except ImportError:
        image = Image.open(io.BytesIO(data))
        image.draft("L", (REVEALED_SIDE, REVEALED_SIDE))
        return image.convert("RGB")


def _data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=70, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def blurred_pair(data: bytes, name: str = "image") -> tuple[Image.Image, Image.Image]:
    """(strongly blurred, lightly blurred) greyscale versions of a picture."""
    grey = _decode(data, name).convert("L")
    revealed = grey.copy()
    revealed.thumbnail((REVEALED_SIDE, REVEALED_SIDE))
    revealed = revealed.filter(ImageFilter.GaussianBlur(REVEALED_RADIUS))
    blurred = grey.copy()
    blurred.thumbnail((BLURRED_SIDE, BLURRED_SIDE))
    blurred = blurred.filter(ImageFilter.GaussianBlur(BLURRED_RADIUS))
    return blurred, revealed


def make_thumbnail(file_id: int, path: str, data: bytes) -> Thumbnail:
    blurred, revealed = blurred_pair(data, path)
    return Thumbnail(file_id, path, _data_uri(blurred), _data_uri(revealed))


def collect_thumbnails(case: Any, limit: int = 200) -> tuple[list[Thumbnail], list[dict[str, Any]]]:
    """Thumbnails for review: one per cluster, then images in no cluster; never known files.

    Returns the thumbnails and the problems met (file, reason) — a picture that can no
    longer be read or differs from what was scanned gets no thumbnail.
    """
    from cosea.errors import CoseaError
    from cosea.triage.evidence import read_logical

    rows = list(
        case.conn.execute(
            "SELECT f.id, f.path, f.sha256 FROM files f JOIN clusters c ON c.representative = f.id "
            "ORDER BY c.id"
        )
    ) + list(
        case.conn.execute(
            "SELECT id, path, sha256 FROM files WHERE type_group = 'image' AND known = 0 "
            "AND cluster_id IS NULL AND status = 'ok' AND pdq IS NOT NULL ORDER BY id"
        )
    )
    thumbnails: list[Thumbnail] = []
    problems: list[dict[str, Any]] = []
    for file_id, path, sha256 in rows[:limit]:
        try:
            data = read_logical(path, expected_sha256=sha256)
            thumbnails.append(make_thumbnail(file_id, path, data))
        except (CoseaError, OSError, ValueError) as error:
            problems.append({"file_id": file_id, "path": path, "reason": str(error)})
    return thumbnails, problems
