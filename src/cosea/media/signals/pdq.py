"""PDQ, Meta's perceptual photo hash: 256 bits, compared by Hamming distance.

The hash is the reference algorithm (facebook/ThreatExchange ``pdqhashing.cpp``, as
wrapped by the ``pdqhash`` package): luma, two passes of a Jarosz box filter,
decimation to 64×64, a 16×16 DCT, one bit per coefficient above the median.

What cosea adds is speed without drift: the filter-and-decimate step is a linear
map, so it is written as two small weight matrices (64×rows, 64×columns) built
for the *full* picture size and folded onto the reduced decode (see
``cosea.media.images``). The result is the hash of the full decode within a few
bits, at a fraction of the decoding cost. The 64×64→hash step is checked against
``pdqhash`` bit for bit in the tests.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache, wraps
from pathlib import Path
from typing import ClassVar

import numpy as np

from cosea.media.images import DecodedImage, decode_image
from cosea.media.signals.base import SignalType, register_signal

PDQ_BITS = 256
PDQ_THRESHOLD = 31  # Meta's "confident match" distance
PDQ_QUALITY_THRESHOLD = 50  # below this the picture is too flat to match on reliably
_HEX = re.compile(r"^[0-9a-f]{64}$")

# Rows 1..16 of the 64-point DCT-II (row 0, the mean, carries no pattern).
_DCT16x64 = np.array(
    [
        [
            np.sqrt(2.0 / 64.0) * np.cos(np.pi / 2.0 / 64.0 * (i + 1) * (2 * j + 1))
            for j in range(64)
        ]
        for i in range(16)
    ],
    dtype=np.float32,
)
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)

DIHEDRAL_NAMES = (
    "original", "rotate90", "rotate180", "rotate270", "mirror", "flip", "transpose", "transverse",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PdqHash:
    hash: str  # 64 lowercase hex digits
    quality: int  # 0..100

    @property
    def low_quality(self) -> bool:
        return self.quality < PDQ_QUALITY_THRESHOLD


class _OneBlasThread:
    """Run the small PDQ matrix products on one BLAS thread.

    OpenBLAS splits even a 64×300×400 product across threads; on a busy machine the
    threads wait for each other and a 0.5 ms product takes 15-60 ms (measured).
    Nested and concurrent users share one limit, restored when the last one leaves.
    """

    _lock = threading.Lock()
    _depth = 0
    _limiter: object | None = None

    def __enter__(self) -> None:
        with self._lock:
            if _OneBlasThread._depth == 0:
                _OneBlasThread._limiter = _blas_limiter()
            _OneBlasThread._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            _OneBlasThread._depth -= 1
            if _OneBlasThread._depth == 0 and _OneBlasThread._limiter is not None:
                _OneBlasThread._limiter.restore_original_limits()  # type: ignore[attr-defined]
                _OneBlasThread._limiter = None


def _blas_limiter() -> object | None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, run as is
        return None
    return threadpool_limits(limits=1, user_api="blas")


def one_blas_thread(function):  # type: ignore[no-untyped-def]
    @wraps(function)
    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        with _OneBlasThread():
            return function(*args, **kwargs)

    return run


def _jarosz_decimate_weights(length: int) -> np.ndarray:
    """64×length matrix equal to PDQ's two box passes followed by decimation to 64."""
    window = (length + 2 * 64 - 1) // (2 * 64)
    half = (window + 2) // 2
    positions = np.arange(length)
    # box1DFloat: output o averages inputs lo[o]..hi[o] (truncated at the edges)
    lo = np.maximum(0, positions - (window - half))
    hi = np.minimum(length - 1, positions + half - 1)
    count = (hi - lo + 1).astype(np.float64)
    samples = (((np.arange(64) + 0.5) * length) / 64).astype(np.int64)
    weights = np.zeros((64, length))
    weights[np.arange(64), samples] = 1.0
    for _ in range(2):  # weights <- weights @ B, B the box matrix, via difference arrays
        coef = weights / count
        diff = np.zeros((length + 1, 64))
        np.add.at(diff, lo, coef.T)
        np.add.at(diff, hi + 1, -coef.T)
        weights = np.cumsum(diff, axis=0)[:length].T
    return weights


@lru_cache(maxsize=256)
def _axis_weights(full_length: int, reduced_length: int, scale: int) -> np.ndarray:
    """Weights for one axis of a picture decoded at 1/``scale`` of ``full_length``.

    Reduced pixel k stands for full pixels k*scale .. k*scale+scale-1, so its
    weight is the sum of theirs.
    """
    weights = _jarosz_decimate_weights(full_length)
    if scale > 1:
        weights = np.add.reduceat(weights, np.arange(0, full_length, scale), axis=1)
    if weights.shape[1] != reduced_length:  # decoder rounding: fall back to a resampled map
        weights = _resample_columns(weights, reduced_length)
    return np.ascontiguousarray(weights, dtype=np.float32)


def _resample_columns(weights: np.ndarray, length: int) -> np.ndarray:
    edges = np.linspace(0, weights.shape[1], length + 1).round().astype(np.int64)
    cumulative = np.concatenate([np.zeros((64, 1)), np.cumsum(weights, axis=1)], axis=1)
    return cumulative[:, edges[1:]] - cumulative[:, edges[:-1]]


def luma(pixels: np.ndarray) -> np.ndarray:
    if pixels.ndim == 2:
        return pixels.astype(np.float32)
    return pixels[..., :3].astype(np.float32) @ _LUMA


