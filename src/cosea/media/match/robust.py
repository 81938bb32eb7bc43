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
  centre crops as well; :func:`variant_entries` turns them into list entries, the
  variants marked by ``notes`` of the form ``variant:<name> of <original PDQ>``.
  The matcher uses those entries only in robust mode and reports a match against
  the original hash, once per listed picture, naming the variant that met it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image

from cosea.media.images import DecodedImage
from cosea.media.signals.pdq import dihedral_hashes, one_blas_thread, pdq_from_pixels

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


@one_blas_thread
def query_variants(image: DecodedImage, crops: Iterable[float] = QUERY_CROPS) -> dict[str, str]:
    """Hashes of the checked picture's variants (the original hash excluded)."""
    variants = dihedral_hashes(image)
    variants.pop("original")
    for keep in crops:
        variants[f"crop{round(keep * 100)}"] = pdq_from_pixels(centre_crop(image.pixels, keep)).hash
    return variants


@one_blas_thread
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


def variant_note(name: str, original: str) -> str:
    return f"{VARIANT_NOTE_PREFIX}{name} of {original}"


def variant_of(notes: str | None) -> tuple[str, str | None] | None:
    """(variant name, original PDQ hash or None) an entry's notes declare; None if plain."""
    if not notes or not notes.startswith(VARIANT_NOTE_PREFIX):
        return None
    name, _, original = notes[len(VARIANT_NOTE_PREFIX) :].strip().partition(" of ")
    original = original.strip().lower()
    valid = len(original) == 64 and all(c in "0123456789abcdef" for c in original)
    return (name.strip() or "variant", original if valid else None)


def variant_entries(
    image: DecodedImage | Image.Image | np.ndarray,
    category: str | None = None,
    source: str | None = None,
    **hashing: Any,
) -> list[dict[str, Any]]:
    """List entries for one picture: its PDQ hash plus the marked index-side variants.

    Ready for ``ListStore.add_entries(name, entries)``; variants sharing a hash with
    an earlier one are left out (the store keeps one row per hash).
    """
    hashes = variant_hashes(image, **hashing)
    original = hashes.pop("original")
    seen = {original}
    entries = [{"signal": "pdq", "hash": original, "category": category, "source": source}]
    for name, value in hashes.items():
        if value in seen:
            continue
        seen.add(value)
        entries.append(
            {
                "signal": "pdq",
                "hash": value,
                "category": category,
                "source": source,
                "notes": variant_note(name, original),
            }
        )
    return entries
