"""The report's plots, drawn with matplotlib (Agg, no display): SVG for HTML, PNG for PDF.

SVG is written with text as paths, so the HTML stays self-contained (no fonts to fetch).
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import date
from typing import Any


def _figure(width: float = 7.5, height: float = 2.8) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110)


def _render(figure: Any, fmt: str) -> bytes:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "cosea"}):
        figure.savefig(buffer, format=fmt, bbox_inches="tight", metadata=_metadata(fmt))
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation dates or tool URLs in the output: the same case gives the same plot.
    if fmt == "svg":
        return {"Date": None, "Creator": None}
    if fmt == "png":
        return {"Software": None}
    return {}


def _bucketed(days: dict[str, int]) -> tuple[list[date], list[int], str]:
    parsed = []
    for text, count in days.items():
        try:
            parsed.append((date.fromisoformat(text), count))
        except ValueError:
            continue
    parsed.sort()
    if not parsed:
        return [], [], "day"
    span = (parsed[-1][0] - parsed[0][0]).days
    if span <= 120:
        return [d for d, _ in parsed], [c for _, c in parsed], "day"
    unit = "month" if span <= 365 * 6 else "year"
    buckets: Counter[date] = Counter()
    for day, count in parsed:
        key = day.replace(day=1) if unit == "month" else date(day.year, 1, 1)
        buckets[key] += count
    keys = sorted(buckets)
    return keys, [buckets[k] for k in keys], unit


def timeline(days: dict[str, int], taken: dict[str, int], fmt: str = "svg") -> bytes | None:
    """Files per day (or month/year), with the share dated by EXIF 'date taken'."""
    keys, counts, unit = _bucketed(days)
    if not keys:
        return None
    taken_keys, taken_counts, _ = _bucketed(taken)
    taken_map: Counter[date] = Counter()
    for key, count in zip(taken_keys, taken_counts, strict=True):
        bucket = (
            key
            if unit == "day"
            else (key.replace(day=1) if unit == "month" else date(key.year, 1, 1))
        )
        taken_map[bucket] += count
    figure = _figure()
    axes = figure.subplots()
    width = {"day": 0.8, "month": 25, "year": 300}[unit]
    axes.bar(keys, counts, width=width, color="#8aa1b1", label="all dated files")
    axes.bar(
        keys,
        [taken_map.get(k, 0) for k in keys],
        width=width,
        color="#2f5d7c",
        label="EXIF date taken",
    )
    axes.set_ylabel("files")
    axes.set_title(f"Files per {unit} (date taken, else modified)", fontsize=10)
    axes.legend(fontsize=8, frameon=False)
    figure.autofmt_xdate()
    axes.spines[["top", "right"]].set_visible(False)
    return _render(figure, fmt)


def gps_points(points: list[dict[str, Any]], fmt: str = "svg") -> bytes | None:
    """Where pictures were taken, as a scatter of longitude/latitude (no map tiles)."""
    if not points:
        return None
    figure = _figure(6.0, 4.0)
    axes = figure.subplots()
    longitudes = [p["lon"] for p in points]
    latitudes = [p["lat"] for p in points]
    axes.scatter(longitudes, latitudes, s=18, color="#b5523b", alpha=0.8)
    for number, point in enumerate(points[:30], start=1):
        axes.annotate(
            str(number),
            (point["lon"], point["lat"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    pad_x = max((max(longitudes) - min(longitudes)) * 0.1, 0.01)
    pad_y = max((max(latitudes) - min(latitudes)) * 0.1, 0.01)
    axes.set_xlim(min(longitudes) - pad_x, max(longitudes) + pad_x)
    axes.set_ylim(min(latitudes) - pad_y, max(latitudes) + pad_y)
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(4))
    axes.yaxis.set_major_locator(MaxNLocator(5))
    axes.tick_params(axis="x", labelrotation=30)
    axes.set_xlabel("longitude (°)")
    axes.set_ylabel("latitude (°)")
    axes.set_title("GPS positions in EXIF (numbers match the table)", fontsize=10)
    axes.grid(True, linewidth=0.3)
    axes.set_aspect("equal", adjustable="box")
    return _render(figure, fmt)
