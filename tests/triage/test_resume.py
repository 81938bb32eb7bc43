"""Crash safety: a scan killed with SIGKILL at any point resumes without duplicates.

The scan runs as a real ``cosea triage scan`` process (with its worker processes) in
its own session; the test watches the case database and kills the whole session at
several points, then runs the same command again.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from triage_helpers import cosea_subprocess, jpeg, run_scan, tar_bytes, write, zip_bytes

from cosea.triage import custody
from cosea.triage.case import Case

pytestmark = pytest.mark.slow
_PGIDS: dict[str, int] = {}
BIG = (800, 600)  # pictures large enough that a scan lasts a few seconds

# ``cosea ARGS`` with every file's and every archive member's analysis held back by
# 10 ms. On a fast, idle machine the remaining files of a resumed scan can otherwise all
# be stored between two polls, so the scan finishes before the test's kill point and
# there is nothing left to resume (the archive members, last in the scan, were not
# held back, and a kill point at 80 % fell among them).
SLOW_CLI = (
    "import sys, time\n"
    "from cosea.triage.analyze import Analyzer\n"
    "original = Analyzer.disk_file\n"
    "def slowed(self, item):\n"
    "    time.sleep(0.01)\n"
    "    return original(self, item)\n"
    "Analyzer.disk_file = slowed\n"
    "original_member = Analyzer._member\n"
    "def slowed_member(self, *args):\n"
    "    time.sleep(0.01)\n"
    "    return original_member(self, *args)\n"
    "Analyzer._member = slowed_member\n"
    "sys.argv = ['cosea', *sys.argv[1:]]\n"
    "from cosea.cli import main\n"
    "main()\n"
)


def build_corpus(root: Path, pictures: int = 200, in_zip: int = 60, in_tar: int = 30) -> None:
    for number in range(pictures):
        write(root / f"dir{number % 7}" / f"p{number:04d}.jpg", jpeg(number, size=BIG, quality=80))
    write(root / "dir0" / "notes.txt", "notes\n")
    write(
        root / "phone.zip",
        zip_bytes([(f"DCIM/z{n:04d}.jpg", jpeg(1000 + n, size=BIG)) for n in range(in_zip)]),
    )
    write(
        root / "backup.tar.gz",
        tar_bytes([(f"t{n:04d}.jpg", jpeg(2000 + n)) for n in range(in_tar)]),
    )


def count_rows(db: Path, table: str = "files") -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def count_files(db: Path) -> int:
    return count_rows(db, "files")


def newest_scan_running(db: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT status FROM scans ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return False
    return row is not None and row[0] == "running"


def scan_and_kill(
    args: list[str],
    home: Path,
    db: Path,
    at_least: int,
    kill_parent_only: bool = False,
    python_code: str | None = None,
) -> bool:
    """Start a scan, SIGKILL it once ``at_least`` files are committed; True if it was killed.

    ``python_code``: run ``python -c CODE ARGS`` instead of ``cosea ARGS``.
    """
    scans_before = count_rows(db, "scans")
    if python_code is None:
        process = cosea_subprocess(args, home=home)
    else:
        process = subprocess.Popen(
            [sys.executable, "-c", python_code, *args],
            env={**os.environ, "COSEA_HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    _PGIDS["last"] = process.pid  # its own session: the group id is its pid
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, err = process.communicate()
            assert process.returncode == 0, err.decode()[-3000:]
            return False  # finished before the kill point
        # Kill once this run's scan has begun and the case holds enough files.
        if (
            count_rows(db, "scans") > scans_before
            and count_files(db) >= at_least
            and newest_scan_running(db)
        ):
            if kill_parent_only:
                os.kill(process.pid, signal.SIGKILL)
            else:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return True
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("scan did not reach the kill point in time")


def check_case(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT path) FROM files"
        ).fetchone()
        assert total == distinct


def snapshot(cases: Path, case: str) -> set[tuple[str, str, str | None, str]]:
    with Case.open(case, cases) as opened:
        return {
            tuple(row) for row in opened.conn.execute("SELECT path, sha256, pdq, status FROM files")
        }


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_at_several_points_then_resume(tmp_path: Path, workers: int) -> None:
    source = tmp_path / "evidence"
    build_corpus(source)
    cases = tmp_path / "cases"
    reference = run_scan([source], cases, case="reference", workers=2)
    expected = snapshot(cases, "reference")
    total = len(expected)
    assert total == reference.stored == 200 + 1 + 2 + 60 + 30
    db = cases / "killed" / "case.db"
    args = [
        "triage",
        "scan",
        str(source),
        "--case",
        "killed",
        "--cases-dir",
        str(cases),
        "--workers",
        str(workers),
        "--quiet",
        "--commit-seconds",
        "0.05",
    ]
    kills = 0
    for fraction in (0.15, 0.5, 0.8):
        killed = scan_and_kill(
            args, tmp_path / "home", db, int(total * fraction), python_code=SLOW_CLI
        )
        kills += killed
        check_case(db)
        assert count_files(db) >= int(total * fraction)
    assert kills == 3, "every run should have been killed before it finished"
    before = count_files(db)
    final = cosea_subprocess([*args, "--json"], home=tmp_path / "home")
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    import json

    summary = json.loads(out)
    assert summary["resumed_scans"], "the last run should name the scans it resumes"
    assert summary["stored"] <= total - before + 5  # it did not start over
    check_case(db)
    assert snapshot(cases, "killed") == expected
    with Case.open("killed", cases) as opened:
        assert custody.check(opened).intact
        statuses = [r[0] for r in opened.conn.execute("SELECT status FROM scans ORDER BY id")]
        assert statuses.count("interrupted") == kills and statuses[-1] == "completed"
        assert opened.count("SELECT COUNT(*) FROM containers") == 2


def test_kill_inside_a_big_archive_resumes_inside_it(tmp_path: Path) -> None:
    source = tmp_path / "evidence"
    members = 480
    write(
        source / "big.zip",
        zip_bytes([(f"m{n:04d}.jpg", jpeg(n, size=BIG)) for n in range(members)]),
    )
    cases = tmp_path / "cases"
    db = cases / "k" / "case.db"
    # Commits every 50 ms (the CLI commits every second) so the kill lands inside the archive.
    code = (
        "import sys; from pathlib import Path\n"
        "from cosea.triage.scanner import ScanOptions, scan\n"
        "scan(ScanOptions(case='k', sources=[Path(sys.argv[1])], cases_dir=Path(sys.argv[2]),"
        " workers=1, commit_seconds=0.05), None, False)\n"
    )
    assert scan_and_kill([str(source), str(cases)], tmp_path / "home", db, 60, python_code=code)
    check_case(db)
    stored_before = count_files(db)
    assert stored_before < members + 1
    summary = run_scan([source], cases, case="k")
    assert summary.stored <= members + 1 - stored_before + 5
    assert count_files(db) == members + 1
    check_case(db)


def test_killing_only_the_parent_takes_the_workers_with_it(tmp_path: Path) -> None:
    source = tmp_path / "evidence"
    build_corpus(source, pictures=200, in_zip=10, in_tar=10)
    cases = tmp_path / "cases"
    db = cases / "k" / "case.db"
    args = [
        "triage",
        "scan",
        str(source),
        "--case",
        "k",
        "--cases-dir",
        str(cases),
        "--workers",
        "2",
        "--quiet",
        "--commit-seconds",
        "0.05",
    ]
    process_group_alive = True
    assert scan_and_kill(args, tmp_path / "home", db, 40, kill_parent_only=True)
    # The session's other processes (the workers) must end by themselves.
    for _ in range(100):
        time.sleep(0.1)
        try:
            os.killpg(_PGIDS["last"], 0)
        except ProcessLookupError:
            process_group_alive = False
            break
    assert not process_group_alive, "worker processes outlived the killed scan"
    check_case(db)
    run_scan([source], cases, case="k")
    check_case(db)
    assert count_files(db) == 200 + 1 + 2 + 10 + 10
