"""STIX 2.1 bundles: valid, sightings of the matrix's attack-patterns, hash indicators, TLP,
no identities or message text, and the round trip through ``cosea lists import``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_file
from typer.testing import CliRunner

from cosea.cli import app
from cosea.errors import InputError
from cosea.report.policy import ReportPolicy
from cosea.report.stix import TLP_MARKINGS, validate_bundle, write_stix


def _objects(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["objects"]


def _by_type(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == kind]


def test_bundle_passes_the_validator_strictly(sextortion_item: Any, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    write_stix(sextortion_item, out, tlp="amber")
    results = validate_file(str(out), ValidationOptions(version="2.1", strict=True))
    problems = [str(e) for r in results.object_results for e in r.errors + r.warnings]
    assert results.is_valid and problems == []
    assert validate_bundle(out).ok


def test_sightings_of_the_matrix_attack_patterns(sextortion_item: Any, tmp_path: Path) -> None:
    from cosea.matrix.export.stix import stix_id

    out = tmp_path / "bundle.json"
    written = write_stix(sextortion_item, out)
    objects = _objects(out)
    patterns = {
        o["id"]: o["external_references"][0]["external_id"]
        for o in _by_type(objects, "attack-pattern")
    }
    assert all(
        o["external_references"][0]["source_name"] == "cosea"
        for o in _by_type(objects, "attack-pattern")
    )
    sightings = _by_type(objects, "sighting")
    seen = {patterns[s["sighting_of_ref"]]: s for s in sightings}
    assert set(seen) == set(sextortion_item.technique_ids())
    assert written.sightings == len(sightings) == len(seen)
    assert all(stix_id("attack-pattern", t) == s["sighting_of_ref"] for t, s in seen.items())
    demand = seen["T0702"]
    assert demand["count"] == 1
    assert demand["first_seen"] == demand["last_seen"] == "2026-03-02T17:04:20Z"
    (author,) = [o for o in _by_type(objects, "identity") if o["id"] == demand["created_by_ref"]]
    assert demand["where_sighted_refs"] == [author["id"]]


def test_indicators_carry_file_hashes_only(sextortion_item: Any, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    write_stix(sextortion_item, out)
    objects = _objects(out)
    (indicator,) = _by_type(objects, "indicator")  # the matched file only
    matched = next(m for m in sextortion_item.media if m.matches)
    assert indicator["pattern"].startswith(f"[file:hashes.'SHA-256' = '{matched.sha256}'")
    assert "cosea:category=of-concern" in indicator["labels"]
    text = out.read_text()
    for private in ("pay me $300", "mia_x_17", "leo.skates", '"u2"', "IMG_0001"):
        assert private not in text
    assert _by_type(objects, "observed-data") == []
    every = tmp_path / "all.json"
    assert write_stix(sextortion_item, every, all_media=True).indicators == 2


@pytest.mark.parametrize("level", ["clear", "green", "amber", "amber+strict", "red"])
def test_every_tlp_level_marks_what_is_shared(
    sextortion_item: Any, tmp_path: Path, level: str
) -> None:
    out = tmp_path / f"{level}.json"
    write_stix(sextortion_item, out, tlp=level)
    objects = _objects(out)
    marking = next(o for o in objects if o["id"] == TLP_MARKINGS[level])
    assert marking["name"] == f"TLP:{level.upper()}"
    own = [o for o in objects if o["type"] in {"sighting", "indicator", "report"}]
    assert own and all(o["object_marking_refs"] == [marking["id"]] for o in own)
    assert validate_bundle(out).ok


def test_unknown_tlp_is_refused(sextortion_item: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown TLP level 'purple'"):
        write_stix(sextortion_item, tmp_path / "x.json", tlp="purple")


def test_observed_data_only_where_the_policy_allows(sextortion_item: Any, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not allow observed-data"):
        write_stix(sextortion_item, tmp_path / "no.json", observed_data=True)
    out = tmp_path / "observed.json"
    written = write_stix(sextortion_item, out, policy=ReportPolicy(stix_observed_data=True))
    assert written.observed_data == 1
    objects = _objects(out)
    (account,) = _by_type(objects, "user-account")
    assert account["user_id"].startswith("ps_")  # pseudonymised by default
    (observed,) = _by_type(objects, "observed-data")
    assert account["id"] in observed["object_refs"]
    assert all(observed["id"] in s["observed_data_refs"] for s in _by_type(objects, "sighting"))
    assert validate_bundle(out).ok


def test_bundle_from_a_triage_case(demo_case: Path, tmp_path: Path) -> None:
    from cosea.report.source import load_case

    item = load_case("demo", cases_dir=demo_case)
    out = tmp_path / "case.json"
    written = write_stix(item, out, tlp="green")
    assert written.sightings >= 5 and written.indicators == 5
    assert validate_bundle(out).ok


def test_round_trip_through_lists_import(
    demo_service: dict[str, Any], sextortion_item: Any, tmp_path: Path, set_policy: Any
) -> None:
    """A partner's bundle becomes list entries with the partner as their source."""
    from cosea.media.lists import ListStore

    set_policy("identity_name: Partner Games Ltd\n")
    out = tmp_path / "partner.json"
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "report",
            "stix",
            str(demo_service["alerts"]["demo-en-02"]),
            "--tlp",
            "amber",
            "--out",
            str(out),
            "--all-media",
            "--database-url",
            demo_service["database_url"],
            "--data-dir",
            demo_service["data_dir"],
        ],
    )
    assert made.exit_code == 0, made.output
    assert "stix2-validator: no errors" in made.output
    imported = runner.invoke(
        app, ["lists", "import", "from-partner", str(out), "--format", "stix", "--create"]
    )
    assert imported.exit_code == 0, imported.output
    entries = list(ListStore().iter_entries("from-partner"))
    hashes = {(e.signal, e.hash) for e in entries}
    for medium in sextortion_item.media:
        for signal in ("sha256", "md5", "sha1"):
            assert (signal, medium.hashes[signal]) in hashes
    assert {e.source for e in entries} == {"Partner Games Ltd"}
    matched = next(m for m in sextortion_item.media if m.matches)
    categories = {e.category for e in entries if e.hash == matched.sha256}
    assert categories == {"of-concern"}
