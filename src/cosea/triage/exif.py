"""EXIF facts an investigator uses: when, with which camera, where, edited by what.

Read with exifread (pure Python, tolerant of damaged files). Only the tags below are
kept (least data): date taken, camera make/model and serial, lens, software, GPS
position as decimal degrees, orientation and pixel size.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime
from fractions import Fraction
from typing import Any

import exifread

logging.getLogger("exifread").setLevel(logging.CRITICAL)

_KEEP = {
    "Image Make": "make",
    "Image Model": "model",
    "Image Software": "software",
    "Image DateTime": "datetime",
    "Image Orientation": "orientation",
    "EXIF DateTimeOriginal": "datetime_original",
    "EXIF DateTimeDigitized": "datetime_digitized",
    "EXIF OffsetTimeOriginal": "offset_time_original",
    "EXIF BodySerialNumber": "body_serial",
    "EXIF LensModel": "lens_model",
    "EXIF ExifImageWidth": "width",
    "EXIF ExifImageLength": "height",
    "GPS GPSAltitude": "gps_altitude",
    "GPS GPSDate": "gps_date",
}


def _text(value: Any) -> str | None:
    text = str(value).strip().strip("\x00").strip()
    return text or None


def _ratio(value: Any) -> float:
    if hasattr(value, "num") and hasattr(value, "den"):
        return float(Fraction(value.num, value.den)) if value.den else 0.0
    return float(value)


def _degrees(tag: Any, reference: Any) -> float | None:
    try:
        parts = [_ratio(v) for v in tag.values]
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts:
        return None
    parts += [0.0] * (3 - len(parts))
    value = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
    if _text(reference) in {"S", "W"}:
        value = -value
    return round(value, 7)


def _taken_at(text: str | None, offset: str | None) -> str | None:
    """EXIF ``YYYY:MM:DD HH:MM:SS`` to ISO 8601 (local time unless an offset is recorded)."""
    if not text:
        return None
    try:
        moment = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if moment.year < 1900:
        return None
    iso = moment.isoformat()
    if offset and len(offset) == 6 and offset[0] in "+-":
        iso += offset
    return iso


def read_exif(data: bytes) -> dict[str, Any]:
    """The kept EXIF facts of an image, plus ``taken_at``, ``gps_lat`` and ``gps_lon``.

    Raises ValueError when the EXIF block is present but unreadable.
    """
    try:
        tags = exifread.process_file(io.BytesIO(data), details=False, extract_thumbnail=False)
    except Exception as error:  # exifread raises many kinds on damaged input
        raise ValueError(f"unreadable EXIF ({type(error).__name__}: {error})") from error
    facts: dict[str, Any] = {}
    for tag, key in _KEEP.items():
        if tag in tags:
            value = tags[tag]
            if key in {"width", "height", "orientation"}:
                try:
                    facts[key] = int(value.values[0]) if key != "orientation" else _text(value)
                except (AttributeError, IndexError, TypeError, ValueError):
                    continue
            elif key == "gps_altitude":
                try:
                    facts[key] = round(_ratio(value.values[0]), 2)
                except (AttributeError, IndexError, TypeError, ValueError, ZeroDivisionError):
                    continue
            else:
                text = _text(value)
                if text:
                    facts[key] = text
    if "GPS GPSLatitude" in tags and "GPS GPSLongitude" in tags:
        latitude = _degrees(tags["GPS GPSLatitude"], tags.get("GPS GPSLatitudeRef", "N"))
        longitude = _degrees(tags["GPS GPSLongitude"], tags.get("GPS GPSLongitudeRef", "E"))
        if (
            latitude is not None
            and longitude is not None
            and -90 <= latitude <= 90
            and -180 <= longitude <= 180
        ):
            facts["gps_lat"] = latitude
            facts["gps_lon"] = longitude
    taken = _taken_at(
        facts.get("datetime_original") or facts.get("datetime_digitized") or facts.get("datetime"),
        facts.get("offset_time_original"),
    )
    if taken:
        facts["taken_at"] = taken
    return facts
