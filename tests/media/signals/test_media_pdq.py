"""PDQ: bit-exact with the reference, reduced decoding, quality flag, dihedral variants."""

from __future__ import annotations

import io

import numpy as np
import pdqhash
import pytest
from imagegen import camera_photo, encoded, flat_picture, photo, picture
from PIL import Image, ImageOps

from cosea.media.images import decode_image
from cosea.media.signals import get_signal
from cosea.media.signals.pdq import (
    dihedral_hashes,
    hamming,
    pdq_from_decoded,
    pdq_from_pixels,
)


def reference(image: Image.Image) -> tuple[str, int]:
    """The pdqhash package on the full picture: the definition cosea must reproduce."""
    bits, quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return np.packbits(bits).tobytes().hex(), quality


@pytest.mark.parametrize("seed", range(12))
def test_numpy_pdq_equals_reference_on_generated_pictures(seed):
    image = picture(seed, (200 + 17 * seed, 150 + 11 * seed))
    ours = pdq_from_pixels(np.asarray(image))
    assert (ours.hash, ours.quality) == reference(image)


def test_numpy_pdq_equals_reference_on_photos():
    for name in ("astronaut", "coffee", "camera"):
        image = photo(name)
        ours = pdq_from_pixels(np.asarray(image))
        expected, quality = reference(image)
        assert hamming(ours.hash, expected) == 0
        assert ours.quality == quality


def test_known_hash_of_a_deterministic_picture():
    # Pure numpy (no drawing library), so this golden value is stable across versions.
    ys, xs = np.mgrid[0:240, 0:320]
    pixels = (128 + 60 * np.sin(xs / 17.0) + 50 * np.cos(ys / 23.0 + xs / 41.0)).astype(np.uint8)
    image = np.stack([pixels, pixels[::-1], pixels[:, ::-1]], axis=-1)
    ours = pdq_from_pixels(image)
    expected, quality = reference(Image.fromarray(image))
    assert ours.hash == expected
    assert ours.quality == quality
    assert len(ours.hash) == 64


def test_reduced_jpeg_decoding_drift_is_small():
    data = encoded(camera_photo((1600, 1200)), "JPEG", quality=90)
    decoded = decode_image(data)
    assert decoded.scale == 4 and decoded.full_size == (1600, 1200)
    assert min(decoded.size) >= 256
    full = reference(Image.open(io.BytesIO(data)))[0]
    assert hamming(pdq_from_decoded(decoded).hash, full) <= 8
    exact = decode_image(data, min_side=None)
    assert exact.scale == 1
    assert hamming(pdq_from_decoded(exact).hash, full) == 0


def test_reduced_png_decoding_drift_is_small():
    image = camera_photo((1200, 900), "coffee")
    decoded = decode_image(encoded(image, "PNG"))
    assert decoded.scale == 3
    assert hamming(pdq_from_decoded(decoded).hash, reference(image)[0]) <= 8


def test_low_quality_flag_on_flat_picture():
    from cosea.media.hashing import hash_bytes

    hashes = hash_bytes(encoded(flat_picture(), "PNG"), name="flat.png")
    assert hashes.pdq is not None
    assert hashes.pdq_quality < 50
    assert hashes.pdq_low_quality
    good = hash_bytes(encoded(picture(3), "PNG"), name="good.png")
    assert good.pdq_quality >= 50 and not good.pdq_low_quality


def test_pdq_signal_type():
    signal = get_signal("pdq")
    assert signal.applies_to == "image" and signal.default_threshold == 31 and not signal.exact
    data = encoded(picture(1), "PNG")
    value = signal.hash_bytes(data)
    assert signal.validate(value.upper()) == value
    assert signal.distance(value, value) == 0
    flipped = format(int(value, 16) ^ 0b1011, "064x")
    assert signal.distance(value, flipped) == 3
    for bad in ("", "0" * 63, "z" * 64, "0" * 65):
        with pytest.raises(ValueError, match="PDQ"):
            signal.validate(bad)


def test_pdq_hash_file(tmp_path):
    path = tmp_path / "p.png"
    picture(2).save(path)
    assert get_signal("pdq").hash_file(path) == reference(picture(2))[0]


def test_dihedral_variants_equal_hashes_of_transformed_pictures():
    from cosea.media.images import DecodedImage

    image = picture(7, (256, 192))
    pixels = np.asarray(image)
    variants = dihedral_hashes(DecodedImage(pixels, image.size, 1, "PNG"))
    transformed = {
        "original": image,
        "mirror": ImageOps.mirror(image),
        "flip": ImageOps.flip(image),
        "rotate90": image.rotate(90, expand=True),
        "rotate180": image.rotate(180),
        "rotate270": image.rotate(270, expand=True),
        "transpose": image.transpose(Image.Transpose.TRANSPOSE),
        "transverse": image.transpose(Image.Transpose.TRANSVERSE),
    }
    assert set(variants) == set(transformed)
    for name, variant in transformed.items():
        assert hamming(variants[name], pdq_from_pixels(np.asarray(variant)).hash) <= 2, name
    assert hamming(variants["original"], variants["mirror"]) > 60
