"""Archives: traversal names neutralised, bombs stopped, damage recorded, nothing extracted."""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
from triage_helpers import case_rows, errors_by_kind, jpeg, run_scan, tar_bytes, write, zip_bytes

from cosea.triage.analyze import AnalysisSettings
from cosea.triage.archives import Limits, neutral_name

MiB = 1024 * 1024
SMALL = Limits(ratio_floor=1 * MiB, max_ratio=50.0)


def scan_with(source: Path, cases: Path, limits: Limits = SMALL, workers: int = 1):  # type: ignore[no-untyped-def]
    return run_scan([source], cases, workers=workers, analysis=AnalysisSettings(limits=limits))


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd", "__/__/etc/passwd"),
        ("/etc/shadow", "etc/shadow"),
        ("C:\\Windows\\x.dll", "C_/Windows/x.dll"),
        ("a/./b/../c", "a/b/__/c"),
        ("ok/name.jpg", "ok/name.jpg"),
        ("bad\x00name", "bad?name"),
    ],
)
def test_neutral_names(raw: str, safe: str) -> None:
    assert neutral_name(raw)[0] == safe
    assert neutral_name(raw)[1] == (raw != safe)


def test_path_traversal_names_are_recorded_and_neutralised(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(
        source / "evil.zip",
        zip_bytes([("../../etc/evil.txt", b"x"), ("/abs/file.txt", b"y"), ("fine.txt", b"z")]),
    )
    write(
        source / "evil.tar",
        tar_bytes([("../../../tmp/owned.sh", b"echo hi")], "w"),
    )
    scan_with(source, cases)
    rows = dict(case_rows(cases, "t", "SELECT path, original_name FROM files WHERE depth = 1"))
    zip_path = str(source / "evil.zip")
    assert rows == {
        f"{zip_path}!/__/__/etc/evil.txt": "../../etc/evil.txt",
        f"{zip_path}!/abs/file.txt": "/abs/file.txt",
        f"{zip_path}!/fine.txt": None,
        f"{source / 'evil.tar'}!/__/__/__/tmp/owned.sh": "../../../tmp/owned.sh",
    }
    traversal = errors_by_kind(cases)["path-traversal"]
    assert len(traversal) == 3
    assert all("nothing is ever extracted" in reason for _, reason in traversal)
    # Nothing was written outside (or inside) the source by the scan.
    assert sorted(p.name for p in source.iterdir()) == ["evil.tar", "evil.zip"]


def test_nothing_is_extracted_to_disk(tmp_path: Path, cases: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    inner = tar_bytes([("p.jpg", jpeg(1)), ("chat.txt", b"hello")])
    write(tmp_path / "src" / "a.zip", zip_bytes([("inner.tar.gz", inner), ("q.jpg", jpeg(2))]))
    scan_with(tmp_path / "src", cases)
    assert list(scratch.iterdir()) == []
    assert case_rows(cases, "t", "SELECT COUNT(*) FROM files")[0][0] == 5


def test_zip_bomb_member_is_refused_and_the_rest_kept(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    zeros = b"\x00" * (20 * MiB)
    write(source / "bomb.zip", zip_bytes([("zeros.bin", zeros), ("pic.jpg", jpeg(1))]))
    scan_with(source, cases)
    bombs = errors_by_kind(cases)["archive-bomb"]
    assert [p for p, _ in bombs] == [f"{source / 'bomb.zip'}!/zeros.bin"]
    assert "declares" in bombs[0][1]
    stored = {r[0] for r in case_rows(cases, "t", "SELECT path FROM files")}
    assert f"{source / 'bomb.zip'}!/pic.jpg" in stored


def test_compressed_tar_bomb_is_stopped_while_streaming(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(
        source / "bomb.tar.gz", tar_bytes([("a.jpg", jpeg(1)), ("zeros.bin", b"\x00" * (30 * MiB))])
    )
    scan_with(source, cases)
    ((path, reason),) = errors_by_kind(cases)["archive-bomb"]
    assert path == str(source / "bomb.tar.gz")
    assert "expands more than 50:1" in reason


def test_total_size_limit(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    random_block = os.urandom(MiB)
    write(
        source / "big.zip",
        zip_bytes([(f"part{i}.bin", random_block) for i in range(4)], zipfile.ZIP_STORED),
    )
    scan_with(source, cases, Limits(max_archive_bytes=2 * MiB + 10))
    ((path, reason),) = errors_by_kind(cases)["archive-bomb"]
    assert path == str(source / "big.zip") and "total size limit" in reason
    stored = case_rows(cases, "t", "SELECT COUNT(*) FROM files WHERE container IS NOT NULL")
    assert stored[0][0] == 2


def test_member_count_limit(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(source / "many.zip", zip_bytes([(f"f{i}.txt", b"x") for i in range(10)]))
    scan_with(source, cases, Limits(max_members=5))
    ((_path, reason),) = errors_by_kind(cases)["archive-bomb"]
    assert "more than 5 members" in reason


def test_nesting_depth_limit(tmp_path: Path, cases: Path) -> None:
    data = b"the innermost file"
    name = "core.txt"
    for level in range(6):
        data = zip_bytes([(name, data)])
        name = f"level{level}.zip"
    write(tmp_path / "src" / name, data)
    scan_with(tmp_path / "src", cases, Limits(max_depth=3))
    ((path, reason),) = errors_by_kind(cases)["archive-too-deep"]
    assert path.count("!/") == 3 and "deeper than 3" in reason
    deepest = case_rows(cases, "t", "SELECT MAX(depth) FROM files")[0][0]
    assert deepest == 3


def test_7z_inside_zip_and_7z_bomb(tmp_path: Path, cases: Path) -> None:
    import py7zr

    seven = io.BytesIO()
    with py7zr.SevenZipFile(seven, "w") as archive:
        archive.writestr(jpeg(5), "photos/p.jpg")
    bomb = io.BytesIO()
    with py7zr.SevenZipFile(bomb, "w") as archive:
        archive.writestr(b"\x00" * (8 * MiB), "zeros.bin")
    source = tmp_path / "src"
    write(source / "outer.zip", zip_bytes([("in.7z", seven.getvalue())]))
    write(source / "bomb.7z", bomb.getvalue())
    scan_with(source, cases)
    stored = {r[0] for r in case_rows(cases, "t", "SELECT path FROM files")}
    assert f"{source / 'outer.zip'}!/in.7z!/photos/p.jpg" in stored
    bombs = errors_by_kind(cases)["archive-bomb"]
    assert [p for p, _ in bombs] == [str(source / "bomb.7z")]


def test_corrupt_archives_keep_what_was_read(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    whole = zip_bytes([("a.txt", b"a" * 100), ("b.txt", b"b" * 100)])
    write(source / "cut.zip", whole[:-30])  # central directory damaged
    stream = tar_bytes([("first.jpg", jpeg(1)), ("second.bin", os.urandom(300_000))])
    write(source / "cut.tar.gz", stream[: len(stream) * 2 // 3])
    scan_with(source, cases)
    corrupt = {Path(p).name for p, _ in errors_by_kind(cases)["corrupt-archive"]}
    assert corrupt == {"cut.zip", "cut.tar.gz"}
    stored = {r[0] for r in case_rows(cases, "t", "SELECT path FROM files")}
    assert f"{source / 'cut.tar.gz'}!/first.jpg" in stored


def test_duplicate_member_names_are_both_kept(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("same.txt", b"first")
        archive.writestr("same.txt", b"second")
    write(source / "dup.zip", buffer.getvalue())
    scan_with(source, cases)
    names = sorted(r[0] for r in case_rows(cases, "t", "SELECT name FROM files WHERE depth = 1"))
    assert names == ["same.txt", "same.txt~2"]
    assert "duplicate-name" in errors_by_kind(cases)


def test_link_members_are_recorded_not_followed(tmp_path: Path, cases: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("passwd-link")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../etc/passwd"
        archive.addfile(link)
    write(tmp_path / "src" / "links.tar", buffer.getvalue())
    scan_with(tmp_path / "src", cases)
    ((path, reason),) = errors_by_kind(cases)["link-member"]
    assert path.endswith("links.tar!/passwd-link") and "../../etc/passwd" in reason


def test_archives_in_parallel_workers(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    for number in range(4):
        write(
            source / f"z{number}.zip",
            zip_bytes([(f"p{i}.jpg", jpeg(i + number)) for i in range(3)]),
        )
    scan_with(source, cases, workers=2)
    assert case_rows(cases, "t", "SELECT COUNT(*) FROM files")[0][0] == 16
    assert case_rows(cases, "t", "SELECT COUNT(*) FROM containers")[0][0] == 4
