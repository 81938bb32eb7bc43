"""Re-scans read only what changed; verify re-hashes the sources and says what differs."""

from __future__ import annotations

import os
from pathlib import Path

from triage_helpers import case_rows, jpeg, run_scan, write, zip_bytes
from typer.testing import CliRunner

from cosea.cli import app
from cosea.triage.case import Case
from cosea.triage.verify import verify_case


def test_rescan_skips_unchanged_files(evidence: Path, cases: Path) -> None:
    first = run_scan([evidence], cases)
    second = run_scan([evidence], cases, workers=2)
    assert first.stored == 7
    assert second.stored == 0 and second.skipped == 5
    assert second.totals["files"] == 7
    seen = case_rows(cases, "t", "SELECT DISTINCT seen_scan FROM files")
    assert seen == [(2,)]


def test_rescan_reads_changed_files_and_refreshes_archives(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases)
    write(evidence / "notes.txt", "notes, edited\n")
    write(evidence / "pics.zip", zip_bytes([("in/other.jpg", jpeg(9))]))
    write(evidence / "new.jpg", jpeg(10))
    summary = run_scan([evidence], cases)
    # notes.txt, new.jpg, pics.zip and its one member now
    assert summary.stored == 4
    paths = {r[0] for r in case_rows(cases, "t", "SELECT path FROM files")}
    assert f"{evidence / 'pics.zip'}!/in/other.jpg" in paths
    assert f"{evidence / 'pics.zip'}!/in/c.jpg" not in paths  # the old member is gone
    assert len(paths) == 7


def test_verify_passes_on_an_untouched_case(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases)
    with Case.open("t", cases) as case:
        result = verify_case(case, examiner="v")
    assert result.ok, result.problems()
    assert result.sources[0].current == result.sources[0].recorded


def test_verify_names_changed_added_and_removed_files(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases)
    write(evidence / "b.jpg", jpeg(42))
    (evidence / "notes.txt").unlink()
    write(evidence / "sub" / "extra.txt", "new")
    with Case.open("t", cases) as case:
        result = verify_case(case)
    assert not result.ok
    differences = "\n".join(result.sources[0].differences)
    assert "file changed since the scan: b.jpg" in differences
    assert "file removed since the scan: notes.txt" in differences
    assert "file added since the scan: sub/extra.txt" in differences
    assert "folder manifest differs" in differences


def test_verify_a_single_file_source(tmp_path: Path, cases: Path) -> None:
    archive = write(tmp_path / "seized.zip", zip_bytes([("a.jpg", jpeg(1))]))
    run_scan([archive], cases)
    with Case.open("t", cases) as case:
        assert verify_case(case).ok
    with archive.open("ab") as handle:
        handle.write(b"appended")
    with Case.open("t", cases) as case:
        result = verify_case(case)
    assert not result.ok
    assert "file changed since the scan" in result.sources[0].differences[0]
    archive.unlink()
    with Case.open("t", cases) as case:
        assert verify_case(case).sources[0].differences == ["the source file is missing"]


def test_verify_cli_exit_codes(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases)
    runner = CliRunner()
    ok = runner.invoke(app, ["triage", "verify", "t", "--cases-dir", str(cases)])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output
    os.utime(evidence / "a.jpg", (0, 0))  # a new time alone changes nothing
    assert runner.invoke(app, ["triage", "verify", "t", "--cases-dir", str(cases)]).exit_code == 0
    write(evidence / "a.jpg", jpeg(77))
    failed = runner.invoke(app, ["triage", "verify", "t", "--cases-dir", str(cases), "--json"])
    assert failed.exit_code == 1
    assert "a.jpg" in failed.output


def test_verify_is_recorded_in_custody(evidence: Path, cases: Path) -> None:
    run_scan([evidence], cases)
    with Case.open("t", cases) as case:
        verify_case(case, examiner="auditor")
        events = [r[0] for r in case.conn.execute("SELECT event FROM custody ORDER BY id")]
        actor = case.conn.execute("SELECT actor FROM custody ORDER BY id DESC").fetchone()[0]
    assert events[-1] == "case-verified" and actor == "auditor"
