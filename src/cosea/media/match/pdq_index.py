"""Exact radius search over PDQ hashes: every stored hash within the radius, with its distance.

Two strategies, chosen by size (see ``benchmarks/media_speed.py`` for the measurements):

* up to ``MIH_MIN_ROWS`` hashes, FAISS's brute-force ``IndexBinaryFlat`` (a few
  megabytes scanned per query, faster than any bookkeeping);
* above it, multi-index hashing (Norouzi et al.) with compact tables: the 256 bits
  are cut into ``m`` substrings of ``b`` bits; by the general pigeonhole principle a
  hash within distance ``r`` of the query agrees with it on substring ``j`` up to
  ``t_j`` bits for at least one ``j`` whenever ``sum(t_j) >= r - m + 1``. Each table
  is a counting-sort of the rows by substring (an ``offsets`` array of ``2**b + 1``
  and a row array), so a query enumerates the few thousand substring values within
  ``t_j`` bits, gathers their rows and checks the full distance. Nothing is
  approximate: the result equals brute force (tested, and checked in the benchmark).

FAISS's own ``IndexBinaryMultiHash`` does the same search but keeps 64-bit ids in
hash maps (326 MB for 1 million hashes, against 112 MB here; 946 MB for 10 million
here, in total), is no faster than brute force at these sizes and cannot be
memory-mapped. Its ``IndexBinaryHash`` and ``IndexBinaryHNSW`` miss a fifth or more
of the matches at distance 31 (measured), which known-material matching cannot accept.

Additions go to a small flat "delta" searched beside the tables and folded in once
it grows past an eighth of the indexed rows; removals clear an ``alive`` flag and
are dropped from the tables at the next fold. Arrays persist as ``.npy`` files
(numpy's own format, loaded with ``allow_pickle=False`` and memory-mapped).
"""

from __future__ import annotations

import itertools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

CODE_BYTES = 32
MIH_MIN_ROWS = 1 << 18
DEFAULT_MAX_RADIUS = 31
_BATCH = 64  # queries per vectorised step: bounds the candidate arrays to a few MB
_FORMAT = "cosea-pdq-index/1"


def plan_tables(rows: int, max_radius: int = DEFAULT_MAX_RADIUS) -> tuple[int, int, list[int]]:
    """(tables m, bits per table b, per-table flip radius t_j) for ``rows`` hashes."""
    bits = 21 if rows >= 1 << 20 else 19
    tables = 256 // bits
    need = max(0, max_radius - tables + 1)
    base, extra = divmod(need, tables)
    radii = [base + 1 if j < extra else base for j in range(tables)]
    return tables, bits, radii


@lru_cache(maxsize=32)
def _flip_masks(bits: int, radius: int) -> np.ndarray:
    masks = [0]
    for count in range(1, radius + 1):
        for combo in itertools.combinations(range(bits), count):
            masks.append(sum(1 << c for c in combo))
    return np.array(masks, dtype=np.int64)


def _substring_keys(codes: np.ndarray, start_bit: int, bits: int) -> np.ndarray:
    """Integer value of bits [start_bit, start_bit+bits) of each code (big-endian bit order)."""
    first = start_bit // 8
    last = (start_bit + bits - 1) // 8
    acc = np.zeros(len(codes), dtype=np.uint64)
    for byte in range(first, last + 1):
        acc <<= np.uint64(8)
        acc |= codes[:, byte].astype(np.uint64)
    shift = 8 * (last + 1) - (start_bit + bits)
    return ((acc >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int64)


class _Flat:
    """FAISS brute force over a slice of rows (the whole index when small, or the delta)."""

    def __init__(self) -> None:
        import faiss

        self.index = faiss.IndexBinaryFlat(256)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, codes: np.ndarray) -> None:
        if len(codes):
            self.index.add(np.ascontiguousarray(codes, dtype=np.uint8))

    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
        if self.index.ntotal == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32)
        limits, distances, ids = self.index.range_search(queries, radius + 1)
        qidx = np.repeat(np.arange(len(queries)), np.diff(limits).astype(np.int64))
        return qidx, ids.astype(np.int64), distances.astype(np.int32)


