"""``make bench`` (benchmarks/run_all.py) knows every benchmark; none is run here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def listed_in_help() -> dict[str, str]:
    """``name -> quick options`` from the list at the end of ``run_all.py --help``."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "run_all.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listing = done.stdout.split("benchmarks (in the order they run):", 1)[1]
    return dict(re.findall(r"^\s+(\w+)\s+--quick: (.*)$", listing, re.MULTILINE))


def test_run_all_lists_every_benchmark_script_in_the_folder() -> None:
    scripts = {
        path.stem
        for path in BENCHMARKS.glob("*.py")
        if not path.name.startswith("_") and path.name != "run_all.py"
    }
    assert scripts, "no benchmark scripts found"
    assert set(listed_in_help()) == scripts


def test_every_quick_option_is_one_its_benchmark_accepts() -> None:
    for name, options in listed_in_help().items():
        source = (BENCHMARKS / f"{name}.py").read_text()
        flags = [word for word in options.split() if word.startswith("--")]
        assert flags, f"{name} has no --quick options: the quick suite would run it full size"
        for flag in flags:
            assert re.search(rf"add_argument\(\s*\"{re.escape(flag)}\"", source), (name, flag)
