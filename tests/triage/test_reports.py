"""Reports: HTML self-contained and image-free by default, thumbnails blurred and grey,
PDF and JSON from the same content, VICS JSON that round-trips through the lists importer,
and every export recorded in custody."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from triage_helpers import jpeg, run_scan, write

from cosea.media.hashing import hash_bytes
from cosea.media.lists import ListStore
from cosea.triage import custody
from cosea.triage.case import Case
from cosea.triage.reports import export_report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.references: list[tuple[str, str, str]] = []
        self.tags: list[str] = []
        self.unclosed_errors = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href", "action", "data", "poster", "srcset"} and value:
                self.references.append((tag, name, value))
        if tag not in {"meta", "img", "br", "link", "input", "hr", "source"}:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"meta", "img", "br", "link", "input", "hr", "source"}:
            return
        if not self.stack or self.stack[-1] != tag:
            self.unclosed_errors += 1
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()


@pytest.fixture
def case_with_findings(tmp_path: Path, cases: Path) -> Path:
    source = tmp_path / "src"
    listed = jpeg(1, model="FO-1", taken="2024:03:01 10:00:00", gps=(47.6, -37.4))
    write(source / "a.jpg", listed)
    write(source / "a-copy.jpg", jpeg(1, scale=0.5))
    write(source / "b.jpg", jpeg(2, model="FO-2", taken="2024:05:03 09:00:00", gps=(47.7, -37.3)))
    write(source / "broken.jpg", listed[:400])
    write(source / "notes.txt", "notes\n")
    store = ListStore()
    store.create_list("bank")
    hashes = hash_bytes(listed, signals=("md5", "sha1", "sha256", "pdq"))
    store.add_entries(
        "bank",
        [
            {"signal": "sha256", "hash": hashes.sha256, "category": "known-abuse"},
            {"signal": "pdq", "hash": hashes.pdq, "category": "known-abuse"},
        ],
    )
    run_scan([source], cases, lists=["bank"], examiner="examiner-1")
    return cases


def _export(cases: Path, fmt: str, out: Path, **kwargs):  # type: ignore[no-untyped-def]
    with Case.open("t", cases) as case:
        return export_report(case, fmt, out, examiner="reporter", **kwargs)


def test_html_is_valid_self_contained_and_shows_no_picture(
    case_with_findings: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    _export(case_with_findings, "html", out)
    text = out.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    assert parser.unclosed_errors == 0 and not parser.stack
    assert text.startswith("<!DOCTYPE html>")
    for tag, attribute, value in parser.references:
        assert not re.match(r"(?i)\s*(https?:)?//", value), (tag, attribute, value)
    assert "img" not in parser.tags  # no picture at all without --thumbnails
    assert "<link" not in text and "@import" not in text
    assert not re.search(r"url\(\s*['\"]?(?!#)", text)  # only in-document url(#id)
    for needle in (
        "Case summary",
        "bank",
        "known-abuse",
        "Near-duplicate clusters",
        "FO-1",
        "47.600000",
        "corrupt-image",
        "Chain of custody",
        "<svg",
    ):
        assert needle in text, needle


def test_thumbnails_are_blurred_greyscale_and_revealed_one_at_a_time(
    case_with_findings: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    record = _export(case_with_findings, "html", out, thumbnails=True)
    text = out.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    images = [value for tag, name, value in parser.references if tag == "img" and name == "src"]
    revealed = re.findall(r'data-revealed="([^"]+)"', text)
    assert images and len(images) == len(revealed) == len(record["thumbnail_files"])
    original = Image.open(io.BytesIO(jpeg(2))).convert("L").resize((128, 96))
    for uri in images + revealed:
        assert uri.startswith("data:image/jpeg;base64,")
        picture = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert picture.mode == "L"  # greyscale
        assert max(picture.size) <= 256

    # Far less detail than a picture: what a further blur removes is next to nothing.
    def detail(picture: Image.Image) -> float:
        grey = np.asarray(picture.convert("L"), dtype=float)
        smoothed = np.asarray(picture.convert("L").filter(ImageFilter.GaussianBlur(2)), dtype=float)
        return float(np.abs(grey - smoothed).mean())

    for uri in images:
        blurred = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert detail(blurred) < detail(original) / 4
    assert "open === figure" in text  # one revealed at a time


def test_pdf_and_json(case_with_findings: Path, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    _export(case_with_findings, "pdf", pdf, thumbnails=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.stat().st_size > 10_000  # plots included
    out = tmp_path / "report.json"
    _export(case_with_findings, "json", out)
    data = json.loads(out.read_text())
    assert data["totals"]["matched_files"] == 2
    assert data["by_category"] == [
        {"list": "bank", "category": "known-abuse", "files": 2, "matches": 3}
    ]
    assert data["clusters"][0]["size"] == 2
    assert data["gps"][0]["lat"] == pytest.approx(47.6)
    assert data["custody"]["intact"] is True
    assert "thumbnail" not in json.dumps(data["matches"])


def test_vics_export_round_trips_through_the_lists_importer(
    case_with_findings: Path, tmp_path: Path
) -> None:
    from cosea.media.lists.formats import ReadOptions, Record, get_format

    out = tmp_path / "case.vics.json"
    _export(case_with_findings, "vics", out)
    document = json.loads(out.read_text())
    assert document["@odata.context"].endswith("#Cases")
    media = document["value"][0]["Media"]
    listed = (tmp_path / "src" / "a.jpg").read_bytes()
    record = next(m for m in media if m["MD5"] == hashlib.md5(listed).hexdigest().upper())
    assert record["Category"] == 1  # known-abuse in the default scheme is VICS 1
    assert record["SHA1"] == hashlib.sha1(listed).hexdigest().upper()
    assert {"HashName": "SHA256", "HashValue": hashlib.sha256(listed).hexdigest()} in record[
        "AlternativeHashes"
    ]
    read = [r for r in get_format("vics").read(out, ReadOptions()) if isinstance(r, Record)]
    signals = {(r.signal, r.hash.lower(), r.category) for r in read}
    assert ("md5", hashlib.md5(listed).hexdigest(), "1") in signals
    assert ("sha256", hashlib.sha256(listed).hexdigest(), "1") in signals
    # And through the full importer into a list of its own.
    from cosea.media.lists import import_file

    store = ListStore()
    store.create_list("from-triage", scheme="vics")
    report = import_file(store, "from-triage", out, "vics")
    assert report.added >= len(media) * 3
    found = store.lookup("sha256", hashlib.sha256(listed).hexdigest(), ["from-triage"])
    assert found and found[0].category == "1"


def test_every_export_is_recorded_in_custody(case_with_findings: Path, tmp_path: Path) -> None:
    for fmt in ("html", "json", "vics", "pdf"):
        _export(case_with_findings, fmt, tmp_path / f"r.{fmt}")
    with Case.open("t", case_with_findings) as case:
        exports = [e for e in custody.entries(case) if e["event"] == "report-exported"]
        assert custody.check(case).intact
    assert [e["data"]["format"] for e in exports] == ["html", "json", "vics", "pdf"]
    for entry in exports:
        written = Path(entry["data"]["path"])
        assert hashlib.sha256(written.read_bytes()).hexdigest() == entry["data"]["sha256"]
        assert entry["actor"] == "reporter"


def test_unknown_format_is_refused(case_with_findings: Path, tmp_path: Path) -> None:
    from cosea.errors import InputError

    with pytest.raises(InputError, match="unknown report format"):
        _export(case_with_findings, "docx", tmp_path / "x.docx")
