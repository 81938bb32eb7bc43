"""Image decoding for hashing: small, safe and oriented as a person would see it.

Decoding is most of the cost of a perceptual hash. PDQ looks only at a 64×64
low-pass view of the picture, so JPEGs are decoded at a reduced scale by the
decoder itself (``Image.draft``: libjpeg's DCT scaling, 1/2, 1/4 or 1/8) and other
formats are box-reduced, keeping at least ``REDUCED_MIN_SIDE`` pixels on the
short side. ``cosea.media.signals.pdq`` then reproduces, on the reduced picture,
the exact filter PDQ would have run on the full one; the benchmark
``benchmarks/media_speed.py`` measures the drift against full decoding.

Every failure (not an image, truncated, corrupt, larger than the pixel limit) is
an :class:`ImageDecodeError` naming the file, never a hang or a crash.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from cosea.errors import InputError

# Smallest short side kept by reduced decoding. Measured on camera-sized JPEGs
# (benchmarks/media_speed.py): 256 keeps PDQ within a few bits of full decoding,
# 128 lets single hashes drift by up to 14 bits.
REDUCED_MIN_SIDE = 256

# Pictures above this many pixels are refused (decompression-bomb guard). Pillow's own
# default (about 89 million, a 9500×9500 picture) unless COSEA_MAX_IMAGE_PIXELS says otherwise.
DEFAULT_MAX_PIXELS = int(os.environ.get("COSEA_MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS or 0))

# EXIF orientation tag value -> the transpose that shows the picture upright.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_heif_checked = False
HEIF_AVAILABLE = False


class ImageDecodeError(InputError):
    """A picture could not be decoded; names the file and the reason."""


@dataclass(slots=True)
class DecodedImage:
    """A picture ready for hashing.

    ``pixels`` is uint8, H×W×3 (RGB) or H×W (greyscale), upright, possibly reduced;
    ``full_size`` is the upright (width, height) of the full picture and ``scale``
    the reduction factor (1 when decoded in full).
    """

    pixels: np.ndarray
    full_size: tuple[int, int]
    scale: int
    format: str | None
    frames: int = 1
    orientation: int = 1

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]

    def to_pil(self) -> Image.Image:
        return Image.fromarray(self.pixels)


def enable_heif() -> bool:
    """Register pillow-heif's HEIC/HEIF opener once, when the package is installed."""
    global _heif_checked, HEIF_AVAILABLE
    if not _heif_checked:
        _heif_checked = True
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            HEIF_AVAILABLE = True
        except ImportError:
            HEIF_AVAILABLE = False
    return HEIF_AVAILABLE


def decode_image(
    source: str | Path | bytes | BinaryIO,
    *,
    name: str | None = None,
    min_side: int | None = REDUCED_MIN_SIDE,
    max_pixels: int | None = None,
) -> DecodedImage:
    """Decode the first frame of a picture, upright, reduced to at least ``min_side``.

    ``min_side=None`` decodes in full. ``name`` is what errors call the source
    (defaults to the path). Raises :class:`ImageDecodeError`.
    """
    enable_heif()
    label = name or (str(source) if isinstance(source, str | Path) else "<image bytes>")
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its limit and twice it; a warning here is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                return _decode_opened(image, label, min_side, limit)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(label, f"refused as a possible decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise ImageDecodeError(label, "not a picture format that can be decoded") from None
    except FileNotFoundError:
        raise ImageDecodeError(label, "file not found") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        # Pillow signals truncated and corrupt data with any of these.
        problem = str(exc) or type(exc).__name__
        raise ImageDecodeError(label, f"truncated or corrupt picture ({problem})") from None
    except MemoryError:
        raise ImageDecodeError(label, "picture too large to decode in memory") from None


def _decode_opened(
    image: Image.Image, label: str, min_side: int | None, limit: int
) -> DecodedImage:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageDecodeError(label, f"picture has no pixels ({width}×{height})")
    if limit and width * height > limit:
        raise ImageDecodeError(
            label,
            f"refused as a possible decompression bomb: {width}×{height} = "
            f"{width * height:,} pixels, limit {limit:,} (COSEA_MAX_IMAGE_PIXELS)",
        )
    frames = int(getattr(image, "n_frames", 1) or 1)
    if frames > 1:
        image.seek(0)
    orientation = _orientation(image)
    fmt = image.format

    scale = 1
    if min_side and fmt == "JPEG" and min(width, height) >= 2 * min_side:
        # libjpeg scales in the DCT domain: cheap, and close to a box average of s×s pixels.
        image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", (min_side, min_side))
        reduced_w, reduced_h = image.size
        scale = _exact_scale(width, height, reduced_w, reduced_h)
    mode = "L" if image.mode in ("L", "1", "I;16", "I", "F", "LA") else "RGB"
    if image.mode in ("I;16", "I", "F"):
        # Integer/float greyscale: scale into 0..255 before narrowing, as a viewer would.
        array = np.asarray(image, dtype=np.float64)
        top = float(array.max()) or 1.0
        picture = Image.fromarray((array * (255.0 / top)).astype(np.uint8), "L")
    else:
        picture = image.convert(mode)
    if min_side and scale == 1 and min(width, height) >= 2 * min_side:
        scale = min(width, height) // min_side
        picture = picture.reduce(scale)
    if orientation in _ORIENTATION:
        picture = picture.transpose(_ORIENTATION[orientation])
        if orientation >= 5:
            width, height = height, width
    pixels = np.asarray(picture)
    if pixels.dtype != np.uint8:
        pixels = pixels.astype(np.uint8)
    return DecodedImage(
        pixels=pixels,
        full_size=(width, height),
        scale=scale,
        format=fmt,
        frames=frames,
        orientation=orientation,
    )


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
        return int(value) if int(value) in range(1, 9) else 1
    except (AttributeError, OSError, SyntaxError, TypeError, ValueError):
        return 1  # unreadable EXIF: show the picture as stored


def _exact_scale(width: int, height: int, reduced_w: int, reduced_h: int) -> int:
    for scale in (1, 2, 4, 8):
        if -(-width // scale) == reduced_w and -(-height // scale) == reduced_h:
            return scale
    return max(1, round(width / reduced_w))


# First bytes of the formats worth a decode attempt. Anything else is hashed with the
# exact digests only (documents, archives, executables...).
_IMAGE_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",  # BMP
    b"II*\x00",  # TIFF little-endian
    b"MM\x00*",  # TIFF big-endian
    b"\x00\x00\x01\x00",  # ICO
)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ",
    b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"dash", b"MSNV", b"f4v ",
}  # fmt: skip


def sniff_kind(head: bytes) -> str | None:
    """Content kind ("image", "video" or None) from a file's first 32 bytes."""
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image"
        if brand in _VIDEO_BRANDS or brand.startswith(b"3g"):
            return "video"
        return None
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return "video"
    if head.startswith(b"FLV") or head.startswith(b"\x00\x00\x01\xba"):  # FLV, MPEG-PS
        return "video"
    return None


ImageFile.LOAD_TRUNCATED_IMAGES = False  # truncated pictures are errors, never silently grey
