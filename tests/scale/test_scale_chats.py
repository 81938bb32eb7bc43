"""Conversation analysis on a real LocalCluster equals the single-process analysis."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scale_helpers import write_fan_out_chats, write_interleaved_csv

from cosea.chats.analysis import analyze_stream
from cosea.chats.io import stream_messages
from cosea.errors import InputError
from cosea.scale import analyze_chats, count_results, run_info


def single_process(files: list[Path], **options: Any) -> list[str]:
    """What ``cosea chats analyze`` writes without a scheduler (same calls, same JSON)."""
    grouped = not any(str(f).endswith(".csv") for f in files)
    pairs = stream_messages(files, **options)
    return [
        json.dumps(a.to_prediction(), ensure_ascii=False)
        for a in analyze_stream(pairs, grouped=grouped)
    ]


@pytest.fixture(scope="module")
def chat_files(
    tmp_path_factory: pytest.TempPathFactory, dev_conversation_files: list[Path]
) -> list[Path]:
    fan_out = write_fan_out_chats(tmp_path_factory.mktemp("chats") / "fan-out.jsonl")
    return [*dev_conversation_files, fan_out]


@pytest.fixture(scope="module")
def expected(chat_files: list[Path]) -> list[str]:
    return single_process(chat_files)


def test_predictions_equal_single_process_across_many_shards(
    client: Any, chat_files: list[Path], expected: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "predictions.jsonl"
    # Small byte ranges: each file is cut into many shards, so batch signals (one
    # account contacting many young accounts) must cross shards and workers.
    run = analyze_chats(chat_files, scheduler=client, out=out, split_bytes=12_000)
    assert run.shards > 10
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert any("T0105" in json.dumps(json.loads(line)["techniques"]) for line in expected)
    assert run.conversations == len(expected) == run.written
    assert count_results(run.database_url, run.run_id) == (len(expected), len(expected))
    assert run_info(run.database_url, run.run_id)["status"] == "completed"
    assert run.report.files == len(chat_files)
    assert run.report.messages == run.messages


def test_interleaved_csv_is_hash_partitioned_by_conversation(client: Any, tmp_path: Path) -> None:
    files = write_interleaved_csv(tmp_path)
    expected = single_process(files)
    out = tmp_path / "predictions.jsonl"
    run = analyze_chats(files, scheduler=client, out=out)
    assert run.partitions == 4
    assert out.read_text(encoding="utf-8").splitlines() == expected
    assert len(expected) == 12  # threads continuing into the second file are one conversation


def test_worker_killed_after_writing_its_rows_postgres(
    client: Any,
    chat_files: list[Path],
    expected: list[str],
    tmp_path: Path,
    postgres_url: str,
    kill_once: Any,
) -> None:
    marker = kill_once("cosea-chats-analyse-", when="finished")
    out = tmp_path / "predictions.jsonl"
    run = analyze_chats(
        chat_files, scheduler=client, out=out, database_url=postgres_url, split_bytes=20_000
    )
    assert marker.exists(), "no worker was killed"
    assert out.read_text(encoding="utf-8").splitlines() == expected
    # The killed task had committed its rows; its retry wrote none of them again.
    assert count_results(postgres_url, run.run_id) == (len(expected), len(expected))
    assert run.written < len(expected)


def test_inputs_from_s3_and_file_urls(
    client: Any, chat_files: list[Path], expected: list[str], tmp_path: Path, s3_endpoint: str
) -> None:
    import fsspec

    fs = fsspec.filesystem("s3")
    fs.mkdir("chats-bucket")
    for file in chat_files:
        fs.put_file(str(file), f"chats-bucket/incoming/{file.name}")
    ordered = sorted(chat_files, key=lambda f: f.name)  # a prefix lists in sorted order
    run = analyze_chats(
        ["s3://chats-bucket/incoming/"],
        scheduler=client,
        out="s3://chats-bucket/results/predictions.jsonl",
        split_bytes=30_000,
    )
    assert run.shards > len(chat_files)  # byte ranges read from the object store
    written = fs.cat_file("chats-bucket/results/predictions.jsonl").decode()
    assert written.splitlines() == single_process(ordered)
    local_run = analyze_chats(
        [f"file://{f}" for f in chat_files], scheduler=client, out=tmp_path / "p.jsonl"
    )
    assert (tmp_path / "p.jsonl").read_text().splitlines() == expected
    assert local_run.report.files == len(chat_files)


def test_bad_lines_are_reported_by_file_and_byte_offset(
    client: Any, chat_files: list[Path], tmp_path: Path
) -> None:
    lines = chat_files[-1].read_text(encoding="utf-8").splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    offset = sum(len(line.encode()) for line in lines[:20])
    broken.write_text("".join([*lines[:20], "{not json\n", *lines[20:]]), encoding="utf-8")
    run = analyze_chats([broken], scheduler=client, out=tmp_path / "p.jsonl", split_bytes=4000)
    assert run.report.skipped == 1
    [error] = run.report.errors
    assert error.source == str(broken)
    assert f"the line at byte {offset}" in error.problem
    assert run.conversations == len(lines)  # nothing else lost
    with pytest.raises(InputError, match=r"broken\.jsonl"):
        analyze_chats([broken], scheduler=client, strict=True, split_bytes=4000)
