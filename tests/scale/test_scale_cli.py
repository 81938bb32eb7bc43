"""``--scheduler`` (and COSEA_DASK_SCHEDULER) on the capability commands: same output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scale_helpers import write_media_folder
from typer.testing import CliRunner

from cosea.cli import app

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, [*args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_chats_analyze_with_scheduler_writes_what_the_local_run_writes(
    client: Any, dev_conversation_files: list[Path], tmp_path: Path
) -> None:
    files = [str(f) for f in dev_conversation_files]
    invoke("chats", "analyze", *files, "--out", str(tmp_path / "local.jsonl"))
    output = invoke(
        "chats", "analyze", *files, "--out", str(tmp_path / "cluster.jsonl"),
        "--scheduler", client.scheduler.address,
    )  # fmt: skip
    assert (tmp_path / "cluster.jsonl").read_text() == (tmp_path / "local.jsonl").read_text()
    assert "workers); results in sqlite:///" in " ".join(output.split())


def test_media_hash_and_match_with_scheduler_from_the_environment(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_media_folder(tmp_path / "evidence", pictures=4)
    invoke("lists", "create", "cli-list")
    hashes = tmp_path / "local.jsonl"
    invoke("media", "hash", str(folder), "--out", str(hashes), "--workers", "1")
    first = json.loads(hashes.read_text().splitlines()[0])
    (tmp_path / "list.txt").write_text(first["sha256"] + "\n")
    invoke("lists", "import", "cli-list", str(tmp_path / "list.txt"), "--format", "text",
           "--signal", "sha256", "--category", "of-concern")  # fmt: skip
    invoke("media", "match", str(folder), "--list", "cli-list", "--out",
           str(tmp_path / "local-matches.jsonl"), "--workers", "1")  # fmt: skip

    monkeypatch.setenv("COSEA_DASK_SCHEDULER", client.scheduler.address)
    output = invoke("media", "hash", str(folder), "--out", str(tmp_path / "cluster.jsonl"))
    assert "distributed" in output
    assert (tmp_path / "cluster.jsonl").read_text() == hashes.read_text()
    invoke("media", "match", str(folder), "--list", "cli-list", "--out",
           str(tmp_path / "cluster-matches.jsonl"))  # fmt: skip
    matches = (tmp_path / "cluster-matches.jsonl").read_text()
    assert matches == (tmp_path / "local-matches.jsonl").read_text()
    assert '"list": "cli-list"' in matches


def test_triage_scan_with_scheduler(client: Any, tmp_path: Path) -> None:
    folder = write_media_folder(tmp_path / "evidence", pictures=4)
    cases = str(tmp_path / "cases")
    scan = ["triage", "scan", str(folder), "--cases-dir", cases, "--json"]
    local = json.loads(invoke(*scan, "--case", "here", "--workers", "1"))
    cluster = json.loads(invoke(*scan, "--case", "there", "--scheduler", client.scheduler.address))
    assert cluster["totals"] == local["totals"]
    assert cluster["stored"] == local["stored"] >= 10
