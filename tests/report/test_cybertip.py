"""CyberTipline-shaped drafts: valid against the project's XSD, nothing invented, gaps listed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import InputError
from cosea.report.cybertip import ENTICEMENT, validate_cybertip, write_cybertip
from cosea.report.policy import Reporter, ReportPolicy


def _comments(path: Path) -> list[str]:
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))
    root = ET.parse(path, parser=parser).getroot()
    return [str(e.text) for e in root.iter() if e.tag is ET.Comment]


def test_report_and_file_details_validate_and_carry_the_alert(
    sextortion_item: Any, tmp_path: Path
) -> None:
    written = write_cybertip(sextortion_item, tmp_path / "report.xml")
    assert [p.name for p in written.files] == [
        "report.xml",
        "report.file-1.xml",
        "report.file-2.xml",
    ]
    for path in written.files:
        assert validate_cybertip(path) == [], path
    root = ET.parse(written.path).getroot()
    assert root.tag == "report"
    assert root.findtext("incidentSummary/incidentType") == ENTICEMENT
    assert root.find("incidentSummary/reportAnnotations/sextortion") is not None
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-03-02T17:00:10Z"
    chat = root.find("internetDetails/chatImIncident")
    assert chat is not None and chat.findtext("chatClient") == "social_dm"
    assert "pay me" in (chat.findtext("content") or "")
    assert "T0702 Financial demand" in (chat.findtext("content") or "")
    reported = root.find("personOrUserReported")
    assert reported is not None
    assert reported.findtext("espIdentifier") == "u2"
    assert reported.findtext("displayName") == "mia_x_17"
    victim = root.find("victim")
    assert victim is not None and victim.findtext("victimPerson/age") == "15"
    assert victim.findtext("espIdentifier") == "u1"
    assert "escalate" in (root.findtext("additionalInfo") or "")

    first = ET.parse(written.files[1]).getroot()
    assert first.tag == "fileDetails"
    hashes = {h.get("hashType"): h.text for h in first.findall("originalFileHash")}
    assert set(hashes) == {"MD5", "SHA1", "SHA256"}
    assert first.findtext("fileViewedByEsp") == "false"  # nobody revealed it in the console
    assert first.find("details[@type='HASH']/nameValuePair/name").text == "PDQ"


def test_reviewer_fields_are_listed_never_invented(sextortion_item: Any, tmp_path: Path) -> None:
    written = write_cybertip(sextortion_item, tmp_path / "report.xml")
    root = ET.parse(written.path).getroot()
    assert root.find("reporter/reportingPerson/email") is None
    assert root.find("personOrUserReported/ipCaptureEvent") is None
    fields = {(t.document, t.field, t.action) for t in written.todo}
    assert ("report.xml", "reporter/reportingPerson/email", "fill") in fields
    assert ("report.xml", "incidentSummary/incidentType", "confirm") in fields
    assert ("report.xml", "personOrUserReported/ipCaptureEvent", "fill") in fields
    assert ("report.file-1.xml", "fileDetails/publiclyAvailable", "fill") in fields
    assert ("report.file-2.xml", "fileDetails/fileAnnotations, industryClassification", "fill") in (
        fields
    )
    sidecar = json.loads(written.todo_path.read_text())
    assert len(sidecar["todo"]) == len(written.todo)
    comments = " ".join(_comments(written.path))
    assert "TO FILL: reporter/reportingPerson/email" in comments
    assert "TO CONFIRM: incidentSummary/incidentType" in comments
    assert "TO FILL: fileDetails/exifViewedByEsp" in " ".join(_comments(written.files[1]))


def test_reporter_from_the_policy_is_used(sextortion_item: Any, tmp_path: Path) -> None:
    policy = ReportPolicy(
        reporter=Reporter(
            first_name="Sam",
            last_name="Reviewer",
            email="ts@example.org",
            legal_url="https://example.org/le",
        )
    )
    written = write_cybertip(sextortion_item, tmp_path / "report.xml", policy=policy)
    root = ET.parse(written.path).getroot()
    assert root.findtext("reporter/reportingPerson/email") == "ts@example.org"
    assert root.findtext("reporter/legalUrl") == "https://example.org/le"
    assert not any(t.field.startswith("reporter/") for t in written.todo)
    assert validate_cybertip(written.path) == []


def test_pseudonymised_when_the_policy_requires(sextortion_item: Any, tmp_path: Path) -> None:
    written = write_cybertip(
        sextortion_item, tmp_path / "report.xml", policy=ReportPolicy(pseudonymise=["cybertip"])
    )
    text = written.path.read_text()
    root = ET.parse(written.path).getroot()
    assert root.findtext("personOrUserReported/espIdentifier").startswith("ps_")
    assert "mia_x_17" not in text and "leo.skates" not in text
    assert validate_cybertip(written.path) == []


def test_meeting_suggests_escalation(grooming_item: Any, tmp_path: Path) -> None:
    grooming_item.conversations[0].messages[-1].marks[0].technique = "T0801"
    written = write_cybertip(grooming_item, tmp_path / "report.xml")
    root = ET.parse(written.path).getroot()
    assert "Meeting arrangement" in (root.findtext("incidentSummary/escalateToHighPriority") or "")
    assert any(t.field == "incidentSummary/escalateToHighPriority" for t in written.todo)
    assert validate_cybertip(written.path) == []


def test_the_schema_rejects_what_the_api_would(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(
        "<report><incidentSummary><incidentType>Something else</incidentType>"
        "<incidentDateTime>yesterday</incidentDateTime></incidentSummary></report>"
    )
    problems = validate_cybertip(bad)
    assert any("incidentType" in p for p in problems)
    assert any("incidentDateTime" in p for p in problems)
    broken = tmp_path / "broken.xml"
    broken.write_text("<report>")
    assert validate_cybertip(broken)[0].startswith("broken.xml: not a readable XML document")


def test_wrong_suffix_is_refused(sextortion_item: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"ending in \.xml"):
        write_cybertip(sextortion_item, tmp_path / "report.json")


def test_cli_lists_the_fields_to_fill(demo_service: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "tip.xml"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "cybertip",
            str(demo_service["alerts"]["demo-en-02"]),
            "--out",
            str(out),
            "--database-url",
            demo_service["database_url"],
            "--data-dir",
            demo_service["data_dir"],
        ],
    )
    assert result.exit_code == 0, result.output
    assert "valid against cybertip.xsd" in result.output
    assert "reporter/reportingPerson/email" in result.output
    assert "Nothing was sent" in result.output
