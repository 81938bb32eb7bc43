"""Speed and size of media hashing and PDQ matching, beside baselines run in the same process.

    .venv/bin/python benchmarks/media_speed.py [--files 120] [--n 10000000] [--queries 1000]

1. PDQ pictures/second on one core: cosea (reduced JPEG decoding + PDQ's filter reproduced
   for the full size) against a bare loop over the same JPEG files (full Pillow decode +
   ``pdqhash.compute``), the hash drift between the two, and the speed-up with 2 processes.
   Goals: cosea >= 2x the bare loop; drift median <= 4 bits, max <= 16.
2. SHA-256 MB/s through ``cosea.media.hashing`` against plain ``hashlib`` (goal >= 0.9x).
3. PDQ index over ``--n`` random hashes (default 10 million): build time, resident memory,
   single-query p50/p99 and batch queries/second at distance 31, against brute force
   (``faiss.IndexBinaryFlat``) and python-threatexchange's ``PDQIndex`` (the index HMA
   uses: FAISS multi-index hashing), on the same queries (stored hashes with 0-31 bits
   flipped, and unrelated hashes). Each index is measured in its own process so resident
   memory is its own. Goals: identical results to brute force; >= 5x brute-force and
   >= 2x threatexchange batch throughput; p50 <= 5 ms; memory <= 1 GB.
4. ``--compare-faiss N``: FAISS's other binary indexes at N hashes (multi-index hashing,
   IndexBinaryHash, HNSW) for recall and speed: why cosea uses its own tables.

Benign data only: the JPEGs are crops of scikit-image's sample photographs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

RADIUS = 31


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def limit_blas() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


# --- 1 and 2: hashing files ------------------------------------------------------------


def bare_pdq(path: Path) -> str:
    import pdqhash
    from PIL import Image

    with Image.open(path) as image:
        bits, _quality = pdqhash.compute(np.asarray(image.convert("RGB")))
    return np.packbits(bits).tobytes().hex()


def interleaved(runs: int, first, second) -> tuple[float, object, float, object]:
    """Best time of each of two functions, run alternately (and in alternating order)
    so that load on a shared machine falls on both alike."""
    best, _ratio, results = _paired(runs, first, second)
    return best[0], results[0], best[1], results[1]


def _paired(runs: int, first, second) -> tuple[list[float], float, list[object]]:
    best = [float("inf"), float("inf")]
    results: list[object] = [None, None]
    ratios = []
    for run in range(runs):
        times = [0.0, 0.0]
        order = (0, 1) if run % 2 == 0 else (1, 0)
        for slot in order:
            started = time.perf_counter()
            results[slot] = (first, second)[slot]()
            times[slot] = time.perf_counter() - started
            best[slot] = min(best[slot], times[slot])
        ratios.append(times[0] / times[1])
    return best, statistics.median(ratios), results


def paired_ratio(runs: int, first, second) -> tuple[float, float, float, object, object]:
    """(best time of first, best of second, median of per-run time ratios first/second,
    results): the ratio of back-to-back runs is steadier than a ratio of bests."""
    best, ratio, results = _paired(runs, first, second)
    return best[0], best[1], ratio, results[0], results[1]


def best_of(runs: int, function) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def hashing_benchmarks(args: argparse.Namespace) -> dict[str, object]:
    from _images import write_speed_corpus

    folder = Path(args.corpus)
    size = tuple(int(v) for v in args.size.split("x"))
    files = write_speed_corpus(folder, count=args.files, size=size)
    total_bytes = sum(p.stat().st_size for p in files)
    for path in files:  # warm the page cache: both sides read from memory
        path.read_bytes()
    print(f"corpus: {len(files)} JPEG files, {size[0]}x{size[1]}, {total_bytes / 1e6:.0f} MB")

    limit_blas()  # one core each, as the per-core figure asks
    out: dict[str, object] = {}
    if not args.skip_pdq:
        out["pdq"] = pdq_benchmarks(args, files)
    out["sha256"] = sha_benchmarks(args, files, total_bytes)
    return out


def pdq_benchmarks(args: argparse.Namespace, files: list[Path]) -> dict[str, object]:
    from cosea.media.hashing import hash_file, hash_paths
    from cosea.media.signals.pdq import hamming

    bare_s, bare_hashes, cosea_s, cosea_results = interleaved(
        args.runs,
        lambda: [bare_pdq(p) for p in files],
        lambda: [hash_file(p, ("pdq",)) for p in files],
    )
    drift = [hamming(a, r.pdq) for a, r in zip(bare_hashes, cosea_results, strict=True)]
    one_s, _, two_s, _ = interleaved(
        args.runs,
        lambda: list(hash_paths(files, ("pdq",), workers=1)),
        lambda: list(hash_paths(files, ("pdq",), workers=2)),
    )
    pdq = {
        "bare_images_per_s": len(files) / bare_s,
        "cosea_images_per_s": len(files) / cosea_s,
        "ratio": bare_s / cosea_s,
        "drift_median": statistics.median(drift),
        "drift_p95": float(np.percentile(drift, 95)),
        "drift_max": max(drift),
        "one_process_images_per_s": len(files) / one_s,
        "two_processes_images_per_s": len(files) / two_s,
        "two_process_speedup": one_s / two_s,
    }
    print(f"\nPDQ, one core (best of {args.runs} runs)")
    print(f"  bare pdqhash loop (full decode) {pdq['bare_images_per_s']:8.1f} images/s")
    print(f"  cosea (reduced decode)          {pdq['cosea_images_per_s']:8.1f} images/s"
          f"   {pdq['ratio']:.1f}x the bare loop")  # fmt: skip
    print(f"  drift vs full decoding: median {pdq['drift_median']:.0f}, "
          f"p95 {pdq['drift_p95']:.0f}, max {pdq['drift_max']} bits")  # fmt: skip
    print(f"  hash_paths 1 process {pdq['one_process_images_per_s']:.1f}/s, "
          f"2 processes {pdq['two_processes_images_per_s']:.1f}/s: "
          f"{pdq['two_process_speedup']:.2f}x (cores: {os.cpu_count()})")  # fmt: skip

    # How small may the reduced decode be? Smaller is faster but drifts further.
    print("  reduced-decode size (short side >= N pixels): speed and drift vs full decoding")
    for min_side in (96, 128, 192, 256, 384):
        seconds, results = best_of(
            1, lambda m=min_side: [hash_file(p, ("pdq",), min_side=m) for p in files]
        )
        bits = [hamming(a, r.pdq) for a, r in zip(bare_hashes, results, strict=True)]
        chosen = " (default)" if min_side == 256 else ""
        print(f"    {min_side:>4}: {len(files) / seconds:7.1f} images/s, drift median "
              f"{statistics.median(bits):.0f}, max {max(bits)} bits{chosen}")  # fmt: skip

    return pdq


def sha_benchmarks(
    args: argparse.Namespace, files: list[Path], total_bytes: int
) -> dict[str, object]:
    from cosea.media.hashing import hash_file

    def plain_sha256() -> list[str]:
        out = []
        for path in files:
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            out.append(digest.hexdigest())
        return out

    def three_passes(function):  # ~0.2-0.5 s per timing: long enough to time on a busy machine
        return lambda: [function() for _ in range(3)][-1]

    plain_s, ours_s, ratio, plain, ours = paired_ratio(
        max(12, 4 * args.runs),
        three_passes(plain_sha256),
        three_passes(lambda: [hash_file(p, ("sha256",)) for p in files]),
    )
    assert plain == [r.sha256 for r in ours]
    sha = {
        "hashlib_mb_per_s": 3 * total_bytes / plain_s / 1e6,
        "cosea_mb_per_s": 3 * total_bytes / ours_s / 1e6,
        "ratio": ratio,
    }
    three_s, _ = best_of(
        args.runs, lambda: [hash_file(p, ("md5", "sha1", "sha256")) for p in files]
    )
    sha["cosea_md5_sha1_sha256_mb_per_s"] = total_bytes / three_s / 1e6
    print("\nSHA-256 on the same files")
    print(f"  hashlib  {sha['hashlib_mb_per_s']:8.0f} MB/s")
    print(f"  cosea    {sha['cosea_mb_per_s']:8.0f} MB/s   {sha['ratio']:.2f}x hashlib "
          "(median of back-to-back runs)")  # fmt: skip
    print(f"  cosea md5+sha1+sha256 in one pass {sha['cosea_md5_sha1_sha256_mb_per_s']:.0f} MB/s")
    return sha


# --- 3: the index ------------------------------------------------------------------------


def make_codes(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32), dtype=np.uint8)


def make_queries(codes: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Half: stored hashes with 0-31 bits flipped; half: unrelated random hashes."""
    rng = np.random.default_rng(seed + 1)
    near = codes[rng.integers(0, len(codes), count // 2)].copy()
    bits = np.unpackbits(near, axis=1)
    for row in bits:
        row[rng.choice(256, int(rng.integers(0, RADIUS + 1)), replace=False)] ^= 1
    far = rng.integers(0, 256, (count - count // 2, 32), dtype=np.uint8)
    return np.concatenate([np.packbits(bits, axis=1), far])


def index_worker(system: str, n: int, seed: int, count: int, singles: int, out: Path) -> None:
    """Build one index and time it; writes results and found pairs under ``out``."""
    base_rss = rss_mb()
    codes = make_codes(n, seed)
    queries = make_queries(codes, count, seed)
    result: dict[str, object] = {"system": system, "base_rss_mb": base_rss}
    started = time.perf_counter()
    if system == "cosea":
        from cosea.media.match.pdq_index import PdqIndex

        index = PdqIndex()
        index.add(codes)
        del codes
        result["strategy"] = index.strategy
        result["index_bytes"] = index.memory_bytes()

        def batch(q: np.ndarray):
            qidx, rows, _ = index.search(q, RADIUS)
            return qidx, rows

        def single(q: np.ndarray):
            return index.search(q, RADIUS)

    elif system == "flat":
        import faiss

        index = faiss.IndexBinaryFlat(256)
        index.add(codes)
        del codes

        def batch(q: np.ndarray):
            limits, _, ids = index.range_search(q, RADIUS + 1)
            return np.repeat(np.arange(len(q)), np.diff(limits).astype(np.int64)), ids

        def single(q: np.ndarray):
            return index.range_search(q, RADIUS + 1)

    elif system == "threatexchange":
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        hexes = [bytes(row).hex() for row in codes]
        del codes
        index = PDQIndex(((h, i) for i, h in enumerate(hexes)))
        del hexes
        query_hex = [bytes(row).hex() for row in queries]

        def batch(q: np.ndarray):
            # The public API HMA calls: one query at a time.
            qidx, rows = [], []
            for number, hex_query in enumerate(query_hex):
                for match in index.query(hex_query):
                    qidx.append(number)
                    rows.append(match.metadata)
            return np.array(qidx, dtype=np.int64), np.array(rows, dtype=np.int64)

        def single(q: np.ndarray):
            return index.query(bytes(q[0]).hex())

        def batch_native(q: np.ndarray):
            return index.index.search_with_distance_in_result(query_hex, RADIUS)

    else:
        raise SystemExit(f"unknown system {system}")
    result["build_s"] = time.perf_counter() - started
    result["rss_mb"] = rss_mb() - base_rss
    batch(queries[:8])  # warm up (FAISS threads, page faults)
    started = time.perf_counter()
    qidx, rows = batch(queries)
    result["batch_qps"] = len(queries) / (time.perf_counter() - started)
    if system == "threatexchange":
        started = time.perf_counter()
        batch_native(queries)
        result["batch_native_qps"] = len(queries) / (time.perf_counter() - started)
    latencies = []
    for number in range(min(singles, len(queries))):
        one = queries[number : number + 1]
        started = time.perf_counter()
        single(one)
        latencies.append(time.perf_counter() - started)
    result["p50_ms"] = 1e3 * float(np.percentile(latencies, 50))
    result["p99_ms"] = 1e3 * float(np.percentile(latencies, 99))
    result["matches"] = len(rows)
    np.save(out / f"{system}-pairs.npy", np.stack([np.asarray(qidx), np.asarray(rows)]))
    (out / f"{system}.json").write_text(json.dumps(result))


def run_worker(system: str, args: argparse.Namespace, out: Path) -> dict[str, object]:
    command = [
        sys.executable, __file__, "--index-worker", system, "--n", str(args.n),
        "--seed", str(args.seed), "--queries", str(args.queries),
        "--singles", str(args.singles), "--out", str(out),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    result = json.loads((out / f"{system}.json").read_text())
    print(f"  {system}: done in {time.perf_counter() - started:.0f} s", flush=True)
    return result


def pair_set(out: Path, system: str) -> set[tuple[int, int]]:
    pairs = np.load(out / f"{system}-pairs.npy", allow_pickle=False)
    return set(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True))


def index_benchmarks(args: argparse.Namespace) -> dict[str, object]:
    systems = ["cosea", "flat"] + ([] if args.skip_threatexchange else ["threatexchange"])
    print(f"\nPDQ index, {args.n:,} random hashes, {args.queries:,} queries "
          f"(half within 0-31 bits of a stored hash), distance <= {RADIUS}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        results = {system: run_worker(system, args, out) for system in systems}
        truth = pair_set(out, "flat")
        for system in systems:
            found = pair_set(out, system)
            results[system]["recall"] = len(found & truth) / max(1, len(truth))
            results[system]["identical_to_brute_force"] = found == truth
    header = f"  {'':<16}{'build s':>9}{'memory MB':>11}{'batch q/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
    print(header + f"{'recall':>8}{'identical':>10}")
    for system, row in results.items():
        print(
            f"  {system:<16}{row['build_s']:>9.1f}{row['rss_mb']:>11,.0f}{row['batch_qps']:>11,.0f}"
            f"{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}{row['recall']:>8.3f}"
            f"{'yes' if row['identical_to_brute_force'] else 'NO':>10}"
        )
    cosea = results["cosea"]
    print(f"  cosea strategy: {cosea['strategy']}; arrays {cosea['index_bytes'] / 1e6:,.0f} MB; "
          f"process baseline before the index {cosea['base_rss_mb']:.0f} MB")  # fmt: skip
    print(f"  cosea batch throughput: {cosea['batch_qps'] / results['flat']['batch_qps']:.1f}x "
          "brute force", end="")  # fmt: skip
    if "threatexchange" in results:
        tx = results["threatexchange"]
        best_tx = max(tx["batch_qps"], tx.get("batch_native_qps", 0))
        print(f", {cosea['batch_qps'] / tx['batch_qps']:.1f}x threatexchange's PDQIndex.query "
              f"({cosea['batch_qps'] / best_tx:.1f}x its batch search "
              f"{tx.get('batch_native_qps', 0):,.0f} q/s)")  # fmt: skip
    else:
        print()
    return results


# --- 4: FAISS's own indexes -------------------------------------------------------------


def faiss_comparison(n: int, seed: int, count: int) -> None:
    import faiss

    from cosea.media.match.pdq_index import PdqIndex

    codes = make_codes(n, seed)
    queries = make_queries(codes, count, seed)
    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)
    limits, _, ids = flat.range_search(queries, RADIUS + 1)
    truth = set(
        zip(
            np.repeat(np.arange(count), np.diff(limits).astype(np.int64)).tolist(),
            ids.tolist(),
            strict=True,
        )
    )
    print(f"\nFAISS binary indexes at {n:,} hashes, {count} queries, distance <= {RADIUS}")
    print(f"  {'index':<38}{'build s':>9}{'size MB':>9}{'q/s':>9}{'recall':>8}")

    def size_mb(index) -> float:
        # Serialised size: what the index stores (a lower bound on its memory).
        if isinstance(index, PdqIndex):
            return index.memory_bytes() / 1e6
        return faiss.serialize_index_binary(index).nbytes / 1e6

    def report(label, build, search) -> None:
        started = time.perf_counter()
        index = build()
        build_s = time.perf_counter() - started
        memory = size_mb(index)
        started = time.perf_counter()
        found = search(index)
        qps = count / (time.perf_counter() - started)
        recall = len(found & truth) / max(1, len(truth))
        print(f"  {label:<38}{build_s:>9.1f}{memory:>9,.0f}{qps:>9,.0f}{recall:>8.3f}", flush=True)

    def range_pairs(index) -> set[tuple[int, int]]:
        lim, _, found = index.range_search(queries, RADIUS + 1)
        qs = np.repeat(np.arange(count), np.diff(lim).astype(np.int64))
        return set(zip(qs.tolist(), found.tolist(), strict=True))

    def build_mih():
        index = faiss.IndexBinaryMultiHash(256, 16, 16)
        index.add(codes)
        index.nflip = RADIUS // 16  # exact by the pigeonhole principle
        return index

    report("IndexBinaryFlat (brute force)", lambda: flat, range_pairs)
    report("IndexBinaryMultiHash 16x16, nflip 1", build_mih, range_pairs)

    def build_hash():
        index = faiss.IndexBinaryHash(256, 24)
        index.add(codes)
        index.nflip = 2
        return index

    report("IndexBinaryHash b=24, nflip 2", build_hash, range_pairs)

    def build_hnsw():
        index = faiss.IndexBinaryHNSW(256, 16)
        index.hnsw.efSearch = 128
        index.add(codes)
        return index

    def knn_pairs(index) -> set[tuple[int, int]]:
        distances, found = index.search(queries, 10)
        pairs = set()
        for q in range(count):
            for d, i in zip(distances[q], found[q], strict=True):
                if i >= 0 and d <= RADIUS:
                    pairs.add((q, int(i)))
        return pairs

    if n <= 250_000:  # graph construction takes minutes beyond this on two cores
        report("IndexBinaryHNSW M=16, ef 128, k=10", build_hnsw, knn_pairs)
    else:
        print("  IndexBinaryHNSW: skipped above 250,000 hashes (run --compare-faiss 200000)")

    def build_cosea():
        index = PdqIndex()
        index.add(codes)
        return index

    def cosea_pairs(index) -> set[tuple[int, int]]:
        qidx, rows, _ = index.search(queries, RADIUS)
        return set(zip(qidx.tolist(), rows.tolist(), strict=True))

    report("cosea PdqIndex (numpy multi-index)", build_cosea, cosea_pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=120, help="JPEG files for sections 1-2")
    parser.add_argument("--size", default="2048x1536", help="JPEG size, WIDTHxHEIGHT")
    parser.add_argument("--corpus", default=str(Path(tempfile.gettempdir()) / "cosea-speed-jpegs"))
    parser.add_argument("--runs", type=int, default=2, help="timing runs (best is kept)")
    parser.add_argument("--n", type=int, default=10_000_000, help="hashes in the index")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--singles", type=int, default=200, help="single-query latency samples")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-hashing", action="store_true")
    parser.add_argument("--skip-pdq", action="store_true", help="SHA-256 part of 1-2 only")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--skip-threatexchange", action="store_true")
    parser.add_argument("--compare-faiss", type=int, default=0, metavar="N",
                        help="also compare FAISS's binary indexes at N hashes")  # fmt: skip
    parser.add_argument("--index-worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.index_worker:
        index_worker(
            args.index_worker, args.n, args.seed, args.queries, args.singles, Path(args.out)
        )
        return
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    if not args.skip_hashing:
        hashing_benchmarks(args)
    if not args.skip_index:
        index_benchmarks(args)
    if args.compare_faiss:
        faiss_comparison(args.compare_faiss, args.seed, args.queries)


if __name__ == "__main__":
    main()
