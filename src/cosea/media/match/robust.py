"""Robust mode: find copies that were mirrored, rotated or cropped.

PDQ compares pictures pixel-aligned, so a mirror image, a 5° rotation or a 10 %
crop of a listed picture lands 80-130 bits away: never a match. Two remedies,
both opt-in because each extra hash compared is an extra chance of a false match
(``benchmarks/media_robustness.py`` measures both effects):

* **Query side** (works with lists that hold only hashes, the usual case): the
  picture being checked is also hashed as its seven other dihedral variants
  (rotations by 90°, mirror images, computed from the same 64×64 buffer) and as
  centre crops, which finds mirrored and rotated-by-90° copies and pictures whose
  *listed* version was a crop of it.
* **Index side** (for lists built from pictures, for example a platform's own
  bank): :func:`variant_hashes` hashes each listed picture as small rotations and
  centre crops as well; the list stores them as extra ``pdq`` entries whose
  ``notes`` start with ``variant:`` (``VARIANT_NOTE_PREFIX``). The matcher uses
  those entries only in robust mode. A rotated or cropped copy then meets the
  variant that matches it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PIL import Image

from cosea.media.images import DecodedImage
from cosea.media.signals.pdq import dihedral_hashes, pdq_from_pixels

VARIANT_NOTE_PREFIX = "variant:"

# Query side: centre crops keeping this share of width and height.
QUERY_CROPS = (0.9, 0.8)
# Index side: rotations (degrees, anticlockwise; PDQ tolerates about 1°, so 1° apart)
# and centre crops.
INDEX_ROTATIONS = (-6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6)
INDEX_CROPS = (0.9, 0.8)


def _pixels(image: DecodedImage | Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(image, DecodedImage):
        return image.pixels
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB") if image.mode not in ("RGB", "L") else image)
    return np.asarray(image)


def centre_crop(pixels: np.ndarray, keep: float) -> np.ndarray:
    height, width = pixels.shape[:2]
    cut_w, cut_h = round(width * (1 - keep)), round(height * (1 - keep))
    left, top = cut_w // 2, cut_h // 2
    return pixels[top : top + height - cut_h, left : left + width - cut_w]


def rotate(pixels: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate on the same canvas (corners black), as most editors and the benchmark do."""
    picture = Image.fromarray(pixels)
    return np.asarray(picture.rotate(degrees, resample=Image.Resampling.BICUBIC))


def query_variants(image: DecodedImage, crops: Iterable[float] = QUERY_CROPS) -> dict[str, str]:
    """Hashes of the checked picture's variants (the original hash excluded)."""
    variants = dihedral_hashes(image)
    variants.pop("original")
    for keep in crops:
        variants[f"crop{round(keep * 100)}"] = pdq_from_pixels(centre_crop(image.pixels, keep)).hash
    return variants


def variant_hashes(
    image: DecodedImage | Image.Image | np.ndarray,
    rotations: Iterable[float] = INDEX_ROTATIONS,
    crops: Iterable[float] = INDEX_CROPS,
) -> dict[str, str]:
    """Index-side variants of a listed picture: {"original": ..., "rotate+5": ..., "crop90": ...}.

    For lists built from pictures: store each value as a ``pdq`` entry of the same
    list and category with ``notes=f"{VARIANT_NOTE_PREFIX}{name}"`` (the original
    as a plain entry). Mirror images need no index-side variant: the query side
    covers them.
    """
    pixels = _pixels(image)
    if isinstance(image, DecodedImage):
        from cosea.media.signals.pdq import pdq_from_decoded

        out = {"original": pdq_from_decoded(image).hash}
    else:
        out = {"original": pdq_from_pixels(pixels).hash}
    for degrees in rotations:
        out[f"rotate{degrees:+g}"] = pdq_from_pixels(rotate(pixels, degrees)).hash
    for keep in crops:
        out[f"crop{round(keep * 100)}"] = pdq_from_pixels(centre_crop(pixels, keep)).hash
    return out


def variant_of(notes: str | None) -> str | None:
    """The variant name an entry's notes declare, or None for a plain entry."""
    if notes and notes.startswith(VARIANT_NOTE_PREFIX):
        return notes[len(VARIANT_NOTE_PREFIX) :].strip() or "variant"
    return None
