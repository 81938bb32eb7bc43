"""Bad input never stops a scan: each problem is recorded with its path and reason.

Permission errors: root reads any file whatever its mode (CAP_DAC_OVERRIDE), so when
the tests run as root the scan runs in a subprocess under ``setpriv`` with the two
capabilities that bypass file permissions dropped from its bounding set; as an
ordinary user ``chmod 000`` is enough and the scan runs in-process.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image
from triage_helpers import (
    case_rows,
    cosea_subprocess,
    errors_by_kind,
    jpeg,
    run_scan,
    write,
)


def test_fifo_is_recorded_not_opened(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(source / "ok.jpg", jpeg(1))
    os.mkfifo(source / "pipe")
    summary = run_scan([source], cases)  # would hang forever if the FIFO were opened
    assert summary.stored == 1
    ((path, reason),) = errors_by_kind(cases)["not-regular-file"]
    assert path == str(source / "pipe") and "FIFO" in reason


def test_symlink_loops_and_escapes_are_recorded(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(source / "dir" / "pic.jpg", jpeg(1))
    os.symlink(source, source / "dir" / "back-to-top")  # a folder loop
    os.symlink("self-link", source / "self-link")  # a link to itself
    os.symlink(tmp_path / "elsewhere", source / "outside")
    (tmp_path / "elsewhere").mkdir()
    os.symlink(source / "missing", source / "broken")
    os.symlink(source / "dir" / "pic.jpg", source / "alias.jpg")  # inside: followed
    summary = run_scan([source], cases)
    errors = errors_by_kind(cases)
    loops = sorted(p for p, _ in errors["symlink-loop"])
    assert loops == [str(source / "dir" / "back-to-top"), str(source / "self-link")]
    assert [p for p, _ in errors["symlink-outside-source"]] == [str(source / "outside")]
    assert [p for p, _ in errors["broken-symlink"]] == [str(source / "broken")]
    assert summary.stored == 2  # pic.jpg and the link alias.jpg


def test_corrupt_and_truncated_pictures(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    whole = jpeg(2)
    write(source / "truncated.jpg", whole[: len(whole) // 3])
    write(source / "garbage.png", b"\x89PNG\r\n\x1a\n" + os.urandom(300))
    write(source / "good.jpg", whole)
    summary = run_scan([source], cases)
    assert summary.stored == 3
    corrupt = dict(errors_by_kind(cases)["corrupt-image"])
    assert set(corrupt) == {str(source / "truncated.jpg"), str(source / "garbage.png")}
    # The crypto hashes of a damaged picture are still recorded.
    (sha,) = case_rows(
        cases, "t", "SELECT sha256 FROM files WHERE path = ?", (str(source / "truncated.jpg"),)
    )
    assert sha[0] is not None


def test_decompression_bomb_picture(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, "PNG")  # 144 Mpx in a few KB
    write(source / "bomb.png", buffer.getvalue())
    summary = run_scan([source], cases)
    assert summary.stored == 1
    ((path, reason),) = errors_by_kind(cases)["decompression-bomb"]
    assert path == str(source / "bomb.png") and "bomb" in reason


def test_non_utf8_file_names_are_kept(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    raw = os.path.join(os.fsencode(source), b"caf\xe9.jpg")
    with open(raw, "wb") as handle:
        handle.write(jpeg(3))
    summary = run_scan([source], cases)
    assert summary.stored == 1
    (path,) = case_rows(cases, "t", "SELECT path FROM files")
    assert path[0].endswith("caf\\xe9.jpg")


def _unprivileged_prefix() -> list[str] | None:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def test_permission_errors_are_recorded(tmp_path: Path, cases: Path) -> None:
    prefix = _unprivileged_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    source = tmp_path / "src"
    write(source / "ok.jpg", jpeg(1))
    locked = write(source / "locked.jpg", jpeg(2))
    write(source / "closed" / "inside.jpg", jpeg(3))
    os.chmod(locked, 0)
    os.chmod(source / "closed", 0)
    try:
        process = cosea_subprocess(
            [
                "triage",
                "scan",
                str(source),
                "--case",
                "t",
                "--cases-dir",
                str(cases),
                "--workers",
                "2",
                "--json",
            ],
            home=tmp_path / "home",
            prefix=prefix,
        )
        _out, err = process.communicate(timeout=300)
    finally:
        os.chmod(source / "closed", 0o755)
        os.chmod(locked, 0o644)
    assert process.returncode == 0, err.decode()
    errors = errors_by_kind(cases)
    denied = {p for p, _ in errors["permission-denied"]}
    assert denied == {str(locked), str(source / "closed")}
    statuses = dict(case_rows(cases, "t", "SELECT path, status FROM files"))
    assert statuses == {str(source / "ok.jpg"): "ok", str(locked): "error"}
    # Readable again, the next scan reads it and clears the old error.
    run_scan([source], cases)
    assert "permission-denied" not in {
        k for k, v in errors_by_kind(cases).items() if any(p == str(locked) for p, _ in v)
    }


def test_unreadable_source_is_a_clear_error(tmp_path: Path, cases: Path) -> None:
    from cosea.errors import InputError

    with pytest.raises(InputError, match="no such file or folder"):
        run_scan([tmp_path / "nope"], cases)


def test_scan_of_a_vanishing_tree_keeps_going(tmp_path: Path, cases: Path) -> None:
    # A file listed by the walk and deleted before it is read.
    from cosea.triage import scanner

    source = tmp_path / "src"
    write(source / "a.jpg", jpeg(1))
    write(source / "b.jpg", jpeg(2))
    original = scanner._plan

    def plan_then_delete(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        (source / "b.jpg").unlink()
        return result

    scanner._plan = plan_then_delete
    try:
        run_scan([source], cases)
    finally:
        scanner._plan = original
    assert [p for p, _ in errors_by_kind(cases)["vanished"]] == [str(source / "b.jpg")]


def test_scan_never_raises_on_a_hostile_mix(tmp_path: Path, cases: Path) -> None:
    source = tmp_path / "src"
    write(source / "empty.jpg", b"")
    write(source / "zero.zip", b"PK\x05\x06" + b"\x00" * 18)
    write(source / "notzip.zip", b"PK\x03\x04 not really")
    # A gzip header, then a deflate stream whose first block type is invalid (0xff):
    # random bytes here sometimes decoded into a partial member (5 files stored).
    write(source / "trunc.tar.gz", b"\x1f\x8b\x08\x00" + bytes(6) + b"\xff" * 58)
    summary = run_scan([source], cases)
    assert summary.stored == 4
    kinds = errors_by_kind(cases)
    assert {Path(p).name for p, _ in kinds["corrupt-archive"]} >= {"notzip.zip", "trunc.tar.gz"}
