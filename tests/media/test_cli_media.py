"""``cosea media``: hash and match output formats, errors, index commands."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagegen import picture

from cosea.cli import app

runner = CliRunner()


@pytest.fixture
def pictures(tmp_path):
    folder = tmp_path / "pictures"
    (folder / "nested").mkdir(parents=True)
    for number in range(3):
        picture(600 + number, (320, 240)).save(folder / f"p{number}.jpg", quality=90)
    picture(600, (320, 240)).resize((160, 120)).save(folder / "nested" / "small.png")
    (folder / "nested" / "notes.txt").write_text("not a picture")
    return folder


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_hash_writes_one_record_per_file(pictures, tmp_path):
    out = tmp_path / "hashes.jsonl"
    result = runner.invoke(app, ["media", "hash", str(pictures), "--out", str(out), "-w", "1"])
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    # Each folder's files in name order, then its sub-folders.
    assert [Path(r["path"]).name for r in records] == [
        "p0.jpg",
        "p1.jpg",
        "p2.jpg",
        "notes.txt",
        "small.png",
    ]
    image = records[0]
    assert image["kind"] == "image" and len(image["pdq"]) == 64
    assert {"md5", "sha1", "sha256", "pdq_quality", "pdq_low_quality", "size"} <= set(image)
    assert "pdq" not in records[3] and records[3]["kind"] is None


def test_hash_signal_choice_and_stdout(pictures):
    result = runner.invoke(
        app, ["media", "hash", str(pictures / "p0.jpg"), "--signals", "pdq,sha256"]
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[0])
    assert set(record) >= {"sha256", "pdq"} and "md5" not in record


def test_hash_errors(pictures, tmp_path):
    from cosea.cli import main

    for argv in (
        ["media", "hash", str(pictures), "--signals", "pdq,nope"],
        ["media", "hash", str(tmp_path / "missing")],
    ):
        sys.argv = ["cosea", *argv]
        with pytest.raises(SystemExit) as exit_info:
            main()
        assert exit_info.value.code == 2


def test_match_output_format(pictures, tmp_path):
    from cosea.media.hashing import hash_file
    from cosea.media.lists import ListStore

    store = ListStore()
    store.create_list("known")
    listed = hash_file(pictures / "p0.jpg")
    store.add_entries(
        "known",
        [
            {"signal": "pdq", "hash": listed.pdq, "category": "known-abuse"},
            {"signal": "sha256", "hash": listed.sha256, "category": "known-abuse"},
        ],
    )
    out = tmp_path / "matches.jsonl"
    result = runner.invoke(
        app, ["media", "match", str(pictures), "--list", "known", "--out", str(out), "-w", "1"]
    )
    assert result.exit_code == 0, result.output
    records = {Path(r["path"]).name: r for r in read_jsonl(out)}
    assert len(records) == 5
    for record in records.values():
        assert set(record) >= {"path", "sha256", "pdq", "matches"}
    exact = records["p0.jpg"]["matches"]
    assert {(m["list"], m["signal"], m["distance"], m["category"]) for m in exact} == {
        ("known", "pdq", 0, "known-abuse"),
        ("known", "sha256", 0, "known-abuse"),
    }
    assert all(set(m) >= {"list", "signal", "hash", "distance", "category"} for m in exact)
    smaller = records["small.png"]["matches"]
    assert [m["signal"] for m in smaller] == ["pdq"] and 0 < smaller[0]["distance"] <= 31
    assert records["p1.jpg"]["matches"] == [] and records["notes.txt"]["pdq"] is None

    tight = runner.invoke(
        app,
        ["media", "match", str(pictures / "nested" / "small.png"), "-l", "known", "-t", "0"],
    )
    assert json.loads(tight.stdout.strip())["matches"] == []

    info = runner.invoke(app, ["media", "index", "info"])
    assert info.exit_code == 0 and "known" in info.stdout
    rebuilt = runner.invoke(app, ["media", "index", "rebuild", "--list", "known"])
    assert rebuilt.exit_code == 0, rebuilt.output


def test_match_robust_reports_variant(pictures, tmp_path):
    from PIL import ImageOps

    from cosea.media.hashing import hash_file
    from cosea.media.lists import ListStore

    store = ListStore()
    store.create_list("known")
    store.add_entries("known", [{"signal": "pdq", "hash": hash_file(pictures / "p1.jpg").pdq}])
    mirrored = tmp_path / "mirrored.png"
    ImageOps.mirror(picture(601, (320, 240))).save(mirrored)
    plain = runner.invoke(app, ["media", "match", str(mirrored), "-l", "known"])
    assert json.loads(plain.stdout.strip())["matches"] == []
    robust = runner.invoke(app, ["media", "match", str(mirrored), "-l", "known", "--robust"])
    matches = json.loads(robust.stdout.strip())["matches"]
    assert [m["variant"] for m in matches] == ["mirror"]


def test_match_unknown_list_is_a_clear_error(pictures):
    from cosea.cli import main

    sys.argv = ["cosea", "media", "match", str(pictures), "--list", "nope"]
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2


def test_signals_command():
    result = runner.invoke(app, ["media", "signals"])
    assert result.exit_code == 0
    for name in ("md5", "sha1", "sha256", "pdq", "vpdq"):
        assert name in result.stdout


def test_run_demo_writes_matches(tmp_path):
    from rich.console import Console

    from cosea.media.demo import run_demo

    summary = run_demo(tmp_path / "out", Console(file=io.StringIO()))
    assert summary["matched"] == summary["expected_matches"] == 15
    assert summary["list_source"] == "database"
    records = read_jsonl(Path(summary["matches_file"]))
    assert len(records) == summary["pictures"]
    mirrored = [r for r in records if "mirrored" in r["path"]]
    assert all(m["variant"] == "mirror" for r in mirrored for m in r["matches"])
