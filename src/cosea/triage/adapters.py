"""The few calls triage makes into the media and conversations capabilities.

Kept in one place so the scanner does not care how they are provided: the media
capability's hashing, image decoding, lists and matcher, and the conversations
capability's readers and analyser. Where one is not importable the scan still runs
and says so in its settings (``capabilities``), so a case always records what was
and was not looked at.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

PDQ_QUALITY_FLOOR = 50  # below this a PDQ hash is kept but flagged and not matched


class CryptoHasher:
    """MD5, SHA-1 and SHA-256 over one read of the bytes."""

    __slots__ = ("_hashers", "size")

    def __init__(self, signals: Iterable[str] = ("md5", "sha1", "sha256")) -> None:
        self._hashers = [(name, hashlib.new(name)) for name in signals]
        self.size = 0

    def update(self, chunk: bytes | memoryview) -> None:
        self.size += len(chunk)
        for _, hasher in self._hashers:
            hasher.update(chunk)

    def digests(self) -> dict[str, str]:
        return {name: hasher.hexdigest() for name, hasher in self._hashers}


# --- images -----------------------------------------------------------------------------


@cache
def _media_images() -> Any | None:
    try:
        from cosea.media import hashing
    except ImportError:
        return None
    return hashing if hasattr(hashing, "hash_bytes") else None


def image_pdq(data: bytes, name: str, max_pixels: int, variants: bool = False) -> dict[str, Any]:
    """PDQ hash and quality of an image held in memory.

    Returns ``{"pdq", "pdq_quality", "pdq_low_quality"}`` (plus ``pdq_variants`` for the
    matcher's robust mode when ``variants``) or ``{"error": reason, "error_kind": kind}``
    for a corrupt image or a decompression bomb.
    """
    hashing = _media_images()
    if hashing is not None and variants:
        return _pdq_with_variants(data, name, max_pixels)
    if hashing is not None:
        try:
            result = hashing.hash_bytes(data, name=name, signals=("pdq",), max_pixels=max_pixels)
        except Exception as error:  # the media capability reports; triage records
            return {"error": f"{type(error).__name__}: {error}", "error_kind": "corrupt-image"}
        if getattr(result, "error", None):
            text = str(result.error)
            kind = "decompression-bomb" if "bomb" in text.lower() else "corrupt-image"
            return {"error": text, "error_kind": kind}
        if getattr(result, "pdq", None) is None:
            return {}
        return {
            "pdq": result.pdq,
            "pdq_quality": result.pdq_quality,
            "pdq_low_quality": bool(
                getattr(result, "pdq_low_quality", False)
                or (result.pdq_quality is not None and result.pdq_quality < PDQ_QUALITY_FLOOR)
            ),
        }
    return _pillow_pdq(data, max_pixels)


def _pdq_with_variants(data: bytes, name: str, max_pixels: int) -> dict[str, Any]:
    from cosea.media.images import ImageDecodeError, decode_image
    from cosea.media.match.robust import query_variants
    from cosea.media.signals.pdq import pdq_from_decoded

    try:
        image = decode_image(data, name=name, max_pixels=max_pixels)
    except ImageDecodeError as error:
        text = str(error)
        kind = "decompression-bomb" if "bomb" in text.lower() else "corrupt-image"
        return {"error": text, "error_kind": kind}
    pdq = pdq_from_decoded(image)
    return {
        "pdq": pdq.hash,
        "pdq_quality": pdq.quality,
        "pdq_low_quality": bool(pdq.low_quality),
        "pdq_variants": query_variants(image),
    }


def _pillow_pdq(data: bytes, max_pixels: int) -> dict[str, Any]:
    import numpy as np
    import pdqhash
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > max_pixels:
                return {
                    "error": f"decompression bomb: {width}x{height} pixels exceeds the limit "
                    f"of {max_pixels}",
                    "error_kind": "decompression-bomb",
                }
            if image.format == "JPEG":
                image.draft("RGB", (512, 512))  # reduced-size decoding, PDQ reads 512 px
            with contextlib.suppress(Exception):
                image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((512, 512))
            bits, quality = pdqhash.compute(np.asarray(image))
    except Image.DecompressionBombError as error:
        return {"error": f"decompression bomb: {error}", "error_kind": "decompression-bomb"}
    except Exception as error:  # Pillow raises many kinds on damaged input
        return {
            "error": f"cannot decode image ({type(error).__name__}: {error})",
            "error_kind": "corrupt-image",
        }
    packed = np.packbits(bits.astype(np.uint8)).tobytes()
    return {
        "pdq": packed.hex(),
        "pdq_quality": int(quality),
        "pdq_low_quality": int(quality) < PDQ_QUALITY_FLOOR,
    }


def video_vpdq(path: Path | None) -> dict[str, Any]:
    """vPDQ frame hashes of a video on disk, where the media capability and ffmpeg offer it."""
    if path is None:
        return {}
    hashing = _media_images()
    if hashing is None or not hasattr(hashing, "hash_file"):
        return {}
    try:
        result = hashing.hash_file(path, signals=("vpdq",))
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}", "error_kind": "video"}
    vpdq = getattr(result, "vpdq", None)
    return {"vpdq": vpdq} if vpdq else {}


def vpdq_available() -> bool:
    import shutil

    return _media_images() is not None and shutil.which("ffmpeg") is not None


def preload(chats: bool = True) -> None:
    """Import what analysis needs before worker processes are forked from this one.

    Each worker would otherwise import the media, EXIF, type and conversation code (and
    Pillow its format plugins) on its own first file.
    """
    import exifread  # noqa: F401
    import puremagic  # noqa: F401
    from PIL import Image

    Image.init()
    _media_images()
    with contextlib.suppress(ImportError):
        import cosea.media.signals.pdq  # noqa: F401
    if chats:
        _chats()


# --- conversations ----------------------------------------------------------------------

CHAT_EXTENSIONS = frozenset({"jsonl", "json", "txt", "xml", "csv", "ndjson"})


@cache
def _chats() -> tuple[Any, Any] | None:
    try:
        from cosea.chats import io as chat_io
    except ImportError:
        return None
    try:
        from cosea.chats import analyze_conversation
    except ImportError:
        try:
            from cosea.chats.analysis.analyzer import analyze_conversation
        except ImportError:
            return None
    return chat_io, analyze_conversation


def chats_available() -> bool:
    return _chats() is not None


def _choose_reader(chat_io: Any, head: str, name: str) -> str | None:
    """The reader for content found during a scan, or None when it is not a chat export.

    Stricter than choosing for a file a user names: every CSV or text file on a seized
    disk is a candidate, so a reader must recognise the content itself. The CSV reader
    accepts any ``.csv`` by name; here it must find the conversation columns.
    """
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    readers = [chat_io.get_reader(n) for n in chat_io.reader_names()]

    def recognises(reader: Any) -> bool:
        return bool(reader.sniff(head, Path("content") if reader.name == "csv" else Path(name)))

    for reader in readers:
        if suffix and suffix in getattr(reader, "extensions", ()) and recognises(reader):
            return reader.name
    for reader in readers:
        if recognises(reader):
            return reader.name
    return None


@contextlib.contextmanager
def media_scope() -> Any:
    """Hold the media capability's one-BLAS-thread scope for a whole scan.

    PDQ limits BLAS to one thread per call, and setting that up costs more than hashing
    a small picture; held open here it is set up once per process. One BLAS thread is
    also right for a scan that already runs a process per core.
    """
    try:
        from cosea.media.signals.pdq import _OneBlasThread
    except ImportError:
        yield
        return
    with _OneBlasThread():
        yield


def analyse_chat(data: bytes, name: str, disk_path: Path | None = None) -> dict[str, Any] | None:
    """Conversations in a chat export, analysed; None when it is not one.

    Readers take a path: a file on disk is read where it is; an archive member goes
    to an anonymous in-memory file (``memfd_create``), so nothing from the evidence is
    written to disk. Conversations a reader names after the file get the member's name.
    """
    chats = _chats()
    if chats is None:
        return None
    chat_io, analyze_conversation = chats
    head = data[:65536].decode("utf-8", errors="ignore").lstrip("\ufeff")
    reader_name = _choose_reader(chat_io, head, name)
    if reader_name is None:
        return None
    fd = None
    if disk_path is not None:
        path = disk_path
    else:
        fd = os.memfd_create("cosea-chat", 0)
        with os.fdopen(os.dup(fd), "wb") as handle:
            handle.write(data)
        path = Path(f"/proc/self/fd/{fd}")
    try:
        report = chat_io.ReadReport()
        reader = chat_io.get_reader(reader_name)
        assessments = []
        for conversation in reader.read(path, report=report):
            if fd is not None and conversation.id in {str(fd), path.name}:
                conversation.id = Path(name).stem
            assessment = analyze_conversation(conversation)
            out = assessment.to_dict()
            out["reader"] = reader_name
            out["participants"] = len(conversation.participants)
            assessments.append(out)
    finally:
        if fd is not None:
            os.close(fd)
    problems = [
        f"line {e.line}: {e.problem}" if getattr(e, "line", None) else str(e.problem)
        for e in report.errors[:20]
    ]
    return {"reader": reader_name, "assessments": assessments, "problems": problems}


# --- lists and matching -----------------------------------------------------------------


def list_store() -> Any:
    from cosea.media.lists import ListStore

    return ListStore()


def file_hashes(record: dict[str, Any]) -> Any:
    """A media ``FileHashes`` built from a triage record, for the matcher."""
    from cosea.media.hashing import FileHashes

    return FileHashes(
        path=record.get("path"),
        size=record.get("size"),
        kind="image" if record.get("type_group") == "image" else None,
        md5=record.get("md5"),
        sha1=record.get("sha1"),
        sha256=record.get("sha256"),
        pdq=record.get("pdq"),
        pdq_quality=record.get("pdq_quality"),
        pdq_low_quality=bool(record.get("pdq_low_quality")),
        pdq_variants=dict(record.get("pdq_variants") or {}),
    )
