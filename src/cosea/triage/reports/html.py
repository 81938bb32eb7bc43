"""The self-contained HTML report: inline CSS, inline SVG plots, inline script; no network."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

from cosea.triage.reports import plots

_SVG_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)


def filesize(value: float) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size} B"


def inline_svg(svg: bytes | None) -> str | None:
    """An SVG document as an element to inline: no XML prologue, DOCTYPE or metadata."""
    if svg is None:
        return None
    text = svg.decode("utf-8")
    text = _SVG_PROLOGUE.sub("", text, count=1)
    return _SVG_METADATA.sub("", text)


def _environment() -> Environment:
    environment = Environment(
        autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True
    )
    environment.filters["filesize"] = filesize
    return environment


def render_html(
    data: dict[str, Any], thumbnails: list[Any], thumbnail_problems: list[dict[str, Any]]
) -> str:
    template_text = (resources.files("cosea.triage") / "templates" / "report.html.j2").read_text(
        encoding="utf-8"
    )
    template = _environment().from_string(template_text)
    rendered_plots = {
        "timeline": inline_svg(plots.timeline(data["timeline"], data["timeline_taken"], "svg")),
        "gps": inline_svg(plots.gps_points(data["gps"], "svg")),
    }
    return template.render(
        data=data,
        plots=rendered_plots,
        thumbnails=thumbnails,
        thumbnail_problems=thumbnail_problems,
    )
