"""Media hashing and matching on a real LocalCluster equal the single-process commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scale_helpers import write_media_folder

from cosea.media.hashing import hash_paths, iter_files
from cosea.media.match import Matcher, match_record
from cosea.scale import count_results, hash_media, match_media

SIGNALS = ("md5", "sha1", "sha256", "pdq")


@pytest.fixture(scope="module")
def media_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_media_folder(tmp_path_factory.mktemp("media") / "evidence", pictures=12)


def single_process_hashes(folder: Path) -> list[str]:
    files = list(iter_files([folder]))
    return [json.dumps(h.to_dict()) for h in hash_paths(files, SIGNALS, workers=1)]


def _loads() -> int:
    from cosea.scale import media

    return media._LOADS


def test_hashes_equal_single_process(client: Any, media_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "hashes.jsonl"
    run = hash_media([media_folder], scheduler=client, out=out, files_per_task=3)
    expected = single_process_hashes(media_folder)
    assert out.read_text().splitlines() == expected
    assert run.tasks == -(-len(expected) // 3)
    assert run.errors == sum('"error"' in line for line in expected) >= 1  # the broken picture
    assert count_results(run.database_url, run.run_id) == (len(expected), len(expected))


def test_matches_equal_single_process_with_a_worker_killed(
    client: Any, media_folder: Path, tmp_path: Path, kill_once: Any
) -> None:
    from cosea.media.hashing import hash_file
    from cosea.media.lists import ListStore

    store = ListStore()
    store.create_list("scale-test")
    entries = []
    for name in ("a/pic01.jpeg", "a/pic05.jpeg", "b/pic02.jpeg"):
        hashes = hash_file(media_folder / name)
        entries.append({"signal": "pdq", "hash": hashes.pdq, "category": "of-concern"})
        entries.append({"signal": "sha256", "hash": hashes.sha256, "category": "of-concern"})
    store.add_entries("scale-test", entries)
    matcher = Matcher.for_lists(["scale-test"])
    files = list(iter_files([media_folder]))
    expected = [json.dumps(match_record(h, m)) for h, m in matcher.match_paths(files, workers=1)]
    assert sum(bool(json.loads(line)["matches"]) for line in expected) >= 4  # + near-duplicate

    before = client.run(_loads)
    marker = kill_once("cosea-media-match-", when="finished")
    out = tmp_path / "matches.jsonl"
    run = match_media(
        [media_folder], lists=["scale-test"], scheduler=client, out=out, files_per_task=2
    )
    assert marker.exists(), "no worker was killed"
    assert out.read_text().splitlines() == expected
    assert count_results(run.database_url, run.run_id) == (len(expected), len(expected))
    # The index reached each worker process once, however many tasks it ran.
    client.wait_for_workers(2, timeout=120)
    after = client.run(_loads)
    assert run.tasks > 2 * len(after)
    assert all(after[w] - before.get(w, 0) <= 1 for w in after)
    assert run.by_list["scale-test"] == sum(len(json.loads(line)["matches"]) for line in expected)


def test_hashes_of_objects_under_an_s3_prefix(
    client: Any, media_folder: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    import fsspec

    fs = fsspec.filesystem("s3")
    fs.mkdir("media-bucket")
    files = list(iter_files([media_folder]))
    for file in files:
        fs.put_file(str(file), f"media-bucket/seized/{file.relative_to(media_folder).as_posix()}")
    out = tmp_path / "hashes.jsonl"
    run = hash_media(["s3://media-bucket/seized"], scheduler=client, out=out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    by_name = {r["path"].split("/seized/", 1)[1]: r for r in records}
    assert run.files == len(files) == len(records)
    assert all(r["path"].startswith("s3://media-bucket/seized/") for r in records)
    for line in single_process_hashes(media_folder):
        local = json.loads(line)
        remote = by_name[str(Path(local["path"]).relative_to(media_folder))]
        assert {k: v for k, v in remote.items() if k != "path"} == {
            k: v.replace(local["path"], remote["path"]) if isinstance(v, str) else v
            for k, v in local.items()
            if k != "path"
        }