class _Tables:
    """The ``m`` substring tables of multi-index hashing, held in two flat arrays.

    ``rows`` holds table j's row numbers, sorted by substring value, at
    ``[j*N, (j+1)*N)``; ``offsets[j * 2**b + v]`` is where value ``v`` of table j
    starts in ``rows`` (one sentinel at the end). One array per kind keeps a query
    to a dozen numpy operations whatever the number of tables.
    """

    def __init__(self, bits: int, radii: list[int], rows: np.ndarray, offsets: np.ndarray) -> None:
        self.bits = bits
        self.radii = list(radii)
        self.rows = rows
        self.offsets = offsets
        masks = [_flip_masks(bits, radius) for radius in self.radii]
        self.probe_table = np.concatenate(
            [np.full(len(m), j, dtype=np.int64) for j, m in enumerate(masks)]
        )
        self.probe_mask = np.concatenate(masks)
        self.probe_base = self.probe_table << bits
        self.powers = (1 << np.arange(bits - 1, -1, -1)).astype(np.int64)

    @property
    def count(self) -> int:
        return len(self.radii)

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.offsets.nbytes

    @classmethod
    def build(cls, codes: np.ndarray, bits: int, radii: list[int]) -> _Tables:
        n, tables = len(codes), len(radii)
        offset_type = np.uint32 if tables * n < 2**32 else np.int64
        rows = np.empty(tables * n, dtype=np.int32)
        offsets = np.empty((tables << bits) + 1, dtype=offset_type)
        for j in range(tables):
            keys = _substring_keys(codes, j * bits, bits).astype(np.uint32)
            rows[j * n : (j + 1) * n] = np.argsort(keys, kind="stable")
            counts = np.bincount(keys, minlength=1 << bits)
            starts = np.cumsum(counts) - counts + j * n
            offsets[j << bits : (j + 1) << bits] = starts
            del keys, counts, starts
        offsets[-1] = tables * n
        return cls(bits, radii, rows, offsets)

    def query_keys(self, queries: np.ndarray) -> np.ndarray:
        """(Q, m) substring values of the queries."""
        bits = np.unpackbits(queries, axis=1)[:, : self.count * self.bits]
        return bits.reshape(len(queries), self.count, self.bits).astype(np.int64) @ self.powers

    def candidates(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query index, row) of every row agreeing with a query within its tables' radii."""
        keys = self.query_keys(queries)
        probes = ((keys[:, self.probe_table] ^ self.probe_mask) + self.probe_base).ravel()
        starts = self.offsets[probes].astype(np.int64)
        lengths = self.offsets[probes + 1].astype(np.int64) - starts
        total = int(lengths.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        # Expand every [start, start+length) range without a Python loop.
        firsts = np.cumsum(lengths) - lengths
        positions = np.repeat(starts - firsts, lengths) + np.arange(total)
        per_query = lengths.reshape(len(queries), -1).sum(axis=1)
        return np.repeat(np.arange(len(queries)), per_query), self.rows[positions]


class PdqIndex:
    """Rows of 32-byte PDQ codes; ``search`` returns every live row within a radius."""

    def __init__(self, max_radius: int = DEFAULT_MAX_RADIUS) -> None:
        self.max_radius = max_radius
        self._base = np.zeros((0, CODE_BYTES), dtype=np.uint8)  # rows [0, len(_base))
        self._tables: _Tables | None = None
        self._base_flat: _Flat | None = None
        self._delta_parts: list[np.ndarray] = []  # rows [len(_base), count)
        self._delta_rows = 0
        self._delta_flat = _Flat()
        self._alive = np.zeros(0, dtype=bool)
        self._live = 0
        self._base_source: Path | None = None  # folder the base files were loaded from

    # ------------------------------------------------------------------ size
    def __len__(self) -> int:
        return len(self._base) + self._delta_rows

    @property
    def live(self) -> int:
        return self._live

    @property
    def strategy(self) -> str:
        return "flat" if self._tables is None else "multi-index hashing"

    def memory_bytes(self) -> int:
        total = self._base.nbytes + self._alive.nbytes + self._delta_rows * CODE_BYTES * 2
        if self._tables is not None:
            total += self._tables.nbytes
        if self._base_flat is not None:
            total += len(self._base_flat) * CODE_BYTES
        return total

    # --------------------------------------------------------------- writing
    def add(self, codes: np.ndarray) -> np.ndarray:
        """Append codes (N×32 uint8); returns their row numbers. Searchable at once."""
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, CODE_BYTES)
        start = len(self)
        if not len(codes):
            return np.zeros(0, dtype=np.int64)
        if len(self._base) == 0 and not self._delta_rows and len(codes) >= MIH_MIN_ROWS:
            self._set_base(codes)  # bulk load: build the tables directly
        else:
            self._delta_parts.append(codes)
            self._delta_rows += len(codes)
            self._delta_flat.add(codes)
        self._alive = np.concatenate([self._alive, np.ones(len(codes), dtype=bool)])
        self._live += len(codes)
        if self._delta_rows > max(MIH_MIN_ROWS // 4, len(self._base) // 8):
            self.fold()
        return np.arange(start, start + len(codes), dtype=np.int64)

    def remove(self, rows: np.ndarray | list[int]) -> int:
        """Stop returning these rows; returns how many were live."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < len(self))]
        if not self._alive.flags.writeable:
            self._alive = self._alive.copy()
        was = int(self._alive[rows].sum())
        self._alive[rows] = False
        self._live -= was
        return was

    def restore(self, rows: np.ndarray | list[int]) -> int:
        """Return removed rows to the results (an entry enabled again)."""
        rows = np.asarray(rows, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < len(self))]
        if not self._alive.flags.writeable:
            self._alive = self._alive.copy()
        was_dead = int((~self._alive[rows]).sum())
        self._alive[rows] = True
        self._live += was_dead
        return was_dead

    def codes(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), CODE_BYTES), dtype=np.uint8)
        in_base = rows < len(self._base)
        out[in_base] = self._base[rows[in_base]]
        if (~in_base).any():
            delta = self._delta_codes()
            out[~in_base] = delta[rows[~in_base] - len(self._base)]
        return out

    def _delta_codes(self) -> np.ndarray:
        if len(self._delta_parts) > 1:
            self._delta_parts = [np.concatenate(self._delta_parts)]
        return self._delta_parts[0] if self._delta_parts else self._base[:0]

    def fold(self) -> None:
        """Merge the delta into the base and rebuild the tables (rows keep their numbers)."""
        if not self._delta_rows:
            return
        self._set_base(np.concatenate([self._base, self._delta_codes()]))
        self._delta_parts = []
        self._delta_rows = 0
        self._delta_flat = _Flat()

    def _set_base(self, codes: np.ndarray) -> None:
        # Every base row stays in the tables, removed ones included: the alive flags
        # filter them, so enabling an entry again needs no rebuild.
        self._base = codes
        self._base_source = None
        self._tables = None
        self._base_flat = None
        if len(codes) < MIH_MIN_ROWS:
            self._base_flat = _Flat()
            self._base_flat.add(codes)
            return
        _tables, bits, radii = plan_tables(len(codes), self.max_radius)
        self._tables = _Tables.build(codes, bits, radii)

    # ---------------------------------------------------------------- search
    def search(
        self, queries: np.ndarray, radius: int = DEFAULT_MAX_RADIUS
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, row, distance) of every live row within ``radius``, sorted."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, CODE_BYTES)
        parts = []
        if self._tables is not None and radius <= self.max_radius:
            starts = range(0, len(queries), _BATCH)

            def chunk(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                q, r, d = self._search_tables(queries[start : start + _BATCH], radius)
                return q + start, r, d

            threads = min(len(starts), os.cpu_count() or 1, 8)
            if threads > 1:  # numpy releases the GIL in the gathers: chunks run side by side
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    parts.extend(pool.map(chunk, starts))
            else:
                parts.extend(map(chunk, starts))
        elif self._tables is not None:
            parts.append(self._search_base_brute(queries, radius))
        elif self._base_flat is not None:
            parts.append(self._base_flat.search(queries, radius))
        if self._delta_rows:
            q, r, d = self._delta_flat.search(queries, radius)
            parts.append((q, r + len(self._base), d))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32)
        qidx = np.concatenate([p[0] for p in parts]).astype(np.int64)
        rows = np.concatenate([p[1] for p in parts]).astype(np.int64)
        dist = np.concatenate([p[2] for p in parts]).astype(np.int32)
        keep = self._alive[rows]
        qidx, rows, dist = qidx[keep], rows[keep], dist[keep]
        order = np.lexsort((rows, dist, qidx))
        return qidx[order], rows[order], dist[order]

    def _search_tables(
        self, queries: np.ndarray, radius: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self._tables is not None
        qidx, rows = self._tables.candidates(queries)
        if not len(rows):
            return qidx, rows, np.zeros(0, dtype=np.int32)
        query64 = queries.view(np.uint64).reshape(-1, 4)
        words = self._base.view(np.uint64).reshape(-1, 4)
        dist = np.bitwise_count(words[rows] ^ query64[qidx]).sum(axis=1, dtype=np.int32)
        near = dist <= radius
        qidx, rows, dist = qidx[near], rows[near].astype(np.int64), dist[near]
        if len(rows) > 1:  # a hash close on several substrings is found several times
            pair = qidx * len(self._base) + rows
            _, first = np.unique(pair, return_index=True)
            qidx, rows, dist = qidx[first], rows[first], dist[first]
        return qidx, rows, dist

    def _search_base_brute(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, ...]:
        """Radius beyond what the tables guarantee: scan the base in slices."""
        parts = []
        step = 1 << 20
        for start in range(0, len(self._base), step):
            flat = _Flat()
            flat.add(self._base[start : start + step])
            q, r, d = flat.search(queries, radius)
            parts.append((q, r + start, d))
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))

    # ----------------------------------------------------------- persistence
    def save(self, folder: Path) -> None:
        """Write the index into an empty ``folder``: .npy arrays and ``pdq-index.json``.

        Base files loaded from an earlier save and unchanged since are hard-linked,
        not rewritten; rows added since then are stored as a delta, so saving after a
        few changes to a large index costs little.
        """
        folder.mkdir(parents=True, exist_ok=True)
        tables = self._tables
        base_files = ["codes.npy"] + (
            ["tables-rows.npy", "tables-offsets.npy"] if tables is not None else []
        )
        linked = self._base_source is not None and _link_all(self._base_source, folder, base_files)
        if not linked:
            np.save(folder / "codes.npy", self._base, allow_pickle=False)
            if tables is not None:
                np.save(folder / "tables-rows.npy", tables.rows, allow_pickle=False)
                np.save(folder / "tables-offsets.npy", tables.offsets, allow_pickle=False)
        np.save(folder / "delta.npy", self._delta_codes(), allow_pickle=False)
        np.save(folder / "alive.npy", self._alive, allow_pickle=False)
        meta = {
            "format": _FORMAT,
            "rows": len(self._base),
            "delta_rows": self._delta_rows,
            "live": self._live,
            "max_radius": self.max_radius,
            "tables": None if tables is None else {"bits": tables.bits, "flip_radii": tables.radii},
        }
        (folder / "pdq-index.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> PdqIndex:
        """Open a saved index; the large arrays are memory-mapped read-only."""
        meta = json.loads((folder / "pdq-index.json").read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{folder}: not a cosea PDQ index ({meta.get('format')!r})")
        mode = "r" if mmap else None
        index = cls(max_radius=int(meta["max_radius"]))
        index._base = np.load(folder / "codes.npy", mmap_mode=mode, allow_pickle=False)
        alive = np.array(np.load(folder / "alive.npy", allow_pickle=False), dtype=bool)
        delta = np.load(folder / "delta.npy", allow_pickle=False)
        rows = int(meta["rows"])
        if len(index._base) != rows or len(alive) != rows + len(delta):
            raise ValueError(f"{folder}: index files disagree on the number of rows")
        table_meta = meta.get("tables")
        if table_meta:
            bits, radii = int(table_meta["bits"]), [int(r) for r in table_meta["flip_radii"]]
            table_rows = np.load(folder / "tables-rows.npy", mmap_mode=mode, allow_pickle=False)
            offsets = np.load(folder / "tables-offsets.npy", mmap_mode=mode, allow_pickle=False)
            if len(table_rows) != rows * len(radii) or len(offsets) != (len(radii) << bits) + 1:
                raise ValueError(f"{folder}: index tables do not fit the stored hashes")
            index._tables = _Tables(bits, radii, table_rows, offsets)
        else:
            index._base_flat = _Flat()
            index._base_flat.add(np.asarray(index._base))
        if len(delta):
            index._delta_parts = [np.ascontiguousarray(delta)]
            index._delta_rows = len(delta)
            index._delta_flat.add(delta)
        index._alive = alive
        index._live = int(alive.sum())
        index._base_source = folder if mmap else None
        return index


def _link_all(source: Path, target: Path, names: list[str]) -> bool:
    import os

    try:
        for name in names:
            os.link(source / name, target / name)
    except OSError:
        for name in names:
            (target / name).unlink(missing_ok=True)
        return False
    return True


def brute_force(
    codes: np.ndarray, queries: np.ndarray, radius: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reference answer with FAISS's exhaustive search (tests and benchmarks)."""
    flat = _Flat()
    flat.add(codes)
    qidx, rows, dist = flat.search(np.ascontiguousarray(queries, dtype=np.uint8), radius)
    order = np.lexsort((rows, dist, qidx))
    return qidx[order], rows[order], dist[order]
