"""The matrix step of ``cosea demo``."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from cosea.matrix.demo import run_demo


def test_run_demo_writes_html_stix_and_layer(tmp_path: Path) -> None:
    console = Console(record=True, width=120)
    summary = run_demo(tmp_path / "demo", console)
    assert summary["techniques"] == 34 and summary["heatmap"] is False
    assert summary["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bundle = json.loads(summary["stix"].read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle"
    assert "matrix.html" in console.export_text()


def test_run_demo_with_counts_makes_a_heatmap(tmp_path: Path) -> None:
    summary = run_demo(tmp_path, Console(file=None, quiet=True), counts={"T0401": 2})
    assert summary["heatmap"] is True
    assert 'class="legend"' in summary["html"].read_text(encoding="utf-8")
    layer = json.loads(Path(summary["navigator"]).read_text(encoding="utf-8"))
    assert {t["techniqueID"]: t["score"] for t in layer["techniques"]}["T0401"] == 2
