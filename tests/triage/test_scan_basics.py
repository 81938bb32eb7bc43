"""A scan records every file with its hashes, type, PDQ and EXIF, in and out of archives."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from triage_helpers import case_rows, jpeg, run_scan, tar_bytes, write, zip_bytes

from cosea.triage import filetypes


def test_files_get_hashes_type_pdq_and_exif(evidence: Path, cases: Path) -> None:
    summary = run_scan([evidence], cases)
    assert summary.stored == 7  # 5 on disk + 2 zip members
    rows = {
        r[0]: r
        for r in case_rows(
            cases,
            "t",
            "SELECT path, md5, sha1, sha256, size, detected_type, type_group, pdq, pdq_quality, "
            "camera_model, taken_at, gps_lat, gps_lon, container, depth FROM files",
        )
    }
    a = rows[str(evidence / "a.jpg")]
    data = (evidence / "a.jpg").read_bytes()
    assert a[1:4] == (
        hashlib.md5(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )
    assert a[4] == len(data)
    assert (a[5], a[6]) == ("jpg", "image")
    assert len(a[7]) == 64 and a[8] > 50
    assert a[9] == "FO-1" and a[10] == "2024-03-01T10:00:00"
    assert (a[11], a[12]) == (47.5, -37.5)
    member = rows[f"{evidence / 'pics.zip'}!/in/c.jpg"]
    assert member[13] == str(evidence / "pics.zip") and member[14] == 1
    assert member[3] == hashlib.sha256(jpeg(3)).hexdigest()
    assert rows[str(evidence / "notes.txt")][6] == "text"


def test_near_duplicates_form_a_cluster(evidence: Path, cases: Path) -> None:
    summary = run_scan([evidence], cases)
    assert summary.totals["clusters"] == 1
    members = case_rows(
        cases, "t", "SELECT path FROM files WHERE cluster_id IS NOT NULL ORDER BY path"
    )
    assert [Path(m[0]).name for m in members] == ["a.jpg", "a-small.jpg"]


def test_archives_open_recursively_in_every_format(tmp_path: Path, cases: Path) -> None:
    import py7zr

    picture = jpeg(4)
    inner_zip = zip_bytes([("deep/pic.jpg", picture)])
    seven = tmp_path / "src" / "x.7z"
    seven.parent.mkdir(parents=True)
    with py7zr.SevenZipFile(seven, "w") as archive:
        archive.writestr(inner_zip, "inner.zip")
        archive.writestr(b"text in 7z", "t.txt")
    write(tmp_path / "src" / "a.tar.gz", tar_bytes([("p.jpg", picture), ("z.zip", inner_zip)]))
    write(tmp_path / "src" / "b.tar.bz2", tar_bytes([("p.jpg", picture)], "w:bz2"))
    write(tmp_path / "src" / "c.tar.xz", tar_bytes([("p.jpg", picture)], "w:xz"))
    write(tmp_path / "src" / "d.tar", tar_bytes([("p.jpg", picture)], "w"))
    import gzip

    write(tmp_path / "src" / "e.jpg.gz", gzip.compress(picture))
    run_scan([tmp_path / "src"], cases)
    paths = {
        r[0]
        for r in case_rows(
            cases,
            "t",
            "SELECT path FROM files WHERE sha256 = ?",
            (hashlib.sha256(picture).hexdigest(),),
        )
    }
    base = str(tmp_path / "src")
    assert paths == {
        f"{base}/x.7z!/inner.zip!/deep/pic.jpg",
        f"{base}/a.tar.gz!/p.jpg",
        f"{base}/a.tar.gz!/z.zip!/deep/pic.jpg",
        f"{base}/b.tar.bz2!/p.jpg",
        f"{base}/c.tar.xz!/p.jpg",
        f"{base}/d.tar!/p.jpg",
        f"{base}/e.jpg.gz!/e.jpg",
    }
    assert not case_rows(cases, "t", "SELECT path, kind, reason FROM errors")


def test_parallel_scan_stores_the_same_as_one_worker(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases, case="one", workers=1)
    run_scan([evidence], cases, case="two", workers=2)
    query = "SELECT path, sha256, pdq, camera_model FROM files ORDER BY path"
    assert case_rows(cases, "one", query) == case_rows(cases, "two", query)


def test_extension_mismatch_is_flagged(tmp_path: Path, cases: Path) -> None:
    write(tmp_path / "src" / "holiday.pdf", jpeg(5))
    write(tmp_path / "src" / "fake.jpg", "just words")
    write(tmp_path / "src" / "real.jpeg", jpeg(6))
    write(tmp_path / "src" / "doc.docx", zip_bytes([("word/document.xml", b"<w/>")]))
    run_scan([tmp_path / "src"], cases)
    flagged = {
        Path(r[0]).name: r[1]
        for r in case_rows(
            cases, "t", "SELECT path, ext_mismatch FROM files WHERE container IS NULL"
        )
    }
    assert flagged == {"holiday.pdf": 1, "fake.jpg": 1, "real.jpeg": 0, "doc.docx": 0}
    # Office documents are ZIP inside, but are not opened as archives.
    assert not case_rows(cases, "t", "SELECT path FROM files WHERE container IS NOT NULL")


def test_type_detection_covers_common_signatures() -> None:
    assert filetypes.detect(jpeg(1)).extension == "jpg"
    assert filetypes.detect(b"%PDF-1.7\n").group == "document"
    assert filetypes.detect(b"\x00\x00\x00\x18ftypqt  ").extension == "mov"
    assert filetypes.detect(b"RIFF\x00\x00\x00\x00WEBPVP8 ").extension == "webp"
    assert filetypes.detect(b'{"id": 1}\n', "x.jsonl").group == "text"
    assert filetypes.detect(bytes(range(256)) * 4).extension is None


def test_summary_and_settings_are_recorded(evidence: Path, cases: Path) -> None:
    summary = run_scan([evidence], cases, examiner="examiner-1")
    assert summary.to_dict()["totals"]["files"] == 7
    (settings,) = case_rows(cases, "t", "SELECT settings FROM scans")
    recorded = json.loads(settings[0])
    assert recorded["analysis"]["limits"]["max_depth"] == 8
    assert "capabilities" in recorded


def test_a_crashing_worker_costs_only_its_file(tmp_path: Path, cases: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os as os_module

    from cosea.triage.analyze import Analyzer

    source = tmp_path / "src"
    for number in range(6):
        write(source / f"p{number}.jpg", jpeg(number))
    write(source / "crash.bin", b"a file a decoder dies on")
    original = Analyzer.disk_file

    def dies_on_crash_bin(self, item):  # type: ignore[no-untyped-def]
        if item.path.endswith("crash.bin"):
            os_module._exit(3)  # a hard crash, as a segfault in a decoder would be
        return original(self, item)

    monkeypatch.setattr(Analyzer, "disk_file", dies_on_crash_bin)
    summary = run_scan([source], cases, workers=2)
    assert summary.stored == 6
    crashed = case_rows(cases, "t", "SELECT path FROM errors WHERE kind = 'worker-crashed'")
    assert crashed == [(str(source / "crash.bin"),)]


def test_videos_get_vpdq_when_the_media_capability_offers_it(
    tmp_path: Path, cases: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from cosea.triage import adapters

    calls = []

    def fake_vpdq(path):  # type: ignore[no-untyped-def]
        calls.append(path)
        return {"vpdq": ["0,100,0.0," + "0" * 64]}

    monkeypatch.setattr(adapters, "vpdq_available", lambda: True)
    monkeypatch.setattr(adapters, "video_vpdq", fake_vpdq)
    write(tmp_path / "src" / "clip.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    run_scan([tmp_path / "src"], cases)
    ((vpdq, group),) = case_rows(cases, "t", "SELECT vpdq, type_group FROM files")
    assert group == "video" and json.loads(vpdq) == ["0,100,0.0," + "0" * 64]
    assert calls == [tmp_path / "src" / "clip.mp4"]
