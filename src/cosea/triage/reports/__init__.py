"""Triage reports: HTML (self-contained), PDF, JSON and VICS JSON, each recorded in custody.

>>> from cosea.triage.reports import export_report
>>> export_report(case, "html", Path("report.html"), thumbnails=False, examiner="jd")
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cosea.errors import InputError
from cosea.triage import custody
from cosea.triage.case import Case

FORMATS = ("html", "pdf", "json", "vics")


def _write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    """Write next to ``out`` and rename, so a failed export leaves no half file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def export_report(
    case: Case,
    fmt: str,
    out: Path,
    *,
    thumbnails: bool = False,
    examiner: str | None = None,
    max_thumbnails: int = 200,
    country: str | None = None,
) -> dict[str, Any]:
    """Write one report and record the export in the case's chain of custody.

    ``country`` (ISO code) chooses where the playbooks say to report; without it the
    report policy's country is used."""
    if fmt not in FORMATS:
        raise InputError(None, f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if country is not None:
        from cosea.report.hotlines import bodies_for

        bodies_for(country)  # an unlisted country is refused before anything is written
    from cosea.triage.reports.collect import collect

    with custody.recorded_access(case, "a report export"):
        data = collect(case, country=country)
        pictures: list[Any] = []
        problems: list[dict[str, Any]] = []
        if thumbnails and fmt in {"html", "pdf"}:
            from cosea.triage.reports.thumbnails import collect_thumbnails

            pictures, problems = collect_thumbnails(case, max_thumbnails)
        if fmt == "html":
            from cosea.triage.reports.html import render_html

            text = render_html(data, pictures, problems)
            _write_atomically(out, lambda p: p.write_text(text, encoding="utf-8"))
        elif fmt == "pdf":
            from cosea.triage.reports.pdf import render_pdf

            _write_atomically(out, lambda p: render_pdf(data, pictures, p))
        elif fmt == "json":
            data["thumbnail_problems"] = problems
            _write_atomically(
                out,
                lambda p: p.write_text(
                    json.dumps(data, indent=2, sort_keys=True, default=str, ensure_ascii=False),
                    encoding="utf-8",
                ),
            )
        else:
            from cosea.triage.reports.vics import write_vics

            _write_atomically(out, lambda p: write_vics(case, p))
        try:
            digest = hashlib.sha256(out.read_bytes()).hexdigest()
            record = {
                "format": fmt,
                "path": str(out.resolve()),
                "sha256": digest,
                "bytes": out.stat().st_size,
                "thumbnails": bool(pictures),
                "thumbnail_files": [p.file_id for p in pictures],
                "custody_head_in_report": data["custody"]["head"],
            }
            custody.append(case, "report-exported", record, examiner)
        except BaseException:
            out.unlink(missing_ok=True)  # an export not in custody must not exist
            raise
    return record


__all__ = ["FORMATS", "export_report"]
