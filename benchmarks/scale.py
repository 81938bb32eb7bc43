"""Scale-out throughput: chat analysis and triage on 1, 2 and 4 local Dask workers.

    .venv/bin/python benchmarks/scale.py                      # 1,000,000 messages, 20,000 files
    .venv/bin/python benchmarks/scale.py --messages 100000 --conversations 5000 \\
        --files 2000 --size-gb 0.05                           # a few minutes less
    .venv/bin/python benchmarks/scale.py --skip-triage --workers 1,2

Prints, in one run:

1. **Chat analysis**: a synthetic JSON Lines stream (benign-style chatter with
   occasional warning-sign phrases; the generator of ``chats_throughput.py``) analysed
   by ``cosea.scale.analyze_chats`` on a ``LocalCluster`` of N worker processes (one
   thread each) for each N, predictions written to a SQLite database; beside it, the
   same stream through the plain single-process analyser in this process (no Dask) as
   the baseline. Messages/s, and the ratios against 1 worker and against the baseline.
2. **Triage**: a generated corpus of benign files (the builder of
   ``triage_speed.py``: pictures with EXIF, documents, media blobs, zip and tar.gz
   archives) scanned into a fresh case by ``cosea.scale.scan_on_cluster`` for each N,
   beside the scanner's own single-process scan (``--workers 1``). Files/s and ratios.
3. The capacity arithmetic for a platform of 1 billion messages a day from the
   single-process rate (messages/s per core).

Timings are wall times of the distributed call alone: each cluster is started and its
workers warmed (imports, recognizers compiled) before the clock starts, and that
start-up is printed separately. This machine's core count and load are printed too:
more worker processes than free cores cannot run faster.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEAK_FACTOR = 3.0  # busiest second of the day against the daily average
HEADROOM = 0.7  # plan to run cores at 70 %: retries, rebalancing, a lost node


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _warm() -> int:
    from cosea.chats.analysis import ConversationAnalyzer
    from cosea.triage.analyze import AnalysisSettings, Analyzer

    ConversationAnalyzer()
    Analyzer(AnalysisSettings(), lambda message: None)
    return os.getpid()


def _sample_items(corpus: Path, per_kind: int = 4) -> list[Any]:
    """A few files of each kind, for workers to analyse once before the clock starts."""
    from cosea.triage.analyze import DiskItem
    from cosea.triage.walk import walk_source

    chosen: dict[str, list[Any]] = {}
    for found in walk_source(corpus, lambda *_: None):
        kind = Path(found.path).suffix
        if len(chosen.setdefault(kind, [])) < per_kind:
            chosen[kind].append(
                DiskItem(
                    found.path,
                    str(corpus),
                    found.size,
                    found.mtime_ns,
                    found.ctime_ns,
                    found.atime_ns,
                )
            )
    return [item for items in chosen.values() for item in items]


def _cluster(workers: int, sample: list[Any] | None = None) -> tuple[Any, Any, float]:
    from distributed import Client, LocalCluster

    from cosea.scale.triage import analyse_batch
    from cosea.triage.analyze import AnalysisSettings

    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    client = Client(cluster)
    client.wait_for_workers(workers)
    addresses = list(client.scheduler_info(n_workers=-1)["workers"])
    client.gather(
        [
            client.submit(_warm, workers=[a], allow_other_workers=False, pure=False)
            for a in addresses
        ]
    )
    if sample:  # first use of each file type's libraries, off the clock
        settings = AnalysisSettings(vpdq=False)
        warming = [
            client.submit(analyse_batch, sample, settings, workers=[a], pure=False)
            for a in addresses
        ]
        client.gather(warming)
    return cluster, client, time.perf_counter() - started


def _single_process_chats(path: Path) -> tuple[int, float, float]:
    from cosea.chats.analysis import StreamStats, analyze_stream
    from cosea.chats.io import stream_messages

    _warm()
    stats = StreamStats()
    started, cpu = time.perf_counter(), time.process_time()
    for _ in analyze_stream(stream_messages([path], reader="jsonl"), stats=stats):
        pass
    return stats.messages, time.perf_counter() - started, time.process_time() - cpu


def bench_chats(args: argparse.Namespace, work: Path, counts: list[int]) -> dict[str, Any]:
    from cosea.scale import analyze_chats

    generate = _load("chats_throughput").generate
    path = work / "stream.jsonl"
    print(f"generating {args.messages:,} messages in {args.conversations:,} conversations ...")
    generate(path, args.messages, args.conversations, seed=11, warning_rate=0.02)
    size = path.stat().st_size
    messages, seconds, cpu = _single_process_chats(path)
    baseline = messages / seconds
    print(
        f"  {size / 1e6:,.0f} MB; single process (no Dask): {baseline:,.0f} messages/s, "
        f"{messages / cpu:,.0f} per CPU-second"
    )
    rows = []
    for n in counts:
        cluster, client, startup = _cluster(n)
        try:
            database = f"sqlite:///{work / f'chats-{n}.db'}"
            started = time.perf_counter()
            run = analyze_chats([path], scheduler=client, database_url=database)
            seconds = time.perf_counter() - started
        finally:
            client.close()
            cluster.close()
        assert run.messages == messages, (run.messages, messages)
        rate = run.messages / seconds
        rows.append(
            {
                "workers": n,
                "seconds": seconds,
                "rate": rate,
                "cpu_rate": run.messages / run.cpu_seconds,
                "startup": startup,
                "shards": run.shards,
                "alerts": run.alerts,
            }
        )
        print(f"  {n} worker(s): {rate:,.0f} messages/s ({seconds:.1f} s, {run.shards} shards)")
    return {
        "messages": messages,
        "bytes": size,
        "baseline": baseline,
        "baseline_cpu_rate": messages / cpu,
        "runs": rows,
    }


def _single_process_scan(corpus: Path, cases: Path) -> tuple[int, float, float]:
    from cosea.triage.analyze import AnalysisSettings
    from cosea.triage.scanner import ScanOptions, scan

    options = ScanOptions(
        case="baseline", sources=[corpus], cases_dir=cases, workers=1,
        analysis=AnalysisSettings(vpdq=False),
    )  # fmt: skip
    started, cpu = time.perf_counter(), time.process_time()
    summary = scan(options, progress=False)
    return summary.stored, time.perf_counter() - started, time.process_time() - cpu


def bench_triage(args: argparse.Namespace, work: Path, counts: list[int]) -> dict[str, Any]:
    from cosea.scale import scan_on_cluster
    from cosea.triage.analyze import AnalysisSettings
    from cosea.triage.scanner import ScanOptions

    build_corpus = _load("triage_speed").build_corpus
    corpus = work / "corpus"
    print(f"building a corpus of {args.files:,} files ({args.size_gb} GB) ...")
    built = build_corpus(corpus, args.files, args.size_gb)
    cases = work / "cases"
    for path in corpus.rglob("*"):  # warm the page cache once
        if path.is_file():
            path.read_bytes()
    stored, seconds, cpu = _single_process_scan(corpus, cases)
    baseline = stored / seconds
    print(f"  {built['files']:,} files ({stored:,} records with archive members), "
          f"{built['bytes'] / 1e6:,.0f} MB; single process: {baseline:,.1f} files/s")  # fmt: skip
    sample = _sample_items(corpus)
    rows = []
    for n in counts:
        cluster, client, startup = _cluster(n, sample)
        try:
            options = ScanOptions(
                case=f"workers-{n}", sources=[corpus], cases_dir=cases,
                analysis=AnalysisSettings(vpdq=False),
            )  # fmt: skip
            stats: dict[str, float] = {}
            started = time.perf_counter()
            summary = scan_on_cluster(options, client, progress=False, stats=stats)
            seconds = time.perf_counter() - started
        finally:
            client.close()
            cluster.close()
        assert summary.stored == stored, (summary.stored, stored)
        rate = summary.stored / seconds
        rows.append(
            {
                "workers": n,
                "seconds": seconds,
                "rate": rate,
                "cpu_rate": summary.stored / stats["cpu_seconds"],
                "startup": startup,
            }
        )
        print(f"  {n} worker(s): {rate:,.1f} files/s ({seconds:.1f} s)")
    return {
        "files": built["files"],
        "records": stored,
        "bytes": built["bytes"],
        "baseline": baseline,
        "baseline_cpu_rate": stored / cpu,
        "runs": rows,
    }


def _table(title: str, unit: str, result: dict[str, Any]) -> None:
    """Wall-clock rates and ratios, and the rate per CPU-second (independent of load)."""
    runs = result["runs"]
    one = next((r["rate"] for r in runs if r["workers"] == 1), runs[0]["rate"])
    print(f"\n{title}")
    header = ("workers", unit, "vs 1 worker", "vs 1 process", "per CPU-s", "time", "start-up")
    print("  " + "  ".join(f"{h:>12}" for h in header))
    cells = ["1 process", f"{result['baseline']:,.1f}", "", "1.00x",
             f"{result['baseline_cpu_rate']:,.1f}", "", "(no Dask)"]  # fmt: skip
    print("  " + "  ".join(f"{c:>12}" for c in cells))
    for run in runs:
        cells = [
            str(run["workers"]),
            f"{run['rate']:,.1f}",
            f"{run['rate'] / one:.2f}x",
            f"{run['rate'] / result['baseline']:.2f}x",
            f"{run['cpu_rate']:,.1f}",
            f"{run['seconds']:.1f}s",
            f"{run['startup']:.1f}s",
        ]
        print("  " + "  ".join(f"{c:>12}" for c in cells))


def capacity(per_core: float, per_day: float = 1e9) -> dict[str, float]:
    average = per_day / 86_400
    peak = average * PEAK_FACTOR
    cores = peak / (per_core * HEADROOM)
    return {"average": average, "peak": peak, "per_core": per_core, "cores": cores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--size-gb", type=float, default=0.5)
    parser.add_argument("--workers", default="1,2,4", help="Worker counts to measure.")
    parser.add_argument("--skip-chats", action="store_true")
    parser.add_argument("--skip-triage", action="store_true")
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{cores} cores available, load average {load:.1f}; worker counts {counts}")
    work = Path(tempfile.mkdtemp(prefix="cosea-scale-bench-"))
    os.environ["COSEA_HOME"] = str(work / "home")
    figures: dict[str, Any] = {"cores": cores, "load_before": load}
    try:
        if not args.skip_chats:
            figures["chats"] = bench_chats(args, work, counts)
        if not args.skip_triage:
            figures["triage"] = bench_triage(args, work, counts)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures["load_after"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    if "chats" in figures:
        _table("Chat analysis (messages/s)", "messages/s", figures["chats"])
    if "triage" in figures:
        _table("Triage scan (files/s, archive members included)", "files/s", figures["triage"])
    if "chats" in figures:
        plan = capacity(figures["chats"]["baseline_cpu_rate"])
        figures["capacity"] = plan
        print(
            "\nCapacity for 1,000,000,000 messages a day: "
            f"{plan['average']:,.0f} messages/s on average, {plan['peak']:,.0f} at a peak "
            f"factor of {PEAK_FACTOR:g}; at {plan['per_core']:,.0f} messages per CPU-second and "
            f"{HEADROOM:.0%} target use, {plan['cores']:,.1f} cores at peak."
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
