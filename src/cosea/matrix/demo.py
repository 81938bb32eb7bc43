"""The matrix step of ``cosea demo``: write the browsable matrix and its STIX bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console


def run_demo(out: Path, console: Console, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """Write ``matrix.html``, the STIX bundle and a Navigator layer into ``out``.

    ``counts`` (technique id -> observations, e.g. from the chats step) turns the
    HTML into a heatmap and scores the layer. Returns what was written, for the
    demo summary.
    """
    from cosea.matrix import export_matrix, load, render_html

    matrix = load()
    out.mkdir(parents=True, exist_ok=True)
    title = "COSEA matrix: techniques seen in the demo" if counts else None
    html_path = out / "matrix.html"
    html_path.write_text(render_html(matrix, counts, title=title), encoding="utf-8")
    stix_path = out / "cosea-matrix.stix.json"
    stix_path.write_text(export_matrix(matrix, "stix"), encoding="utf-8")
    layer_path = out / "cosea-matrix.layer.json"
    layer_path.write_text(export_matrix(matrix, "navigator", counts), encoding="utf-8")

    console.print(
        f"[bold]matrix[/] {matrix.name} {matrix.version}: {len(matrix.tactics)} tactics, "
        f"{len(matrix.techniques)} techniques, {len(matrix.mitigations)} mitigations, "
        f"{len(matrix.stakeholders)} stakeholders"
    )
    console.print(f"  open {html_path} in a browser; STIX 2.1 bundle: {stix_path}")
    return {
        "tactics": len(matrix.tactics),
        "techniques": len(matrix.techniques),
        "mitigations": len(matrix.mitigations),
        "stakeholders": len(matrix.stakeholders),
        "html": html_path,
        "stix": stix_path,
        "navigator": layer_path,
        "heatmap": counts is not None,
    }
