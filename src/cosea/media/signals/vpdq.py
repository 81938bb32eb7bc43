"""vPDQ: PDQ for video, one hash per sampled frame.

Frames are decoded by Debian's ``ffmpeg`` program (the ``vpdq`` Python package
cannot build here), sampled at one frame per ``seconds_per_hash`` and streamed
through a pipe as PPM images, so nothing is written to disk. Each frame gets a
PDQ hash with its quality and timestamp; consecutive near-identical frames (a
still scene) are kept once.

The serialised form is python-threatexchange's: a JSON list of
``"<pdq hex>,<quality>,<seconds>"`` strings. Two videos match when at least
``query_match_percent`` of the query's good frames have a frame of the other
within ``frame_threshold`` bits (and, optionally, ``compared_match_percent`` the
other way round), as in Meta's vPDQ matcher.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from cosea.errors import InputError
from cosea.media.images import DecodedImage, ImageDecodeError
from cosea.media.signals.base import SignalType, register_signal
from cosea.media.signals.pdq import PDQ_QUALITY_THRESHOLD, PDQ_THRESHOLD, hamming, pdq_from_decoded

FRAME_MIN_SIDE = 256  # frames are box-reduced by ffmpeg to about this short side
QUERY_MATCH_PERCENT = 80.0
COMPARED_MATCH_PERCENT = 0.0
DEDUPE_DISTANCE = 2  # consecutive frames this close are one scene


class VideoUnavailable(InputError):
    """Video hashing is impossible here (no ffmpeg) or the file is not a readable video."""


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    pdq: str
    quality: int
    timestamp: float

    def __str__(self) -> str:
        return f"{self.pdq},{self.quality},{self.timestamp:.3f}"

    @classmethod
    def parse(cls, text: str) -> VideoFrameHash:
        parts = str(text).split(",")
        if len(parts) != 3:
            raise ValueError(f"vPDQ frame must be 'hash,quality,seconds', got {text!r:.80}")
        pdq, quality, seconds = parts
        pdq = pdq.strip().lower()
        if len(pdq) != 64 or any(c not in "0123456789abcdef" for c in pdq):
            raise ValueError(f"vPDQ frame has a malformed PDQ hash: {pdq!r:.80}")
        value = int(quality)
        if not 0 <= value <= 100:
            raise ValueError(f"vPDQ frame quality {value} outside 0..100")
        stamp = float(seconds)
        if stamp < 0:
            raise ValueError(f"vPDQ frame timestamp {stamp} is negative")
        return cls(pdq, value, stamp)


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def frames_to_json(frames: list[VideoFrameHash]) -> str:
    return json.dumps([str(f) for f in frames], separators=(",", ":"))


def frames_from_json(text: str) -> list[VideoFrameHash]:
    try:
        items = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"vPDQ hash is not a JSON list: {exc}") from None
    if not isinstance(items, list):
        raise ValueError("vPDQ hash must be a JSON list of 'hash,quality,seconds' strings")
    return [VideoFrameHash.parse(item) for item in items]


def vpdq_hash_file(
    path: str | Path,
    *,
    seconds_per_hash: float = 1.0,
    dedupe_distance: int = DEDUPE_DISTANCE,
    max_frames: int = 36_000,
    timeout: float | None = None,
) -> list[VideoFrameHash]:
    """Frame hashes of a video file. Raises :class:`VideoUnavailable` naming the reason."""
    ffmpeg = ffmpeg_path()
    if ffmpeg is None:
        raise VideoUnavailable(
            path, "video hashing needs the ffmpeg program, which is not installed"
        )
    fps = 1.0 / seconds_per_hash
    # Box-average frames down by an integer factor so PDQ's filter can be reproduced.
    reduce = f"max(1\\,trunc(min(iw\\,ih)/{FRAME_MIN_SIDE}))"
    scale = f"scale=trunc(iw/{reduce}):trunc(ih/{reduce}):flags=area"
    command = [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path),
        "-map", "0:v:0", "-vf", f"fps={fps},{scale}", "-frames:v", str(max_frames),
        "-c:v", "ppm", "-f", "image2pipe", "pipe:1",
    ]  # fmt: skip
    frames: list[VideoFrameHash] = []
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise VideoUnavailable(path, f"could not start ffmpeg: {exc}") from None
    assert process.stdout is not None
    try:
        index = 0
        previous: str | None = None
        while True:
            pixels = _read_ppm(process.stdout)
            if pixels is None:
                break
            frame = pdq_from_decoded(_frame_image(pixels))
            if previous is None or hamming(previous, frame.hash) > dedupe_distance:
                frames.append(VideoFrameHash(frame.hash, frame.quality, index / fps))
                previous = frame.hash
            index += 1
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise VideoUnavailable(path, f"ffmpeg did not finish within {timeout} s") from None
    except ImageDecodeError as exc:
        process.kill()
        process.communicate()
        raise VideoUnavailable(path, f"unreadable frame from ffmpeg: {exc.problem}") from None
    if process.returncode != 0 and not frames:
        message = stderr.decode("utf-8", "replace").strip().splitlines()
        reason = message[-1] if message else f"ffmpeg exited with status {process.returncode}"
        raise VideoUnavailable(path, f"not a readable video ({reason})")
    if not frames:
        raise VideoUnavailable(path, "no video frames could be decoded")
    return frames


def _frame_image(pixels: np.ndarray) -> DecodedImage:
    # The reduction factor is not recoverable from the PPM; treating the reduced frame
    # as the full one costs only the few bits measured for images at this size.
    return DecodedImage(pixels, (pixels.shape[1], pixels.shape[0]), 1, "ppm")


def _read_ppm(stream) -> np.ndarray | None:
    """One binary PPM (P6) frame from ffmpeg's image2pipe, or None at the end."""
    fields: list[bytes] = []
    token = b""
    while len(fields) < 4:
        char = stream.read(1)
        if not char:
            if fields or token:
                raise ImageDecodeError("ffmpeg", "video frame stream ended inside a header")
            return None
        if char == b"#":  # comment to end of line
            while char not in (b"\n", b""):
                char = stream.read(1)
            continue
        if char.isspace():
            if token:
                fields.append(token)
                token = b""
            continue
        token += char
    magic, width, height, maxval = fields
    if magic != b"P6" or int(maxval) != 255:
        raise ImageDecodeError("ffmpeg", f"unexpected frame format {magic!r}/{maxval!r}")
    count = int(width) * int(height) * 3
    data = stream.read(count)
    if len(data) != count:
        raise ImageDecodeError("ffmpeg", "video frame stream ended inside a frame")
    return np.frombuffer(data, dtype=np.uint8).reshape(int(height), int(width), 3)


