"""Stakeholder playbooks (each audience, drawn from the matrix) and the hotlines data file."""

from __future__ import annotations

import json
import re
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import InputError, ValidationFailed
from cosea.matrix import load
from cosea.report.hotlines import AUDIENCES, bodies_for, countries, hotlines, read_hotlines
from cosea.report.playbook import build_playbook, read_playbook_texts

SEXTORTION = ["T0201", "T0601", "T0701", "T0702", "T0704"]
DATA = Path(str(resources.files("cosea.report") / "data"))


@pytest.mark.parametrize("audience", AUDIENCES)
def test_every_audience_gets_steps_actions_and_where_to_report(audience: str) -> None:
    playbook = build_playbook(SEXTORTION, audience, "GB")
    matrix = load()
    stakeholder = playbook.stakeholder
    assert playbook.steps and playbook.intro and playbook.report_to
    expected = {
        m.id for t in SEXTORTION for m in matrix.mitigations_for(t, stakeholder=stakeholder)
    }
    assert {a.mitigation for a in playbook.actions} == expected
    for action in playbook.actions:
        assert set(action.techniques) <= set(SEXTORTION)
    assert [t.id for t in playbook.techniques] == sorted(
        SEXTORTION, key=lambda t: (matrix.tactic_order(matrix.technique(t).tactic), t)
    )
    assert all(audience in b.audiences for b in playbook.report_to)
    markdown = playbook.to_markdown()
    assert markdown.startswith(f"# {playbook.title}") and "## Where to report (GB)" in markdown
    assert json.loads(json.dumps(playbook.to_dict()))["audience"] == audience


def test_parents_read_plain_language_platforms_read_procedure() -> None:
    parents = build_playbook(SEXTORTION, "parents", "GB")
    text = parents.to_markdown()
    assert "your child" in text and "it is never your child's fault" in text
    for jargon in ("exigent", "hash", "STIX", "TLP", "preservation request"):
        assert jargon not in text
    assert all(len(re.findall(r"\w+", step)) < 60 for step in parents.steps)
    # the parents' own wording replaces the matrix description
    calm = next(a for a in parents.actions if a.mitigation == "M0804")
    assert calm.text.startswith("If something goes wrong, your child needs a calm reaction")
    platform = build_playbook(SEXTORTION, "platform", "US").to_markdown()
    assert "CyberTipline" in platform and "evidence package" in platform
    police = build_playbook(SEXTORTION, "law-enforcement", "US").to_markdown()
    assert "cosea report verify" in police


def test_urgent_notes_follow_what_was_seen() -> None:
    assert (
        build_playbook(["T0801"], "parents", "US")
        .urgent[0]
        .startswith("The other person tried to arrange to meet")
    )
    assert any("Do not pay" in u for u in build_playbook(SEXTORTION, "parents", "US").urgent)
    assert build_playbook(["T0101"], "parents", "US").urgent == []
    with_media = build_playbook(["T0601"], "parents", "US", media_matched=True).steps
    without = build_playbook(["T0601"], "parents", "US", media_matched=False).steps
    assert len(with_media) == len(without) + 1 and any("Take It Down" in s for s in with_media)


def test_where_to_report_by_country() -> None:
    gb = {b.id for b in build_playbook(SEXTORTION, "parents", "GB").report_to}
    assert {"gb-iwf", "gb-ceop", "int-inhope"} <= gb
    us = {b.id for b in build_playbook(SEXTORTION, "platform", "us").report_to}
    assert "us-ncmec-cybertipline" in us
    nowhere = build_playbook(SEXTORTION, "platform")
    assert {b.country for b in nowhere.report_to} == {"INT"}
    assert any("No country" in note for note in nowhere.notes)


def test_bad_audience_country_or_technique_is_named() -> None:
    with pytest.raises(InputError, match="unknown audience 'neighbours'"):
        build_playbook(SEXTORTION, "neighbours")
    with pytest.raises(InputError, match="no reporting bodies listed for 'ZZ'"):
        build_playbook(SEXTORTION, "parents", "ZZ")
    with pytest.raises(InputError, match="T9999"):
        build_playbook(["T9999"], "parents", "GB")


