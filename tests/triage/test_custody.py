"""The chain of custody: append-only, hash-chained, and tampering is found and named."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest
from triage_helpers import run_scan

from cosea.triage import custody
from cosea.triage.case import Case
from cosea.triage.verify import verify_case


@pytest.fixture
def scanned(evidence: Path, cases: Path) -> Path:
    run_scan([evidence], cases, examiner="examiner-1", lists=[])
    with Case.open("t", cases) as case:
        custody.append(case, "file-viewed", {"file_id": 1, "path": "x"}, "examiner-2")
        custody.append(case, "file-viewed", {"file_id": 2, "path": "y"}, "examiner-2")
    return cases / "t" / "case.db"


def raw(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER custody_no_update")
    conn.execute("DROP TRIGGER custody_no_delete")
    return conn


def problems(db: Path) -> list[str]:
    with Case._connect(db) as case:
        return verify_case(case, record=False).problems()


def test_log_records_what_happened(scanned: Path) -> None:
    with Case._connect(scanned) as case:
        entries = custody.entries(case)
        assert custody.check(case).intact
    events = [e["event"] for e in entries]
    assert events == [
        "case-created",
        "scan-started",
        "source-hashed",
        "scan-ended",
        "file-viewed",
        "file-viewed",
    ]
    started = entries[1]["data"]
    assert started["examiner"] == "examiner-1" and started["version"]
    assert started["settings"]["analysis"]["crypto"] == ["md5", "sha1", "sha256"]
    hashed = entries[2]["data"]
    assert len(hashed["sha256"]) == 64 and hashed["files"] == 5
    assert entries[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(entries))


def test_database_refuses_update_and_delete(scanned: Path) -> None:
    conn = sqlite3.connect(scanned)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE custody SET actor = 'someone' WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM custody WHERE id = 2")
    conn.close()


def test_altered_entry_is_named(scanned: Path) -> None:
    conn = raw(scanned)
    data = json.loads(conn.execute("SELECT data FROM custody WHERE id = 3").fetchone()[0])
    data["sha256"] = "f" * 64  # someone rewrites the recorded source hash
    conn.execute("UPDATE custody SET data = ? WHERE id = 3", (json.dumps(data),))
    conn.close()
    found = problems(scanned)
    assert any("entry 3" in p and "altered" in p for p in found), found
    assert any("append-only guard" in p for p in found)


def test_altered_actor_is_named(scanned: Path) -> None:
    conn = raw(scanned)
    conn.execute("UPDATE custody SET actor = 'nobody' WHERE id = 5")
    conn.close()
    assert any("entry 5" in p and "altered" in p for p in problems(scanned))


def test_deleted_entry_is_found(scanned: Path) -> None:
    conn = raw(scanned)
    conn.execute("DELETE FROM custody WHERE id = 4")
    conn.close()
    found = problems(scanned)
    assert any("entry 5" in p and "broken" in p for p in found), found
    assert any("entry 4 was removed" in p for p in found), found


def test_reordered_entries_are_found(scanned: Path) -> None:
    conn = raw(scanned)
    conn.execute("UPDATE custody SET id = -1 WHERE id = 5")
    conn.execute("UPDATE custody SET id = 5 WHERE id = 6")
    conn.execute("UPDATE custody SET id = 6 WHERE id = -1")
    conn.close()
    found = problems(scanned)
    assert any("entry 5" in p for p in found) and any("entry 6" in p for p in found), found


def test_truncated_tail_is_found(scanned: Path) -> None:
    conn = raw(scanned)
    conn.execute("DELETE FROM custody WHERE id = 6")
    conn.close()
    found = problems(scanned)
    assert any("entries at the end were removed" in p for p in found), found


def test_edited_file_records_are_found(scanned: Path) -> None:
    conn = sqlite3.connect(scanned)
    conn.execute("UPDATE files SET sha256 = ? WHERE path LIKE '%a.jpg'", ("0" * 64,))
    conn.commit()
    conn.close()
    found = problems(scanned)
    assert any("files table was edited" in p for p in found), found


def test_appends_after_verification_keep_the_chain(scanned: Path) -> None:
    with Case._connect(scanned) as case:
        verify_case(case, examiner="a")
        verify_case(case, examiner="b")
        assert custody.check(case).intact


def test_read_only_case_verifies_but_refuses_unrecorded_access(
    evidence: Path, cases: Path, tmp_path: Path
) -> None:
    import os
    import shutil
    import subprocess
    import sys

    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make the case read-only")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    run_scan([evidence], cases)
    folder = cases / "t"
    os.chmod(folder / "case.db", 0o444)
    os.chmod(folder, 0o555)

    def cosea(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "cosea", "triage", *args, "--cases-dir", str(cases)],
            capture_output=True,
            text=True,
            env={**os.environ, "COSEA_HOME": str(tmp_path / "home"), "COLUMNS": "300"},
        )

    try:
        verified = cosea("verify", "t")
        report = cosea("report", "t", "--format", "json", "--out", str(tmp_path / "r.json"))
        view = cosea("view", "t", "1")
    finally:
        os.chmod(folder, 0o755)
        os.chmod(folder / "case.db", 0o644)
    assert verified.returncode == 0, verified.stderr
    assert report.returncode == 2 and "chain of custody" in report.stderr
    assert not (tmp_path / "r.json").exists()
    assert view.returncode == 2 and "Traceback" not in view.stderr