def _gray_and_weights(image: DecodedImage) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gray = luma(image.pixels)
    rows, cols = gray.shape
    full_w, full_h = image.full_size
    if image.scale == 1:
        full_w, full_h = cols, rows
    return gray, _axis_weights(full_h, rows, image.scale), _axis_weights(full_w, cols, image.scale)


def buffer64(image: DecodedImage) -> np.ndarray:
    """The 64×64 float buffer PDQ would compute from the full-size picture."""
    gray, row_weights, col_weights = _gray_and_weights(image)
    return row_weights @ gray @ col_weights.T


def dihedral_buffers(image: DecodedImage) -> dict[str, np.ndarray]:
    """64×64 buffers of the picture's eight rotations and mirror images.

    Exact: PDQ's filter is not symmetric, so flipping the buffer is not the buffer
    of the flipped picture; flipping the weight matrices is. Transposing the
    picture transposes the buffer (the filter is separable), which gives the rest.
    """
    gray, row_weights, col_weights = _gray_and_weights(image)
    both_cols = np.concatenate([col_weights, col_weights[:, ::-1]])  # (128, W)
    both_rows = np.concatenate([row_weights, row_weights[:, ::-1]])  # (128, H)
    grid = both_rows @ gray @ both_cols.T  # [rows, flipped rows] x [cols, flipped cols]
    plain, mirror = grid[:64, :64], grid[:64, 64:]
    flip, rotate180 = grid[64:, :64], grid[64:, 64:]
    return {
        "original": plain,
        "rotate90": mirror.T,
        "rotate180": rotate180,
        "rotate270": flip.T,
        "mirror": mirror,
        "flip": flip,
        "transpose": plain.T,
        "transverse": rotate180.T,
    }


def buffer64_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """The 64×64 buffer of an in-memory picture taken at its own size."""
    gray = luma(pixels)
    rows, cols = gray.shape
    return _axis_weights(rows, rows, 1) @ gray @ _axis_weights(cols, cols, 1).T


def quality_of(buffer: np.ndarray) -> int:
    """PDQ's image-domain quality: summed gradients of the 64×64 buffer, capped at 100."""
    vertical = np.trunc((buffer[:-1, :] - buffer[1:, :]) * 100.0 / 255.0)
    horizontal = np.trunc((buffer[:, :-1] - buffer[:, 1:]) * 100.0 / 255.0)
    total = int(np.abs(vertical).sum() + np.abs(horizontal).sum())
    return min(100, total // 90)


def hash_bits(buffer: np.ndarray) -> np.ndarray:
    """The 256 hash bits (uint8 0/1) in pdqhash's vector order."""
    coefficients = (_DCT16x64 @ buffer.astype(np.float32) @ _DCT16x64.T).ravel()
    return (coefficients[::-1] > np.median(coefficients)).astype(np.uint8)


def hash_from_buffer(buffer: np.ndarray) -> PdqHash:
    return PdqHash(np.packbits(hash_bits(buffer)).tobytes().hex(), quality_of(buffer))


@one_blas_thread
def pdq_from_decoded(image: DecodedImage) -> PdqHash:
    return hash_from_buffer(buffer64(image))


@one_blas_thread
def pdq_from_pixels(pixels: np.ndarray) -> PdqHash:
    """PDQ of an in-memory RGB or greyscale array (a transformed variant, a video frame)."""
    return hash_from_buffer(buffer64_from_pixels(pixels))


@one_blas_thread
def dihedral_hashes(image: DecodedImage) -> dict[str, str]:
    """The PDQ hashes of the eight rotations and mirror images of a picture."""
    return {
        name: np.packbits(hash_bits(np.ascontiguousarray(buffer))).tobytes().hex()
        for name, buffer in dihedral_buffers(image).items()
    }


def pdq_hash_file(path: str | Path) -> PdqHash:
    return pdq_from_decoded(decode_image(path))


def pdq_hash_bytes(data: bytes, name: str | None = None) -> PdqHash:
    return pdq_from_decoded(decode_image(data, name=name))


def hex_to_bytes(hash_str: str) -> bytes:
    return bytes.fromhex(hash_str)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def hashes_to_array(hashes: list[str] | tuple[str, ...]) -> np.ndarray:
    """N×32 uint8 array (FAISS's binary-vector layout) from hex strings."""
    if not hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=np.uint8).reshape(-1, 32)


def array_to_hashes(codes: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(codes, dtype=np.uint8).tobytes().hex()
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


class PdqSignal(SignalType):
    name: ClassVar[str] = "pdq"
    applies_to: ClassVar[str] = "image"
    default_threshold: ClassVar[int] = PDQ_THRESHOLD
    exact: ClassVar[bool] = False
    quality_threshold: ClassVar[int] = PDQ_QUALITY_THRESHOLD

    def hash_file(self, path: str | Path) -> str:
        return pdq_hash_file(path).hash

    def hash_bytes(self, data: bytes) -> str:
        return pdq_hash_bytes(data).hash

    def validate(self, hash_str: str) -> str:
        text = str(hash_str).strip().lower()
        if not _HEX.match(text):
            raise ValueError(f"not a PDQ hash: expected 64 hex digits, got {hash_str!r:.80}")
        return text

    def distance(self, a: str, b: str) -> int:
        return hamming(self.validate(a), self.validate(b))


PDQ = register_signal(PdqSignal())
