"""Media demo: benign generated pictures, a demo hash list made from them, and matches.

Everything here is generated from a seed: abstract compositions of gradients,
shapes and smooth noise. No photographs of people, and nothing that could be
mistaken for real material; the demo list holds only hashes of these pictures.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

DEMO_LIST = "demo-known"
# The neutral scheme's middle category: the demo pictures are abstract shapes.
DEMO_CATEGORY = "of-concern"


def benign_picture(seed: int, size: tuple[int, int] = (320, 240)) -> Image.Image:
    """An abstract RGB picture (gradient or smooth-noise ground, shapes on top).

    Different seeds give pictures whose PDQ hashes are far apart, which the tests
    and benchmarks rely on for their false-match figures.
    """
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    width, height = size
    if rng.random() < 0.5:
        ground = _gradient(nrng, width, height)
    else:
        ground = _smooth_noise(nrng, width, height)
    image = Image.fromarray(ground, "RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(rng.randint(10, 18)):
        colour = (*(rng.randrange(256) for _ in range(3)), rng.randint(120, 255))
        x0, y0 = rng.uniform(-0.2, 1.0) * width, rng.uniform(-0.2, 1.0) * height
        x1 = x0 + rng.uniform(0.1, 0.6) * width
        y1 = y0 + rng.uniform(0.1, 0.6) * height
        kind = rng.choice(("ellipse", "rectangle", "polygon", "line"))
        if kind == "ellipse":
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif kind == "rectangle":
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif kind == "polygon":
            points = [
                (rng.uniform(0, width), rng.uniform(0, height)) for _ in range(rng.randint(3, 6))
            ]
            draw.polygon(points, fill=colour)
        else:
            draw.line((x0, y0, x1, y1), fill=colour, width=max(2, int(min(size) * 0.03)))
    image = image.filter(ImageFilter.GaussianBlur(radius=0.6))
    grain = nrng.normal(0.0, 3.0, (height, width, 3))
    return Image.fromarray(
        np.clip(np.asarray(image, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    )


def _gradient(nrng: np.random.Generator, width: int, height: int) -> np.ndarray:
    start, end = nrng.integers(0, 256, 3), nrng.integers(0, 256, 3)
    angle = nrng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width]
    t = (xs / width) * np.cos(angle) + (ys / height) * np.sin(angle)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-9)
    ground = start[None, None, :] * (1 - t[..., None]) + end[None, None, :] * t[..., None]
    return ground.astype(np.uint8)


def _smooth_noise(nrng: np.random.Generator, width: int, height: int) -> np.ndarray:
    cells = nrng.integers(0, 256, (int(nrng.integers(3, 8)), int(nrng.integers(3, 8)), 3))
    small = Image.fromarray(cells.astype(np.uint8), "RGB")
    return np.asarray(small.resize((width, height), Image.Resampling.BICUBIC))


def modified_copies(image: Image.Image) -> dict[str, Image.Image]:
    """Everyday edits a re-shared picture goes through (used by the demo)."""
    width, height = image.size
    return {
        "smaller": image.resize((width // 2, height // 2), Image.Resampling.BICUBIC),
        "brighter": ImageEnhance.Brightness(image).enhance(1.3),
        "greyscale": ImageOps.grayscale(image).convert("RGB"),
        "mirrored": ImageOps.mirror(image),
    }


def run_demo(out: Path, console: Any) -> dict[str, Any]:
    """Hash benign pictures, list some of them, match edited copies; write matches.jsonl."""
    from cosea.media.hashing import hash_file
    from cosea.media.match import Matcher, StaticEntry

    out = Path(out)
    pictures = out / "media" / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    known: list[Path] = []
    queries: list[Path] = []
    for seed in range(6):
        original = benign_picture(1000 + seed, (480, 360))
        path = pictures / f"picture-{seed}.jpg"
        original.save(path, quality=90)
        queries.append(path)
        if seed < 3:  # the first three are "known": their hashes go on the demo list
            known.append(path)
            for kind, copy in modified_copies(original).items():
                copy_path = pictures / f"picture-{seed}-{kind}.jpg"
                copy.save(copy_path, quality=85)
                queries.append(copy_path)

    entries = []
    for number, path in enumerate(known, start=1):
        hashes = hash_file(path)
        for signal in ("pdq", "sha256"):
            entries.append(
                StaticEntry(
                    id=number if signal == "pdq" else 100 + number,
                    list_name=DEMO_LIST,
                    signal=signal,
                    hash=getattr(hashes, signal) or "",
                    category=DEMO_CATEGORY,
                    source="cosea demo",
                )
            )
    list_source = _store_demo_list(entries)
    if list_source == "database":
        matcher = Matcher.for_lists([DEMO_LIST], persist=False, robust=True)
    else:
        matcher = Matcher.from_entries(entries, robust=True)
    matched_files = 0
    out_file = out / "media" / "matches.jsonl"
    with out_file.open("w", encoding="utf-8") as handle:
        for path in queries:
            record = matcher.match_record(path)
            record["path"] = str(path.relative_to(out))
            matched_files += bool(record["matches"])
            handle.write(json.dumps(record) + "\n")
    console.print(
        f"media: {len(queries)} benign pictures hashed, {len(known)} on list "
        f"'{DEMO_LIST}', {matched_files} matched (edited copies included) -> {out_file}"
    )
    return {
        "pictures": len(queries),
        "listed": len(known),
        "matched": matched_files,
        "expected_matches": len(known) * (1 + len(modified_copies(Image.new("RGB", (4, 4))))),
        "list_source": list_source,
        "matches_file": str(out_file),
    }


def _store_demo_list(entries: list[Any]) -> str:
    """Put the demo entries in the project database (a fresh list each run)."""
    try:
        from cosea.media.lists import ListStore
    except ImportError:  # lists capability not installed: match from memory
        return "memory"
    store = ListStore()
    if store.has_list(DEMO_LIST):
        store.delete_list(DEMO_LIST)
    store.create_list(
        DEMO_LIST,
        description="Demo: hashes of generated abstract pictures (no real material)",
        source="cosea demo",
    )
    store.add_entries(
        DEMO_LIST,
        [
            {"signal": e.signal, "hash": e.hash, "category": e.category, "source": e.source}
            for e in entries
        ],
    )
    return "database"
