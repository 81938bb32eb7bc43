"""Decoding: orientation, animation, formats, and every way a picture can be bad."""

from __future__ import annotations

import io

import numpy as np
import pytest
from imagegen import encoded, photo, picture, png_claiming_size
from PIL import Image

from cosea.media.hashing import hash_bytes, hash_file
from cosea.media.images import ImageDecodeError, decode_image, enable_heif, sniff_kind
from cosea.media.signals.pdq import hamming, pdq_from_decoded, pdq_from_pixels


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encoded(image, "JPEG", quality=95, exif=exif.tobytes())


def test_exif_orientation_is_applied():
    upright = picture(4, (320, 240))
    # Stored turned 90° anticlockwise; tag 6 tells viewers to turn it 90° clockwise.
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    decoded = decode_image(with_orientation(stored, 6))
    assert decoded.orientation == 6
    assert decoded.size == (320, 240) and decoded.full_size == (320, 240)
    expected = pdq_from_pixels(np.asarray(upright)).hash
    assert hamming(pdq_from_decoded(decoded).hash, expected) <= 10


def test_exif_orientation_with_reduced_decoding():
    upright = photo("astronaut").resize((1200, 1200))
    stored = upright.transpose(Image.Transpose.ROTATE_270)
    decoded = decode_image(with_orientation(stored, 8))
    assert decoded.scale == 4
    expected = pdq_from_pixels(np.asarray(upright)).hash
    assert hamming(pdq_from_decoded(decoded).hash, expected) <= 12


def test_animated_gif_and_webp_use_the_first_frame():
    first, second = picture(10, (160, 120)), picture(11, (160, 120))
    for fmt in ("GIF", "WEBP"):
        data = encoded(first, fmt, save_all=True, append_images=[second], duration=100, loop=0)
        decoded = decode_image(data)
        assert decoded.frames == 2
        reference = pdq_from_decoded(decode_image(encoded(first, fmt)))
        assert hamming(pdq_from_decoded(decoded).hash, reference.hash) <= 4, fmt
        other = pdq_from_pixels(np.asarray(second))
        assert hamming(pdq_from_decoded(decoded).hash, other.hash) > 60, fmt


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "CMYK", "I;16", "1"])
def test_modes_decode(mode):
    image = picture(12, (120, 90)).convert(mode) if mode != "I;16" else None
    if mode == "I;16":
        image = Image.fromarray((np.arange(120 * 90).reshape(90, 120) * 5).astype(np.uint16))
    fmt = "TIFF" if mode in ("CMYK", "I;16") else "PNG"
    hashes = hash_bytes(encoded(image, fmt), name=f"x.{fmt.lower()}")
    assert hashes.error is None, hashes.error
    assert hashes.pdq is not None and len(hashes.pdq) == 64


def test_heic_when_pillow_heif_is_installed(tmp_path):
    if not enable_heif():
        pytest.skip("pillow-heif not installed")
    import pillow_heif

    path = tmp_path / "picture.heic"
    try:
        pillow_heif.from_pillow(picture(13, (256, 192))).save(path, quality=90)
    except Exception as error:  # libheif built without an HEVC encoder
        pytest.skip(f"cannot write HEIC here: {error}")
    hashes = hash_file(path)
    assert hashes.kind == "image" and hashes.error is None
    expected = pdq_from_pixels(np.asarray(picture(13, (256, 192)))).hash
    assert hamming(hashes.pdq, expected) <= 24


def test_decompression_bomb_is_a_recorded_error_not_a_hang(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming_size(100_000, 100_000))
    hashes = hash_file(path)
    assert hashes.sha256 is not None  # the digests are kept
    assert hashes.pdq is None
    assert "bomb.png" in hashes.error and "decompression bomb" in hashes.error
    # Between Pillow's warning and error limits, and against a lower configured limit.
    with pytest.raises(ImageDecodeError, match="decompression bomb"):
        decode_image(png_claiming_size(12_000, 10_000), name="warn.png")
    small = encoded(picture(1, (200, 100)), "PNG")
    with pytest.raises(ImageDecodeError, match=r"200×100 = 20,000 pixels, limit 10,000"):
        decode_image(small, name="limited.png", max_pixels=10_000)


def test_truncated_jpeg_names_the_file(tmp_path):
    data = encoded(picture(2, (400, 300)), "JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    hashes = hash_file(path)
    assert hashes.error is not None and str(path) in hashes.error
    assert "truncated or corrupt" in hashes.error
    assert hashes.sha256 is not None and hashes.pdq is None


def test_corrupt_and_unknown_pictures():
    corrupt = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    result = hash_bytes(corrupt, name="broken.png")
    assert result.kind == "image"
    assert result.error.startswith("broken.png:")
    with pytest.raises(ImageDecodeError, match="not a picture format"):
        decode_image(b"just some text", name="notes.txt")
    with pytest.raises(ImageDecodeError, match="file not found"):
        decode_image("/nonexistent/picture.jpg")


def test_non_images_get_digests_only():
    result = hash_bytes(b"%PDF-1.4 a document", name="doc.pdf")
    assert result.kind is None and result.pdq is None and result.error is None
    assert result.sha256 and result.md5 and result.sha1


def test_sniff_kind():
    assert sniff_kind(encoded(picture(1), "PNG")[:32]) == "image"
    assert sniff_kind(encoded(picture(1), "JPEG")[:32]) == "image"
    assert sniff_kind(encoded(picture(1), "WEBP")[:32]) == "image"
    assert sniff_kind(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20) == "image"
    assert sniff_kind(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 20) == "video"
    assert sniff_kind(b"\x1a\x45\xdf\xa3" + b"\x00" * 28) == "video"
    assert sniff_kind(b"PK\x03\x04") is None


def test_reduced_decode_size_and_full_decode_option():
    data = encoded(photo("astronaut").resize((2048, 2048)), "JPEG", quality=85)
    reduced = decode_image(data)
    assert reduced.scale == 8 and reduced.size == (256, 256)
    full = decode_image(io.BytesIO(data), min_side=None)
    assert full.scale == 1 and full.size == (2048, 2048)
