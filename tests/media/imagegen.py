"""Benign test pictures: generated abstract compositions and scikit-image sample photos.

Shared by the media tests (and usable by other capabilities' tests). Nothing here
is, or resembles, real material.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from cosea.media.demo import benign_picture


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    return benign_picture(seed, size)


def photo(name: str = "astronaut") -> Image.Image:
    """A scikit-image sample photograph (bundled with the package, no download)."""
    import skimage.data

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = getattr(skimage.data, name)()
    if isinstance(data, tuple):
        data = data[0]
    data = np.asarray(data)
    if data.ndim == 2:
        data = np.stack([data] * 3, axis=-1)
    return Image.fromarray(data[..., :3].astype(np.uint8))


def camera_photo(size: tuple[int, int] = (1600, 1200), name: str = "astronaut") -> Image.Image:
    """A camera-sized picture: a sample photo upscaled, with sensor-like grain."""
    big = np.asarray(photo(name).resize(size, Image.Resampling.BICUBIC), dtype=np.float32)
    big += np.random.default_rng(5).normal(0.0, 4.0, big.shape)
    return Image.fromarray(np.clip(big, 0, 255).astype(np.uint8))


def encoded(image: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def flat_picture(size: tuple[int, int] = (200, 150), value: int = 128) -> Image.Image:
    """A nearly uniform picture: PDQ quality far below 50."""
    return Image.new("RGB", size, (value, value, value))


def png_claiming_size(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None


def make_video(
    path: Path, frames: list[Image.Image], fps: float = 2.0, codec: str = "libx264"
) -> Path:
    """Encode frames with ffmpeg (each frame held 1/fps seconds)."""
    size = frames[0].size
    command = [
        "ffmpeg", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "pipe:0",
        "-c:v", codec, "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip
    raw = b"".join(np.asarray(f.convert("RGB").resize(size)).tobytes() for f in frames)
    subprocess.run(command, input=raw, check=True)
    return path
