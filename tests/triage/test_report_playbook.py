"""The triage report's stakeholder playbooks: law enforcement first, built from the case's
conversation techniques and its hash-list matches, with where to report; a case with
neither says plainly that there is nothing to recommend.

Chats are written to the project's content rules: short, non-graphic warning-sign phrases.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from triage_helpers import RISKY_CHAT, jpeg, run_scan, write

from cosea.errors import InputError
from cosea.media.hashing import hash_bytes
from cosea.media.lists import ListStore
from cosea.report.hotlines import AUDIENCES
from cosea.triage import adapters
from cosea.triage.case import Case
from cosea.triage.reports import export_report

ORDER = ["law-enforcement", *(a for a in AUDIENCES if a != "law-enforcement")]


def _matched_case(tmp_path: Path, cases: Path) -> Path:
    """Pictures only, one of them on a hash list: no conversation at all."""
    listed = jpeg(1)
    write(tmp_path / "src" / "a.jpg", listed)
    write(tmp_path / "src" / "b.jpg", jpeg(2))
    store = ListStore()
    store.create_list("bank")
    hashes = hash_bytes(listed, signals=("sha256",))
    store.add_entries(
        "bank", [{"signal": "sha256", "hash": hashes.sha256, "category": "known-abuse"}]
    )
    run_scan([tmp_path / "src"], cases, lists=["bank"], examiner="examiner-1")
    return cases


def _export(cases: Path, fmt: str, out: Path, **options):  # type: ignore[no-untyped-def]
    with Case.open("t", cases) as case:
        return export_report(case, fmt, out, examiner="reporter", **options)


def _section(html: str) -> str:
    found = re.search(r'<section id="playbook">.*?</section>', html, re.DOTALL)
    assert found, "no playbook section in the report"
    return found.group(0)


def test_matches_without_conversations_give_the_known_material_steps(
    tmp_path: Path, cases: Path
) -> None:
    _matched_case(tmp_path, cases)
    out = tmp_path / "report.json"
    _export(cases, "json", out)
    section = json.loads(out.read_text())["playbook"]
    assert section["basis"] == {
        "techniques": [],
        "class": None,
        "media_matched": True,
        "matched_files": 1,
    }
    assert not section["nothing_to_recommend"] and section["problem"] is None
    assert "1 file(s) matched a hash list" in section["message"]
    assert [p["audience"] for p in section["audiences"]] == ORDER
    police = section["audiences"][0]
    assert police["title"].startswith("Investigator briefing")
    assert any("Victim identification" in step for step in police["steps"])  # media: true
    assert police["techniques"] == [] and police["report_to"]
    for playbook in section["audiences"]:
        assert all(body["url"].startswith("https://") for body in playbook["report_to"])
        assert all("--country" not in note for note in playbook["notes"])

    html = tmp_path / "report.html"
    _export(cases, "html", html)
    text = html.read_text(encoding="utf-8")
    assert '<a href="#playbook">What to do</a>' in text
    shown = _section(text)
    ids = re.findall(r'<details class="playbook" id="playbook-([a-z-]+)"( open)?>', shown)
    assert [audience for audience, _ in ids] == ORDER
    assert ids[0][1] == " open" and all(not is_open for _, is_open in ids[1:])
    assert "Victim identification" in shown and "https://www.inhope.org/" in shown
    assert 'id="playbook-message"' in shown and "Nothing to recommend" not in shown
    # Addresses are text: nothing in the report links or loads from outside.
    assert not re.search(r'(?:href|src)="https?://', text)

    pdf = tmp_path / "report.pdf"
    _export(cases, "pdf", pdf)
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.skipif(not adapters.chats_available(), reason="the chats capability is missing")
def test_conversation_techniques_without_matches(tmp_path: Path, cases: Path) -> None:
    write(tmp_path / "src" / "export" / "messages.jsonl", json.dumps(RISKY_CHAT) + "\n")
    write(tmp_path / "src" / "b.jpg", jpeg(2))
    run_scan([tmp_path / "src"], cases)
    out = tmp_path / "report.json"
    _export(cases, "json", out, country="GB")
    data = json.loads(out.read_text())
    section = data["playbook"]
    assert section["basis"]["techniques"] and not section["basis"]["media_matched"]
    assert set(section["basis"]["techniques"]) == {t["id"] for t in data["techniques"]}
    assert section["message"] is None and section["country"] == "GB"
    police = section["audiences"][0]
    assert police["audience"] == "law-enforcement"
    assert {t["id"] for t in police["techniques"]} == set(section["basis"]["techniques"])
    assert not any("Victim identification" in step for step in police["steps"])
    assert {"gb-ceop", "gb-iwf"} <= {body["id"] for body in police["report_to"]}
    parents = next(p for p in section["audiences"] if p["audience"] == "parents")
    assert parents["actions"]  # the parents' own mitigations of what was seen

    html = tmp_path / "report.html"
    _export(cases, "html", html, country="GB")
    shown = _section(html.read_text(encoding="utf-8"))
    assert "What was seen" in shown and "Recommended actions" in shown
    assert 'data-body="gb-ceop"' in shown and "Where to report (GB)" in shown
    for text in ("dont tell your parents", "send me a private pic"):
        assert text not in shown  # the playbook carries no message text


def test_a_case_with_nothing_found_says_so(tmp_path: Path, cases: Path) -> None:
    write(tmp_path / "src" / "a.jpg", jpeg(3))
    write(tmp_path / "src" / "notes.txt", "shopping list\n")
    run_scan([tmp_path / "src"], cases)
    out = tmp_path / "report.json"
    _export(cases, "json", out)
    section = json.loads(out.read_text())["playbook"]
    assert section["nothing_to_recommend"] is True and section["audiences"] == []
    assert section["message"].startswith("Nothing to recommend")
    html = tmp_path / "report.html"
    _export(cases, "html", html)
    shown = _section(html.read_text(encoding="utf-8"))
    assert "Nothing to recommend" in shown and '<details class="playbook"' not in shown
    pdf = tmp_path / "report.pdf"
    _export(cases, "pdf", pdf)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_reporting_country_from_the_policy_and_bad_countries(
    tmp_path: Path, cases: Path, cosea_home: Path
) -> None:
    _matched_case(tmp_path, cases)
    (cosea_home / "report-policy.yaml").write_text("country: US\n", encoding="utf-8")
    out = tmp_path / "report.json"
    _export(cases, "json", out)
    police = json.loads(out.read_text())["playbook"]["audiences"][0]
    assert police["country"] == "US"
    assert "us-ncmec-cybertipline" in {body["id"] for body in police["report_to"]}

    refused = tmp_path / "refused.html"
    with pytest.raises(InputError, match="no reporting bodies listed for 'ZZ'"):
        _export(cases, "html", refused, country="ZZ")
    assert not refused.exists()
    with Case.open("t", cases) as case:
        from cosea.triage import custody

        exports = [e for e in custody.entries(case) if e["event"] == "report-exported"]
    assert all(e["data"]["path"] != str(refused.resolve()) for e in exports)

    # A broken policy does not stop the report: the section says why it has no playbooks.
    (cosea_home / "report-policy.yaml").write_text("country: [\n", encoding="utf-8")
    _export(cases, "json", out)
    section = json.loads(out.read_text())["playbook"]
    assert section["audiences"] == [] and "could not be built" in section["problem"]


def test_cli_report_takes_the_reporting_country(tmp_path: Path, cases: Path) -> None:
    from typer.testing import CliRunner

    from cosea.cli import app

    _matched_case(tmp_path, cases)
    out = tmp_path / "report.json"
    args = ["triage", "report", "t", "--format", "json", "--out", str(out)]
    done = CliRunner().invoke(app, [*args, "--cases-dir", str(cases), "--country", "GB"])
    assert done.exit_code == 0, done.output
    section = json.loads(out.read_text())["playbook"]
    assert section["country"] == "GB"
    police = section["audiences"][0]
    assert {"gb-ceop", "gb-iwf"} <= {body["id"] for body in police["report_to"]}
