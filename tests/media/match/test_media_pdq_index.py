"""The PDQ index: identical to brute force, changes without rebuild, safe persistence."""

from __future__ import annotations

import numpy as np
import pytest

from cosea.media.match.pdq_index import MIH_MIN_ROWS, PdqIndex, brute_force, plan_tables


def near_and_far_queries(codes: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Half: stored hashes with 0-40 bits flipped; half: unrelated random hashes."""
    base = codes[rng.integers(0, len(codes), count // 2)].copy()
    bits = np.unpackbits(base, axis=1)
    for row in bits:
        flip = rng.choice(256, int(rng.integers(0, 41)), replace=False)
        row[flip] ^= 1
    unrelated = rng.integers(0, 256, (count - count // 2, 32), dtype=np.uint8)
    return np.concatenate([np.packbits(bits, axis=1), unrelated])


def assert_same(found, expected):
    for ours, theirs in zip(found, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.fixture(scope="module")
def big_codes():
    return np.random.default_rng(7).integers(0, 256, (MIH_MIN_ROWS + 5000, 32), dtype=np.uint8)


def test_plan_satisfies_the_pigeonhole_bound():
    for rows in (MIH_MIN_ROWS, 1 << 20, 10_000_000):
        tables, bits, radii = plan_tables(rows, 31)
        assert tables * bits <= 256
        assert sum(radii) >= 31 - tables + 1


@pytest.mark.parametrize("rows", [3000, "big"])
def test_results_equal_brute_force(rows, big_codes):
    rng = np.random.default_rng(3)
    codes = big_codes if rows == "big" else rng.integers(0, 256, (rows, 32), dtype=np.uint8)
    index = PdqIndex()
    index.add(codes)
    assert index.strategy == ("multi-index hashing" if rows == "big" else "flat")
    queries = near_and_far_queries(codes, 400, rng)
    for radius in (0, 8, 31, 45):  # 45 is beyond the tables' guarantee: brute-force path
        found = index.search(queries, radius)
        assert_same(found, brute_force(codes, queries, radius))
    qidx, _, dist = index.search(queries, 31)
    assert len(qidx) > 150 and dist.max() <= 31


def test_add_and_remove_without_rebuild(big_codes):
    rng = np.random.default_rng(4)
    index = PdqIndex()
    index.add(big_codes)
    tables = index._tables
    extra = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    rows = index.add(extra)
    assert rows[0] == len(big_codes) and index._tables is tables  # no rebuild
    everything = np.concatenate([big_codes, extra])
    queries = near_and_far_queries(everything, 300, rng)
    assert_same(index.search(queries, 31), brute_force(everything, queries, 31))
    exact = index.search(extra[:5], 0)
    assert list(exact[1]) == list(rows[:5])

    gone = rng.choice(len(everything), 50_000, replace=False)
    assert index.remove(gone) == 50_000 and index.live == len(everything) - 50_000
    qidx, found_rows, dist = index.search(queries, 31)
    expected = brute_force(everything, queries, 31)
    keep = ~np.isin(expected[1], gone)
    assert_same((qidx, found_rows, dist), tuple(part[keep] for part in expected))
    assert index.restore(gone) == 50_000
    assert_same(index.search(queries, 31), expected)
    assert index._tables is tables


def test_delta_folds_into_tables_when_large():
    rng = np.random.default_rng(5)
    index = PdqIndex()
    first = rng.integers(0, 256, (1000, 32), dtype=np.uint8)
    index.add(first)
    assert index.strategy == "flat"
    for _ in range(5):
        index.add(rng.integers(0, 256, (MIH_MIN_ROWS // 4, 32), dtype=np.uint8))
    assert index.strategy == "multi-index hashing"
    assert list(index.search(first[:3], 0)[1]) == [0, 1, 2]


def test_persistence_round_trip_without_pickle(tmp_path, big_codes):
    rng = np.random.default_rng(6)
    index = PdqIndex()
    index.add(big_codes)
    index.remove([0, 1, 2])
    index.add(rng.integers(0, 256, (10, 32), dtype=np.uint8))
    index.save(tmp_path / "v1")
    files = sorted(p.name for p in (tmp_path / "v1").iterdir())
    assert all(name.endswith((".npy", ".json")) for name in files)
    for name in files:
        if name.endswith(".npy"):  # numpy's own format, readable without pickle
            np.load(tmp_path / "v1" / name, allow_pickle=False)
    loaded = PdqIndex.load(tmp_path / "v1")
    assert isinstance(loaded._base, np.memmap)
    queries = near_and_far_queries(big_codes, 200, rng)
    assert_same(loaded.search(queries, 31), index.search(queries, 31))
    assert loaded.live == index.live and len(loaded) == len(index)
    # Saving again after a small change links the unchanged base instead of copying it.
    loaded.add(rng.integers(0, 256, (2, 32), dtype=np.uint8))
    loaded.save(tmp_path / "v2")
    assert (tmp_path / "v2" / "codes.npy").stat().st_nlink == 2
    again = PdqIndex.load(tmp_path / "v2")
    assert len(again) == len(index) + 2


def test_corrupt_index_files_are_refused(tmp_path):
    index = PdqIndex()
    index.add(np.zeros((3, 32), dtype=np.uint8))
    index.save(tmp_path / "v")
    (tmp_path / "v" / "pdq-index.json").write_text('{"format": "something-else"}')
    with pytest.raises(ValueError, match="not a cosea PDQ index"):
        PdqIndex.load(tmp_path / "v")
