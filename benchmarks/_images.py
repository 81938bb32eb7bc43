"""Benign image corpora for the media benchmarks.

Natural content comes from scikit-image's bundled sample photographs (astronaut,
coffee, chelsea the cat, rocket, motorcycle, Hubble deep field, coins, textures...),
cut into non-overlapping tiles so that two different originals never show the same
scene region; generated content comes from ``cosea.media.demo.benign_picture``.
Nothing else is ever used.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

from cosea.media.demo import benign_picture

# Sample photographs bundled with scikit-image (no download needed). motorcycle_left
# only: the right view of the stereo pair shows the same scene.
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "stereo_motorcycle",
    "hubble_deep_field",
    "retina",
    "camera",
    "moon",
    "brick",
    "grass",
    "gravel",
    "coins",
    "immunohistochemistry",
    "cell",
    "clock",
    "page",
    "text",
)


def sample_photos() -> dict[str, np.ndarray]:
    """The bundled sample photographs as RGB uint8 arrays."""
    import skimage.data

    photos: dict[str, np.ndarray] = {}
    for name in PHOTOS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = getattr(skimage.data, name)()
        if isinstance(data, tuple):
            data = data[0]
        data = np.asarray(data)
        if data.dtype != np.uint8:
            data = (data.astype(np.float64) * (255.0 / max(float(data.max()), 1.0))).astype(
                np.uint8
            )
        if data.ndim == 2:
            data = np.stack([data] * 3, axis=-1)
        photos[name] = np.ascontiguousarray(data[..., :3])
    return photos


def photo_tiles(tile: int = 128, scale: int = 2) -> list[tuple[str, Image.Image]]:
    """Non-overlapping ``tile``-pixel tiles of every sample photo, upscaled ``scale``×.

    Tiles that are nearly flat (the black surround of the retina photo, empty sky)
    are left out: no perceptual hash can tell those apart, and a list of known
    material would not hold them either.
    """
    tiles: list[tuple[str, Image.Image]] = []
    for name, photo in sample_photos().items():
        height, width = photo.shape[:2]
        for row in range(height // tile):
            for col in range(width // tile):
                part = photo[row * tile : (row + 1) * tile, col * tile : (col + 1) * tile]
                if float(part.std()) < 12.0:
                    continue
                image = Image.fromarray(part, "RGB")
                if scale != 1:
                    image = image.resize((tile * scale, tile * scale), Image.Resampling.BICUBIC)
                tiles.append((f"{name}-r{row}c{col}", image))
    return tiles


def generated_pictures(count: int, seed: int = 7) -> list[tuple[str, Image.Image]]:
    rng = random.Random(seed)
    pictures = []
    for number in range(count):
        size = (rng.choice((256, 320, 384)), rng.choice((256, 240, 288)))
        pictures.append((f"generated-{number}", benign_picture(seed * 100_000 + number, size)))
    return pictures


def originals(generated: int = 120) -> list[tuple[str, Image.Image]]:
    """Photo tiles plus generated pictures: the originals of the robustness benchmark."""
    return photo_tiles() + generated_pictures(generated)


# --- the eight transforms of the robustness benchmark --------------------------------


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _crop(image: Image.Image, rng: random.Random) -> Image.Image:
    """Remove 10 % of the width and of the height, split at random between the sides."""
    width, height = image.size
    cut_w, cut_h = round(width * 0.10), round(height * 0.10)
    left, top = rng.randint(0, cut_w), rng.randint(0, cut_h)
    return image.crop((left, top, left + width - cut_w, top + height - cut_h))


def _watermark(image: Image.Image) -> Image.Image:
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = ImageFont.load_default(size=max(10, height // 12))
    text = "© cosea sample"
    box = draw.textbbox((0, 0), text, font=font)
    x = width - (box[2] - box[0]) - width // 20
    y = height - (box[3] - box[1]) - height // 12
    draw.text((x, y), text, font=font, fill=(255, 255, 255, 200))
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")


def transforms(seed: int = 11) -> dict[str, Callable[[Image.Image], Image.Image]]:
    rng = random.Random(seed)
    return {
        "jpeg_q30": lambda im: _jpeg(im, 30),
        "resize_50": lambda im: im.resize(
            (max(1, im.width // 2), max(1, im.height // 2)), Image.Resampling.BICUBIC
        ),
        "crop_10": lambda im: _crop(im, rng),
        "rotate_5": lambda im: im.rotate(5, resample=Image.Resampling.BICUBIC),
        "watermark": _watermark,
        "greyscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
        "mirror": ImageOps.mirror,
        "brightness_30": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
    }


# --- JPEG files for the speed benchmark ----------------------------------------------


def write_speed_corpus(
    folder: Path, count: int = 120, size: tuple[int, int] = (2048, 1536), seed: int = 3
) -> list[Path]:
    """Camera-sized JPEG files (crops of the sample photos, upscaled, with sensor-like grain)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    photos = [p for p in sample_photos().values() if min(p.shape[:2]) >= 300]
    paths: list[Path] = []
    for number in range(count):
        path = folder / f"photo-{number:04d}.jpg"
        paths.append(path)
        if path.exists():
            continue
        photo = photos[number % len(photos)]
        height, width = photo.shape[:2]
        crop_h, crop_w = int(height * rng.uniform(0.6, 0.95)), int(width * rng.uniform(0.6, 0.95))
        top, left = (
            int(rng.integers(0, height - crop_h + 1)),
            int(rng.integers(0, width - crop_w + 1)),
        )
        part = Image.fromarray(photo[top : top + crop_h, left : left + crop_w])
        target = size if number % 2 == 0 else (size[1], size[0])
        big = np.asarray(part.resize(target, Image.Resampling.BICUBIC), dtype=np.float32)
        big += rng.normal(0.0, 4.0, big.shape)
        Image.fromarray(np.clip(big, 0, 255).astype(np.uint8)).save(path, quality=88)
    return paths
