"""Reports from a triage case (messages re-read from the evidence, custody recorded), the
report policy file, and the demo step."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import InputError, NotFound
from cosea.report.cybertip import validate_cybertip, write_cybertip
from cosea.report.evidence import verify_package, write_evidence_package
from cosea.report.policy import load_policy
from cosea.report.source import load_case, load_item


def test_case_item_rereads_the_messages_from_the_evidence(demo_case: Path) -> None:
    item = load_case("demo", cases_dir=demo_case)
    assert item.kind == "case" and item.audit_check["intact"]
    risky = next(c for c in item.conversations if c.id == "demo-chat-1")
    assert risky.note is None and len(risky.messages) == 8
    assert risky.suspect == "u2"
    assert any("T0401" in m.techniques for m in risky.messages)
    assert {m.ref.split()[0] for m in item.media} == {"file"}
    assert all(m.matches for m in item.media)


def test_case_package_carries_files_and_is_recorded_in_custody(
    demo_case: Path, tmp_path: Path, set_policy: Any
) -> None:
    from cosea.triage import custody
    from cosea.triage.case import Case

    set_policy("include_media_files: true\n")
    item = load_case("demo", cases_dir=demo_case)
    out = tmp_path / "case.zip"
    written = write_evidence_package(item, out)
    assert written.media_files == len(item.media)
    result = verify_package(out)
    assert result.ok, [str(d) for d in result.differences]
    with zipfile.ZipFile(out) as archive:
        audit = json.loads(archive.read("audit.json"))
    assert audit["check"]["log"] == "chain of custody"
    assert any(e["event"] == "scan-ended" for e in audit["entries"])
    with Case.open("demo", demo_case) as case:
        entries = custody.entries(case)
        chain = custody.check(case)
    assert entries[-1]["event"] == "report-exported"
    assert entries[-1]["data"]["report"] == "evidence"
    assert chain.intact


def test_case_cybertip_validates(demo_case: Path, tmp_path: Path) -> None:
    item = load_case("demo", cases_dir=demo_case)
    written = write_cybertip(item, tmp_path / "case.xml")
    assert len(written.files) == 1 + len(item.media)
    assert all(validate_cybertip(p) == [] for p in written.files)


def test_targets_are_resolved_or_named(demo_case: Path) -> None:
    assert load_item("case:demo", cases_dir=demo_case).kind == "case"
    with pytest.raises(NotFound, match="neither an alert id"):
        load_item("no-such-case", cases_dir=demo_case)
    with pytest.raises(InputError, match="is not an alert id"):
        load_item("alert:twelve")


def test_unknown_alert_is_named(demo_service: dict[str, Any]) -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "stix",
            "999",
            "--out",
            "x.json",
            "--database-url",
            demo_service["database_url"],
        ],
    )
    assert result.exit_code != 0
    assert "alert 999 not found" in str(result.exception or result.output)


def test_policy_file_is_checked(set_policy: Any) -> None:
    assert load_policy().pseudonymise == ["stix", "signals"]
    set_policy("reporter:\n  email: not-an-address\n")
    with pytest.raises(InputError, match=r"report-policy\.yaml \[reporter\.email\]"):
        load_policy()
    set_policy("include_media_file: true\n")
    with pytest.raises(InputError, match="include_media_file"):
        load_policy()
    set_policy("reporter: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_policy()


def test_demo_produces_and_validates_every_output(tmp_path: Path, demo_case: Path) -> None:
    import shutil

    from cosea.report.demo import run_demo

    shutil.copytree(demo_case, tmp_path / "triage-cases")
    summary = run_demo(tmp_path, Console(quiet=True))
    assert summary["verified"] and summary["cybertip_valid"] and summary["stix_valid"]
    assert summary["cybertip_todo"] > 0
    for key in ("evidence_package", "cybertip", "stix", "signals", "case_stix"):
        assert Path(summary[key]).is_file(), key
    assert set(summary["playbooks"]) == {"parents", "platform"}
    again = run_demo(tmp_path, Console(quiet=True))  # a second run reuses the demo alerts
    assert again["alerts"] == summary["alerts"] and again["verified"]
