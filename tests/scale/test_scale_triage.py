"""Triage scans with the analysing processes on a real LocalCluster equal local scans."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scale_helpers import write_fan_out_chats, write_media_folder

from cosea.triage.analyze import AnalysisSettings
from cosea.triage.case import Case
from cosea.triage.scanner import ScanOptions, scan
from cosea.triage.verify import verify_case

IGNORED = {"id", "scan_id", "seen_scan", "cluster_id", "atime"}


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_media_folder(tmp_path_factory.mktemp("triage") / "evidence", pictures=8)
    write_fan_out_chats(root / "exports" / "chats.jsonl", conversations=12)
    return root


def case_state(cases: Path, name: str) -> dict[str, Any]:
    """Everything a scan stored that does not depend on the order records arrived in."""
    conn = sqlite3.connect(cases / name / "case.db")
    conn.row_factory = sqlite3.Row
    files = {
        row["path"]: {k: v for k, v in dict(row).items() if k not in IGNORED}
        for row in conn.execute("SELECT * FROM files")
    }
    matches = sorted(
        tuple(row)
        for row in conn.execute(
            "SELECT f.path, m.list_name, m.signal, m.hash, m.distance, m.category "
            "FROM matches m JOIN files f ON f.id = m.file_id"
        )
    )
    chats = sorted(
        tuple(row)
        for row in conn.execute(
            "SELECT f.path, c.conversation_id, c.risk, c.class, c.suspect, c.alert, "
            "c.alert_message, c.techniques FROM chat_assessments c JOIN files f ON f.id = c.file_id"
        )
    )
    errors = sorted(tuple(row) for row in conn.execute("SELECT path, kind, reason FROM errors"))
    clusters = sorted(
        sorted(p for (p,) in conn.execute("SELECT path FROM files WHERE cluster_id = ?", (c,)))
        for (c,) in conn.execute("SELECT id FROM clusters")
    )
    conn.close()
    return {
        "files": files,
        "matches": matches,
        "chats": chats,
        "errors": errors,
        "clusters": clusters,
    }


def options(case: str, sources: list[Any], cases: Path, **extra: Any) -> ScanOptions:
    return ScanOptions(
        case=case,
        sources=sources,
        cases_dir=cases,
        analysis=AnalysisSettings(vpdq=False),
        batch_files=4,
        **extra,
    )


def test_cluster_scan_equals_local_scan_with_a_worker_killed(
    client: Any, evidence: Path, tmp_path: Path, kill_once: Any
) -> None:
    from cosea.media.hashing import hash_file
    from cosea.media.lists import ListStore
    from cosea.scale import scan_on_cluster

    store = ListStore()
    store.create_list("scale-test")
    picture = hash_file(evidence / "a" / "pic01.jpeg")
    store.add_entries(
        "scale-test", [{"signal": "pdq", "hash": picture.pdq, "category": "of-concern"}]
    )
    cases = tmp_path / "cases"
    scan(options("local", [evidence], cases, lists=["scale-test"], workers=1), progress=False)
    local = case_state(cases, "local")

    marker = kill_once("cosea-triage-", when="running")
    summary = scan_on_cluster(
        options("cluster", [evidence], cases, lists=["scale-test"]), client, progress=False
    )
    assert marker.exists(), "no worker was killed"
    assert case_state(cases, "cluster") == local
    assert local["matches"] and local["chats"] and local["clusters"] and local["errors"]
    assert summary.totals["files"] == len(local["files"])
    with Case.open("cluster", cases) as case:
        assert verify_case(case).ok


def test_sources_on_s3_are_fetched_into_the_case_with_custody(
    client: Any, evidence: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    import json

    import fsspec

    from cosea.scale import scan_on_cluster

    fs = fsspec.filesystem("s3")
    fs.mkdir("triage-bucket")
    for file in sorted(p for p in (evidence / "a").rglob("*") if p.is_file()):
        fs.put_file(str(file), f"triage-bucket/case-7/{file.relative_to(evidence / 'a')}")
    cases = tmp_path / "cases"
    summary = scan_on_cluster(
        options("remote", ["s3://triage-bucket/case-7"], cases), client, progress=False
    )
    scan(options("local", [evidence / "a"], cases, workers=1), progress=False)
    fetched = cases / "remote" / "fetched" / "s3" / "triage-bucket" / "case-7"
    remote_files = case_state(cases, "remote")["files"]
    local_files = case_state(cases, "local")["files"]
    assert summary.totals["files"] == len(local_files) == len(remote_files)
    for path, row in local_files.items():
        moved = str(fetched / Path(path).relative_to(evidence / "a"))
        other = remote_files[moved]
        for column in ("sha256", "md5", "pdq", "detected_type", "size", "status"):
            assert other[column] == row[column], column
    with sqlite3.connect(cases / "remote" / "case.db") as conn:
        events = [(e, json.loads(d)) for e, d in conn.execute("SELECT event, data FROM custody")]
    kinds = [e for e, _ in events]
    assert kinds[:3] == ["case-created", "source-fetched", "scan-started"]
    assert events[1][1]["url"] == "s3://triage-bucket/case-7"
    assert events[1][1]["objects"] == len(local_files)


def test_scan_hands_every_batch_to_the_runner_it_is_given(evidence: Path, tmp_path: Path) -> None:
    """The seam ``cosea.scale`` plugs Dask into: a runner given is used, even for 8 workers."""
    from cosea.triage.adapters import media_scope
    from cosea.triage.analyze import Analyzer

    batches_seen: list[int] = []

    def in_this_process(batches: Any, writer: Any, options: ScanOptions) -> None:
        messages: list[tuple[Any, ...]] = []
        analyzer = Analyzer(options.analysis, messages.append)
        with media_scope():
            for batch in batches:
                batches_seen.append(len(batch))
                for item in batch:
                    analyzer.disk_file(item)
        writer.handle_batch(messages)

    cases = tmp_path / "cases"
    scan(options("local", [evidence], cases, workers=1), progress=False)
    summary = scan(
        options("runner", [evidence], cases, workers=8), progress=False, runner=in_this_process
    )
    local = case_state(cases, "local")
    assert case_state(cases, "runner") == local
    on_disk = [path for path in evidence.rglob("*") if path.is_file()]
    assert sum(batches_seen) == len(on_disk) and len(batches_seen) > 1  # batch_files=4
    assert summary.totals["files"] == len(local["files"])
