"""Counts files for heatmaps and Navigator scores: JSON, CSV and JSON Lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cosea.errors import InputError, ValidationFailed
from cosea.matrix import Matrix, read_counts


def test_json_object(tmp_path: Path, matrix: Matrix) -> None:
    path = tmp_path / "counts.json"
    path.write_text(json.dumps({"T0401": 3, "t0601": 2}), encoding="utf-8")
    assert read_counts(path, matrix) == {"T0401": 3, "T0601": 2}


def test_csv_with_and_without_header(tmp_path: Path, matrix: Matrix) -> None:
    with_header = tmp_path / "with.csv"
    with_header.write_text("technique,count\nT0401,3\nT0601,2\nT0401,1\n", encoding="utf-8")
    assert read_counts(with_header, matrix) == {"T0401": 4, "T0601": 2}
    bare = tmp_path / "bare.csv"
    bare.write_text("T0702,5\n", encoding="utf-8")
    assert read_counts(bare, matrix) == {"T0702": 5}


def test_jsonl_predictions_count_conversations(tmp_path: Path, matrix: Matrix) -> None:
    path = tmp_path / "predictions.jsonl"
    lines = [
        {"id": "a", "class": "grooming", "techniques": {"m1": ["T0101"], "m4": ["T0101", "T0401"]}},
        {"id": "b", "class": "benign", "techniques": {}},
        {"id": "c", "class": "sextortion", "techniques": {"m2": ["T0701"], "m3": ["T0401"]}},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    assert read_counts(path, matrix) == {"T0101": 1, "T0401": 2, "T0701": 1}


def test_labelled_dev_set_gives_counts(dev_conversation_files, matrix: Matrix) -> None:
    risky = next(p for p in dev_conversation_files if "risky" in p.name)
    counts = read_counts(risky, matrix)
    assert counts and sum(counts.values()) > 0
    assert set(counts) <= set(matrix.techniques)


def test_unknown_technique_names_file_and_line(tmp_path: Path, matrix: Matrix) -> None:
    path = tmp_path / "counts.csv"
    path.write_text("technique,count\nT0401,3\nT0499,1\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        read_counts(path, matrix)
    assert caught.value.problems == [f"{path}:3: technique T0499 is not in the COSEA matrix"]


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("bad.json", '{"T0401": -1}', "must be a number >= 0"),
        ("bad.json", '{"T0401": "many"}', "must be a number >= 0"),
        ("bad.json", '{"T0401": ', "not valid JSON"),
        ("bad.csv", "T0401,lots\n", "count 'lots' is not a number"),
        ("bad.csv", "T0401\n", "expected two columns"),
        ("bad.jsonl", '{"techniques": {"m1": ["T0401"]}}\nnot json\n', "not valid JSON"),
    ],
)
def test_bad_counts_files_are_clear_errors(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_counts(path)
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_missing_counts_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such counts file"):
        read_counts(tmp_path / "absent.json")