def test_playbook_for_an_alert_and_a_case_from_the_cli(
    demo_service: dict[str, Any], demo_case: Path
) -> None:
    runner = CliRunner()
    alert = runner.invoke(
        app,
        [
            "playbook",
            str(demo_service["alerts"]["demo-en-02"]),
            "--audience",
            "parents",
            "--country",
            "GB",
            "--database-url",
            demo_service["database_url"],
        ],
    )
    assert alert.exit_code == 0, alert.output
    assert "What to do now" in alert.output and "Do not pay" in alert.output
    assert "https://www.ceop.police.uk/ceop-reporting/" in alert.output
    case = runner.invoke(
        app,
        ["playbook", "demo", "--cases-dir", str(demo_case), "--audience", "schools", "--json"],
    )
    assert case.exit_code == 0, case.output
    data = json.loads(case.output)
    assert data["stakeholder"] == "schools-educators" and data["techniques"]
    by_technique = runner.invoke(
        app, ["playbook", "-t", "T0801", "--audience", "law-enforcement", "--country", "AU"]
    )
    assert by_technique.exit_code == 0 and "safeguard first" in by_technique.output
    assert "https://www.accce.gov.au/report" in by_technique.output


def test_playbook_texts_are_checked_against_the_matrix(tmp_path: Path) -> None:
    assert read_playbook_texts(DATA / "playbooks.yaml").audiences.keys() == set(AUDIENCES)
    data = yaml.safe_load((DATA / "playbooks.yaml").read_text())
    data["audiences"]["parents"]["mitigations"]["M0101"] = "not a parents' mitigation"
    data["audiences"]["schools"]["tactics"]["TA99"] = "no such tactic"
    bad = tmp_path / "playbooks.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationFailed) as caught:
        read_playbook_texts(bad)
    problems = "\n".join(caught.value.problems)
    assert "parents.mitigations.M0101: not owned by parents-guardians" in problems
    assert "schools.tactics.TA99: no such tactic" in problems


# -- hotlines ---------------------------------------------------------------------------------


def test_hotlines_file_follows_its_schema() -> None:
    bodies = hotlines()
    assert len({b.id for b in bodies}) == len(bodies)
    assert all(b.url.startswith("https://") for b in bodies)
    by_id = {b.id: b for b in bodies}
    assert by_id["us-ncmec-cybertipline"].url == "https://report.cybertip.org/"
    assert by_id["gb-iwf"].country == "GB" and by_id["gb-ceop"].country == "GB"
    assert by_id["ca-cybertip"].url == "https://www.cybertip.ca/"
    assert {"au-accce", "au-esafety"} <= set(by_id)
    europe = {"AT", "BE", "DE", "DK", "FI", "FR", "IE", "IT", "LU", "NL", "PL", "PT", "SE"}
    inhope_countries = {b.country for b in bodies if b.inhope}
    assert europe <= inhope_countries
    assert {"US", "GB", "CA", "AU"} <= set(countries())
    for audience in AUDIENCES:
        assert bodies_for("GB", audience), audience


def test_a_bad_hotlines_file_names_each_entry(tmp_path: Path) -> None:
    source = DATA / "hotlines.yaml"
    data = yaml.safe_load(source.read_text())
    data["bodies"][0]["url"] = "http://insecure.example"
    data["bodies"][1]["country"] = "United Kingdom"
    data["bodies"][2]["audiences"] = ["neighbours"]
    data["bodies"].append(dict(data["bodies"][3]))
    bad = tmp_path / "hotlines.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ValidationFailed) as caught:
        read_hotlines(bad)
    problems = "\n".join(caught.value.problems)
    assert "[us-ncmec-cybertipline] url" in problems
    assert "[us-ncmec-take-it-down] country" in problems
    assert "[us-fbi-tips] audiences.0" in problems
    assert f"[{data['bodies'][3]['id']}] id: used twice" in problems
    copy = tmp_path / "copy.yaml"
    shutil.copy(source, copy)
    assert len(read_hotlines(copy)) == len(hotlines())


def test_cli_hotlines() -> None:
    result = CliRunner().invoke(app, ["report", "hotlines", "--country", "CA"])
    assert result.exit_code == 0 and "Cybertip.ca" in result.output
