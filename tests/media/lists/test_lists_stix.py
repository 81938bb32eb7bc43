from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2
from lists_helpers import md5_of, pdq_of, sha1_of, sha256_of, snapshot

from cosea.errors import InputError, ValidationFailed
from cosea.media.lists import ListStore, export_file, import_file
from cosea.media.lists.formats.stix import hash_comparisons


def _bundle(path: Path, *objects) -> Path:
    path.write_text(stix2.Bundle(*objects, allow_custom=True).serialize(pretty=True))
    return path


def _partner() -> stix2.Identity:
    return stix2.Identity(name="Example Partner Hotline", identity_class="organization")


def _indicator(pattern: str, partner: stix2.Identity | None = None, **extra) -> stix2.Indicator:
    return stix2.Indicator(
        pattern=pattern,
        pattern_type="stix",
        created_by_ref=partner.id if partner else None,
        object_marking_refs=[stix2.TLP_AMBER],
        **extra,
    )


def test_hash_comparisons_simple_and_compound_patterns() -> None:
    assert hash_comparisons(f"[file:hashes.'SHA-256' = '{sha256_of(1)}']") == [
        ("SHA-256", sha256_of(1))
    ]
    assert hash_comparisons(f"[file:hashes.MD5 = '{md5_of(1)}']") == [("MD5", md5_of(1))]
    compound = f"[file:hashes.MD5 = '{md5_of(1)}' OR file:hashes.'SHA-1' = '{sha1_of(1)}']"
    assert hash_comparisons(compound) == [("MD5", md5_of(1)), ("SHA-1", sha1_of(1))]
    with_name = f"[file:hashes.'SHA-256' = '{sha256_of(1)}' AND file:name = 'a.jpg']"
    assert hash_comparisons(with_name) == [("SHA-256", sha256_of(1))]
    assert hash_comparisons("[url:value = 'http://example.com/']") == []
    with pytest.raises(ValueError, match="invalid STIX pattern"):
        hash_comparisons("[file:hashes.MD5 = ")


def test_indicators_become_entries_with_the_partner_as_source(
    store: ListStore, tmp_path: Path
) -> None:
    partner = _partner()
    path = _bundle(
        tmp_path / "partner.json",
        partner,
        stix2.TLP_AMBER,
        _indicator(
            f"[file:hashes.'SHA-256' = '{sha256_of(1)}']",
            partner,
            indicator_types=["malicious-activity"],
        ),
        _indicator(
            f"[file:hashes.MD5 = '{md5_of(2)}' OR file:hashes.'SHA-1' = '{sha1_of(2)}']",
            partner,
            description="two hashes of one benign sample",
        ),
        _indicator(f"[file:hashes.PDQ = '{pdq_of(3)}']", partner),
        _indicator(f"[file:hashes.'SHA-512' = '{'ab' * 64}']", partner),
        _indicator("[url:value = 'http://example.com/']", partner),
        _indicator(f"[file:hashes.MD5 = '{md5_of(4)}']", partner, revoked=True),
        _indicator(f"[file:hashes.MD5 = '{md5_of(5)}']", partner, indicator_types=["benign"]),
    )
    store.create_list("shared")
    report = import_file(store, "shared", path, "stix", category="known-abuse")
    assert report.added == 5
    assert report.unsupported == {
        "stix:SHA-512": 1,
        "stix:indicator without a file hash": 1,
        "stix:revoked indicator": 1,
    }
    entries = {e.hash: e for e in store.iter_entries("shared")}
    assert {e.source for e in entries.values()} == {"Example Partner Hotline"}
    assert entries[pdq_of(3)].signal == "pdq"
    assert entries[md5_of(2)].external_id == entries[sha1_of(2)].external_id
    assert entries[md5_of(2)].notes == "two hashes of one benign sample"
    assert entries[md5_of(5)].category == "known-benign"
    assert entries[sha256_of(1)].category == "known-abuse"

    store.create_list("override")
    import_file(store, "override", path, "stix", source="analyst import")
    assert {e.source for e in store.iter_entries("override")} == {"analyst import"}


def test_bad_indicator_rolls_back_and_names_the_object(store: ListStore, tmp_path: Path) -> None:
    good = _indicator(f"[file:hashes.MD5 = '{md5_of(1)}']")
    bundle = json.loads(stix2.Bundle(good).serialize())
    # Written by hand: stix2 itself refuses to build these two.
    short = {"type": "indicator", "id": "indicator--short", "pattern": "[file:hashes.MD5 = 'abc']"}
    broken = {"type": "indicator", "id": "indicator--x", "pattern": "[file:hashes.MD5 = "}
    bundle["objects"] += [short, broken]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bundle))
    store.create_list("shared")
    store.add_entries("shared", [{"hash": md5_of(30)}])
    before = snapshot(store, "shared")
    with pytest.raises(ValidationFailed) as failure:
        import_file(store, "shared", path, "stix")
    message = str(failure.value)
    assert "objects[1] indicator--short: md5 hashes have 32 hex digits, got 3" in message
    assert "objects[2] indicator--x: invalid STIX pattern" in message
    assert snapshot(store, "shared") == before


def test_broken_or_foreign_json(store: ListStore, tmp_path: Path) -> None:
    store.create_list("shared")
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "bundle",\n "objects": [\n {"type": "indicator",,}\n]}')
    with pytest.raises(InputError, match="not valid JSON") as failure:
        import_file(store, "shared", broken, "stix")
    assert failure.value.line == 3
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"type": "report", "objects": []}))
    with pytest.raises(InputError, match="not a STIX bundle"):
        import_file(store, "shared", other, "stix")


def test_stix_export_validates_and_round_trips(store: ListStore, tmp_path: Path) -> None:
    from stix2validator import ValidationOptions, validate_file

    store.create_list("bank", source="cosea test hotline")
    store.add_entries(
        "bank",
        [
            {"hash": md5_of(1), "signal": "md5", "category": "known-abuse", "external_id": "m1"},
            {"hash": sha1_of(1), "signal": "sha1", "category": "known-abuse", "external_id": "m1"},
            {"hash": sha256_of(2), "signal": "sha256", "category": "known-benign"},
            {"hash": pdq_of(3), "signal": "pdq", "category": "of-concern", "notes": "benign test"},
        ],
    )
    out = tmp_path / "bank.json"
    assert export_file(store, "bank", out, "stix", tlp="green") == 4
    result = validate_file(str(out), ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for e in result.object_results[0].errors]
    document = json.loads(out.read_text())
    indicators = [o for o in document["objects"] if o["type"] == "indicator"]
    assert len(indicators) == 3
    assert {o["object_marking_refs"][0] for o in indicators} == {stix2.TLP_GREEN.id}
    identity = next(o for o in document["objects"] if o["type"] == "identity")
    assert identity["name"] == "cosea test hotline"
    combined = next(o for o in indicators if "OR" in o["pattern"])
    assert combined["indicator_types"] == ["malicious-activity"]

    store.create_list("partner-copy")
    report = import_file(store, "partner-copy", out, "stix")
    assert report.added == 4
    assert store.list_digest("partner-copy") == store.list_digest("bank")
    assert {e.source for e in store.iter_entries("partner-copy")} == {"cosea test hotline"}
    with pytest.raises(InputError, match="unknown TLP level"):
        export_file(store, "bank", tmp_path / "x.json", "stix", tlp="purple")
