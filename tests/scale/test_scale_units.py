"""The parts of the scale-out engine that need no cluster: ranges, URLs, idempotent rows."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from cosea.errors import CoseaError
from cosea.scale import cluster, inputs, results
from cosea.scale.chats import partition_of, plan_shards


def test_line_ranges_tile_a_file_exactly_once() -> None:
    rng = random.Random(5)
    lines = [("x" * rng.randint(0, 40) + "\n").encode() for _ in range(300)]
    data = b"".join(lines) + b"no final newline"
    for part in (1, 7, 64, 100, 1000, len(data), len(data) + 5):
        seen = []
        for start, end in inputs.split_ranges(len(data), part):
            seen.extend(line for _, line in inputs.line_range(io.BytesIO(data), start, end))
        assert b"".join(seen) == data, part
        assert len(seen) == len(lines) + 1


def test_line_range_reports_byte_offsets() -> None:
    data = b"ab\ncde\n\nf\n"
    assert list(inputs.line_range(io.BytesIO(data), 0, None)) == [
        (0, b"ab\n"),
        (3, b"cde\n"),
        (7, b"\n"),
        (8, b"f\n"),
    ]
    assert list(inputs.line_range(io.BytesIO(data), 4, 8)) == [(7, b"\n")]


def test_urls_mangled_by_pathlib_are_restored(tmp_path: Path) -> None:
    assert inputs.restore_url(Path("s3://bucket/key/x.jsonl")) == "s3://bucket/key/x.jsonl"
    assert inputs.restore_url(Path("file:///tmp/x")) == "file:///tmp/x"
    assert inputs.local_path(Path("file:///tmp/x")) == "/tmp/x"
    assert inputs.restore_url(tmp_path / "plain.jsonl") == str(tmp_path / "plain.jsonl")
    assert inputs.is_url(Path("s3://b/k")) and inputs.is_remote("s3://b/k")
    assert inputs.is_url("file:///x") and not inputs.is_remote("file:///x")
    assert not inputs.is_url(tmp_path) and not inputs.is_url("notascheme://x")


def test_scheduler_from_option_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cluster.SCHEDULER_ENV, raising=False)
    assert cluster.scheduler_address(None) is None
    monkeypatch.setenv(cluster.SCHEDULER_ENV, "tcp://10.0.0.5:8786")
    assert cluster.scheduler_address(None) == "tcp://10.0.0.5:8786"
    assert cluster.scheduler_address("local:2") == "local:2"
    from cosea.scale import wants_cluster

    assert wants_cluster(None, [])
    monkeypatch.setenv(cluster.SCHEDULER_ENV, " ")
    assert not wants_cluster(None, [Path("/data/chats.jsonl")])
    assert wants_cluster(None, [Path("s3://bucket/chats/")])


def test_bad_scheduler_addresses_are_clear_errors() -> None:
    with pytest.raises(CoseaError, match="local:N"), cluster.connect("local:0"):
        pass
    with (
        pytest.raises(CoseaError, match="cannot reach the Dask scheduler"),
        cluster.connect("tcp://127.0.0.1:9", timeout=1),
    ):
        pass


def test_hash_partitions_are_stable_and_spread() -> None:
    ids = [f"conversation-{n}" for n in range(1000)]
    parts = [partition_of(cid, 8) for cid in ids]
    assert parts == [partition_of(cid, 8) for cid in ids]
    assert partition_of("conversation-1", 8) == 4  # the same in every process, every run
    assert min(parts.count(p) for p in range(8)) > 80


def test_result_rows_are_written_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'scale.db'}"
    run_id = results.start_run(url, "chats-analyze", {"inputs": []})
    rows = [
        results.ResultRow(n, f"c{n}", n % 2 == 0, n / 10, f'{{"id": "c{n}"}}') for n in range(5)
    ]
    assert results.write_results(url, run_id, rows[:3]) == 3
    assert results.write_results(url, run_id, rows) == 2  # a retried task: only new rows
    assert results.write_results(url, run_id, rows) == 0
    assert results.count_results(url, run_id) == (5, 5)
    assert [p for p, _, _ in results.iter_results(url, run_id, batch=2)] == [0, 1, 2, 3, 4]
    assert [r["item"] for r in results.top_flagged(url, run_id, 2)] == ["c4", "c2"]
    results.finish_run(url, run_id, {"conversations": 5})
    info = results.run_info(url, run_id)
    assert info["status"] == "completed" and info["summary"] == {"conversations": 5}


def test_large_json_lines_files_are_cut_into_byte_ranges(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_text('{"id": "c1", "participants": [], "messages": []}\n' * 2000)
    small = tmp_path / "small.jsonl"
    small.write_text('{"id": "c2", "participants": [], "messages": []}\n')
    shards, interleaved = plan_shards([big, small], None, {}, split_bytes=10_000)
    assert not interleaved
    assert [s.label for s in shards].count(str(big)) == -(-big.stat().st_size // 10_000)
    assert [s.counts_file for s in shards].count(True) == 2
    assert shards[-1].label == str(small) and not shards[-1].split
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("conversation,from,text\nt1,a,hi\n")
    assert plan_shards([csv_file], None, {}, split_bytes=10)[1] is True
    assert plan_shards([csv_file], None, {"grouped": "true"}, split_bytes=10)[1] is False
