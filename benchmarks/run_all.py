"""Run every benchmark in this folder, one after another, and summarise how each ended.

    .venv/bin/python benchmarks/run_all.py                 # full sizes (an hour or more)
    .venv/bin/python benchmarks/run_all.py --quick         # small sizes, a few minutes
    .venv/bin/python benchmarks/run_all.py --quick --only chats_throughput,lists_import

Each benchmark runs as its own process with this interpreter, so one that crashes or
runs out of memory cannot take the others with it, and its figures (resident memory
above all) are its own. Its output is printed as it comes; a table of exit statuses
and wall times follows, and the exit status is 1 when any benchmark failed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: Every benchmark, in the order they run, with the options ``--quick`` passes (each
#: script's own small sizes). A new benchmark belongs here: tests/foundation checks it.
BENCHMARKS: dict[str, str] = {
    "chats_throughput": "--messages 100000 --conversations 5000",
    "media_speed": "--files 20 --runs 1 --n 100000 --queries 200 --singles 50",
    "media_robustness": "--generated 20",
    "lists_import": "--entries 100000",
    "triage_speed": "--files 2000 --size-gb 0.2 --repeat 1",
    "service_load": "--requests 2000 --conversations 200",
    "scale": "--messages 100000 --conversations 5000 --files 2000 --size-gb 0.05 --workers 1,2",
}


@dataclass
class Outcome:
    name: str
    status: str  # "ok", "exit N", "signal NAME", "interrupted", "not run"
    seconds: float

    @property
    def failed(self) -> bool:
        return self.status != "ok"


def scripts_in_folder() -> list[str]:
    """Benchmark scripts on disk: ``*.py`` here but helpers (``_*.py``) and this runner."""
    return sorted(
        path.stem
        for path in HERE.glob("*.py")
        if not path.name.startswith("_") and path.name != Path(__file__).name
    )


def _describe(returncode: int) -> str:
    if returncode == 0:
        return "ok"
    if returncode < 0:
        import signal

        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit {returncode}"


def run_one(name: str, quick: bool) -> Outcome:
    options = shlex.split(BENCHMARKS[name]) if quick else []
    command = [sys.executable, str(HERE / f"{name}.py"), *options]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    started = time.perf_counter()
    # Unbuffered, so the benchmark's progress shows as it happens even when piped.
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run(command, cwd=HERE.parent, env=environment, check=False)
    except KeyboardInterrupt:
        return Outcome(name, "interrupted", time.perf_counter() - started)
    return Outcome(name, _describe(done.returncode), time.perf_counter() - started)


def print_summary(outcomes: list[Outcome]) -> None:
    width = max(len("benchmark"), *(len(o.name) for o in outcomes))
    print(f"\n{'benchmark':<{width}}  {'status':<14}  {'seconds':>9}")
    print(f"{'-' * width}  {'-' * 14}  {'-' * 9}")
    for outcome in outcomes:
        print(f"{outcome.name:<{width}}  {outcome.status:<14}  {outcome.seconds:>9.1f}")
    failed = [o.name for o in outcomes if o.failed]
    total = sum(o.seconds for o in outcomes)
    verdict = f"{len(failed)} failed: {', '.join(failed)}" if failed else "all ran"
    print(f"{len(outcomes)} benchmark(s) in {total:.0f} s; {verdict}")


def parse_only(values: list[str]) -> list[str]:
    """``--only a,b --only c.py`` → the names, in the suite's order; unknown ones refused."""
    parts = (part.strip() for value in values for part in value.split(","))
    wanted = {part.removesuffix(".py") for part in parts if part}
    unknown = sorted(wanted - BENCHMARKS.keys())
    if unknown:
        raise ValueError(
            f"no benchmark named {', '.join(unknown)} (there are: {', '.join(BENCHMARKS)})"
        )
    return [name for name in BENCHMARKS if name in wanted]


def main(argv: list[str] | None = None) -> int:
    listing = "\n".join(f"  {name:<18} --quick: {options}" for name, options in BENCHMARKS.items())
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=f"benchmarks (in the order they run):\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: the whole suite in a few minutes"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these benchmarks (repeat it, or separate names with commas)",
    )
    args = parser.parse_args(argv)
    try:
        names = parse_only(args.only) if args.only else list(BENCHMARKS)
    except ValueError as error:
        parser.error(str(error))
    missing = sorted(set(scripts_in_folder()) - BENCHMARKS.keys())
    if missing:
        print(f"not run (add them to BENCHMARKS in run_all.py): {', '.join(missing)}")
    outcomes: list[Outcome] = []
    for name in names:
        outcome = run_one(name, args.quick)
        outcomes.append(outcome)
        if outcome.status == "interrupted":
            outcomes += [Outcome(rest, "not run", 0.0) for rest in names[len(outcomes) :]]
            print_summary(outcomes)
            return 130
    print_summary(outcomes)
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
