"""Known files are set aside; list matches are recorded with list, category and distance."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from triage_helpers import case_rows, jpeg, run_scan, write, zip_bytes

from cosea.media.hashing import hash_bytes
from cosea.media.lists import ListStore
from cosea.triage.analyze import AnalysisSettings


def make_nsrl(path: Path, files: list[bytes], indexed: bool = True) -> Path:
    """A tiny database shaped like NIST's RDSv3 (FILE table, DISTINCT_HASH view)."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE FILE (sha256 TEXT, sha1 TEXT, md5 TEXT, crc32 TEXT, file_name TEXT, "
        "file_size INTEGER, package_id INTEGER)"
    )
    if indexed:
        conn.execute("CREATE INDEX FILE_sha256 ON FILE(sha256)")
    conn.execute("CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5 FROM FILE")
    for data in files:
        conn.execute(
            "INSERT INTO FILE VALUES (?, ?, ?, '', 'x', ?, 1)",
            (
                hashlib.sha256(data).hexdigest().upper(),
                hashlib.sha1(data).hexdigest().upper(),
                hashlib.md5(data).hexdigest().upper(),
                len(data),
            ),
        )
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize("indexed", [True, False])
def test_nsrl_known_files_are_set_aside(tmp_path: Path, cases: Path, indexed: bool) -> None:
    system_file = b"an operating system file\n"
    write(tmp_path / "src" / "os" / "licence.txt", system_file)
    write(tmp_path / "src" / "pic.jpg", jpeg(1))
    nsrl = make_nsrl(tmp_path / "RDS_minimal.db", [system_file], indexed)
    summary = run_scan([tmp_path / "src"], cases, known_files=str(nsrl))
    assert summary.totals["known"] == 1
    assert summary.totals["for_review"] == 1
    rows = dict(case_rows(cases, "t", "SELECT path, known_source FROM files WHERE known = 1"))
    assert list(rows) == [str(tmp_path / "src" / "os" / "licence.txt")]
    assert "NSRL" in next(iter(rows.values()))
    with sqlite3.connect(cases / "t" / "case.db") as conn:
        data = conn.execute("SELECT data FROM custody WHERE event = 'scan-started'").fetchone()[0]
    assert hashlib.sha256(nsrl.read_bytes()).hexdigest() in data


def test_known_files_list_and_no_cluster_for_known(tmp_path: Path, cases: Path) -> None:
    picture = jpeg(2)
    write(tmp_path / "src" / "stock.jpg", picture)
    write(tmp_path / "src" / "stock-copy.jpg", picture)
    store = ListStore()
    store.create_list("known", kind="known-files")
    store.add_entries(
        "known",
        [
            {
                "signal": "sha256",
                "hash": hashlib.sha256(picture).hexdigest(),
                "category": "known-benign",
            }
        ],
    )
    summary = run_scan([tmp_path / "src"], cases, known_files="known")
    assert summary.totals["known"] == 2
    assert summary.totals["clusters"] == 0  # known files never go to review


def test_list_matches_with_category_and_distance(tmp_path: Path, cases: Path) -> None:
    listed = jpeg(3)
    near = Image.open(io.BytesIO(listed)).resize((200, 150))
    buffer = io.BytesIO()
    near.save(buffer, "JPEG", quality=50)
    write(tmp_path / "src" / "exact.jpg", listed)
    write(tmp_path / "src" / "resized.jpg", buffer.getvalue())
    write(tmp_path / "src" / "other.jpg", jpeg(4))
    write(tmp_path / "src" / "in.zip", zip_bytes([("again.jpg", listed)]))
    store = ListStore()
    store.create_list("demo-bank")
    hashes = hash_bytes(listed, signals=("sha256", "pdq"))
    store.add_entries(
        "demo-bank",
        [
            {"signal": "sha256", "hash": hashes.sha256, "category": "known-abuse"},
            {"signal": "pdq", "hash": hashes.pdq, "category": "known-abuse"},
        ],
    )
    summary = run_scan([tmp_path / "src"], cases, lists=["demo-bank"], workers=2)
    assert summary.totals["matched_files"] == 3
    matches = case_rows(
        cases,
        "t",
        "SELECT f.name, m.list_name, m.category, m.signal, m.distance FROM matches m "
        "JOIN files f ON f.id = m.file_id ORDER BY f.name, m.signal",
    )
    by_file: dict[str, list[tuple[str, str, str, int]]] = {}
    for name, *rest in matches:
        by_file.setdefault(name, []).append(tuple(rest))  # type: ignore[arg-type]
    assert by_file["exact.jpg"] == [
        ("demo-bank", "known-abuse", "pdq", 0),
        ("demo-bank", "known-abuse", "sha256", 0),
    ]
    assert by_file["again.jpg"] == by_file["exact.jpg"]
    ((list_name, category, signal, distance),) = by_file["resized.jpg"]
    assert (list_name, category, signal) == ("demo-bank", "known-abuse", "pdq")
    assert 0 < distance <= 31
    assert "other.jpg" not in by_file
    with sqlite3.connect(cases / "t" / "case.db") as conn:
        data = conn.execute("SELECT data FROM custody WHERE event = 'scan-started'").fetchone()[0]
    assert store.list_digest("demo-bank") in data


def test_robust_mode_matches_a_mirrored_copy(tmp_path: Path, cases: Path) -> None:
    listed = jpeg(5)
    mirrored = Image.open(io.BytesIO(listed)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    buffer = io.BytesIO()
    mirrored.save(buffer, "JPEG", quality=90)
    write(tmp_path / "src" / "mirror.jpg", buffer.getvalue())
    store = ListStore()
    store.create_list("bank")
    store.add_entries(
        "bank",
        [
            {
                "signal": "pdq",
                "hash": hash_bytes(listed, signals=("pdq",)).pdq,
                "category": "of-concern",
            }
        ],
    )
    plain = run_scan([tmp_path / "src"], cases, case="plain", lists=["bank"])
    robust = run_scan(
        [tmp_path / "src"],
        cases,
        case="robust",
        lists=["bank"],
        analysis=AnalysisSettings(robust=True),
    )
    assert plain.totals["matched_files"] == 0
    assert robust.totals["matched_files"] == 1


def test_rescan_with_new_lists_matches_unchanged_files(tmp_path: Path, cases: Path) -> None:
    listed = jpeg(6)
    write(tmp_path / "src" / "a.jpg", listed)
    write(tmp_path / "src" / "b.jpg", jpeg(7))
    first = run_scan([tmp_path / "src"], cases)
    assert first.totals["matched_files"] == 0
    store = ListStore()
    store.create_list("late-bank")
    store.add_entries(
        "late-bank",
        [
            {
                "signal": "sha256",
                "hash": hashlib.sha256(listed).hexdigest(),
                "category": "of-concern",
            }
        ],
    )
    store.create_list("late-known", kind="known-files")
    store.add_entries(
        "late-known",
        [
            {
                "signal": "sha256",
                "hash": hashlib.sha256(jpeg(7)).hexdigest(),
                "category": "known-benign",
            }
        ],
    )
    second = run_scan([tmp_path / "src"], cases, lists=["late-bank"], known_files="late-known")
    assert second.stored == 0 and second.skipped == 2  # nothing read again …
    assert second.totals["matched_files"] == 1  # … yet matched against the new list
    assert second.totals["known"] == 1
    third = run_scan([tmp_path / "src"], cases, lists=["late-bank"], known_files="late-known")
    assert third.totals["matched_files"] == 1 and third.totals["known"] == 1
