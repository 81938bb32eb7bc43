"""`make demo` runs `cosea demo`: every capability's step must succeed on the bundled data."""

from __future__ import annotations

import json

from rich.console import Console

from cosea.demo import STEPS, run


def test_demo_runs_every_step(tmp_path) -> None:
    summary = run(tmp_path / "demo-output", Console(quiet=True))
    statuses = {title: step["status"] for title, step in summary["steps"].items()}
    assert statuses == {title: "ok" for title, _module in STEPS}
    written = json.loads((tmp_path / "demo-output" / "demo-summary.json").read_text())
    assert set(written["steps"]) == set(statuses)
    assert (tmp_path / "demo-output" / "matrix.html").is_file()
    assert (tmp_path / "demo-output" / "chats-predictions.jsonl").is_file()