def video_match_percent(
    query: list[VideoFrameHash],
    compared: list[VideoFrameHash],
    *,
    frame_threshold: int = PDQ_THRESHOLD,
    quality_threshold: int = PDQ_QUALITY_THRESHOLD,
) -> tuple[float, float]:
    """(% of the query's good frames found in ``compared``, % of ``compared``'s found in query)."""
    from cosea.media.signals.pdq import hashes_to_array

    good_query = _unique_good(query, quality_threshold)
    good_compared = _unique_good(compared, quality_threshold)
    if not good_query or not good_compared:
        return 0.0, 0.0
    a = np.unpackbits(hashes_to_array(good_query), axis=1)
    b = np.unpackbits(hashes_to_array(good_compared), axis=1)
    distances = (a[:, None, :] != b[None, :, :]).sum(axis=2)
    close = distances <= frame_threshold
    return (
        100.0 * float(close.any(axis=1).mean()),
        100.0 * float(close.any(axis=0).mean()),
    )


def _unique_good(frames: list[VideoFrameHash], quality_threshold: int) -> list[str]:
    seen: dict[str, None] = {}
    for frame in frames:
        if frame.quality >= quality_threshold:
            seen.setdefault(frame.pdq, None)
    return list(seen)


class VpdqSignal(SignalType):
    """Video frames hashed with PDQ.

    ``distance`` is the percentage of the first video's good frames *not* found in
    the second (0 = every frame found), so ``default_threshold`` 20 means "at
    least 80 % of the frames match", Meta's default.
    """

    name: ClassVar[str] = "vpdq"
    applies_to: ClassVar[str] = "video"
    default_threshold: ClassVar[int] = round(100 - QUERY_MATCH_PERCENT)
    exact: ClassVar[bool] = False
    frame_threshold: ClassVar[int] = PDQ_THRESHOLD

    def hash_file(self, path: str | Path) -> str:
        return frames_to_json(vpdq_hash_file(path))

    def hash_bytes(self, data: bytes) -> str:
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".video") as handle:
            handle.write(data)
            handle.flush()
            return self.hash_file(handle.name)

    def validate(self, hash_str: str) -> str:
        frames = frames_from_json(hash_str)
        if not frames:
            raise ValueError("vPDQ hash has no frames")
        return frames_to_json(frames)

    def distance(self, a: str, b: str) -> int:
        query_pct, compared_pct = video_match_percent(frames_from_json(a), frames_from_json(b))
        if compared_pct < COMPARED_MATCH_PERCENT:
            return 100
        return round(100.0 - query_pct)


VPDQ = register_signal(VpdqSignal())
