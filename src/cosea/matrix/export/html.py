"""Self-contained HTML matrix: tactics as columns in kill-chain order, techniques as cells.

One file, no network: styles, script and data are inline. Hovering a technique
shows its scope and description; clicking opens a panel with indicators, data
sources, detection notes, related techniques and the mitigations of every
stakeholder. With counts, cells become a heatmap with a legend. The grid is plain
HTML, so the matrix is readable with scripts off and in print.

``render_html`` is shared with the reviewer console and triage reports.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cosea.matrix.export import register_exporter
from cosea.matrix.matrix import Matrix

#: Heat levels 1..5 (level 0 is "not observed"): pale yellow to deep red.
HEAT = ["#f4f5f7", "#fee8a6", "#fdb863", "#f4743b", "#d7301f", "#8f0d0d"]
#: Tactic accents along the kill chain, from cool (approach) to hot (harm).
ACCENTS = [
    "#2b6cb0",
    "#3c5fb5",
    "#5a50b3",
    "#7446ad",
    "#8f3ea3",
    "#a93694",
    "#c02f7d",
    "#cf3563",
    "#b94a48",
    "#8e5a3c",
]


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("cosea.matrix", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def heat_level(count: int, highest: int) -> int:
    """0 when not observed, else 1..5 by share of the highest count (rounded up)."""
    if count <= 0 or highest <= 0:
        return 0
    return max(1, min(5, math.ceil(5 * count / highest)))


def _legend(highest: int) -> list[dict[str, Any]]:
    bins = [{"label": "not observed", "color": HEAT[0], "level": 0}]
    for level in range(1, 6):
        low = math.floor(highest * (level - 1) / 5) + 1
        high = math.floor(highest * level / 5)
        if high < low:
            continue
        label = str(low) if low == high else f"{low}–{high}"
        bins.append({"label": label, "color": HEAT[level], "level": level})
    return bins


def _accent(order: int, total: int) -> str:
    if total <= 1:
        return ACCENTS[0]
    index = round((order - 1) * (len(ACCENTS) - 1) / (total - 1))
    return ACCENTS[index]


def _data(matrix: Matrix, counts: dict[str, int] | None) -> dict[str, Any]:
    """Everything the details panel shows, keyed for the page script."""
    return {
        "tactics": {
            t.id: {
                "id": t.id,
                "name": t.name,
                "order": matrix.tactic_order(t.id),
                "scope": t.scope,
                "description": t.description,
                "stages": [
                    {"model": matrix.research_models[s.model].name, "stage": s.stage}
                    for s in t.research_stages
                ],
                "references": t.references,
                "techniques": [x.id for x in matrix.techniques_of(t.id)],
            }
            for t in matrix.tactics
        },
        "techniques": {
            t.id: {
                "id": t.id,
                "tactic": t.tactic,
                "name": t.name,
                "scope": t.scope,
                "description": t.description,
                "indicators": list(t.indicators),
                "data_sources": [matrix.data_sources[s].name for s in t.data_sources],
                "detection": t.detection,
                "related": list(t.related),
                "mitigations": list(t.mitigations),
                "references": t.references,
                "count": None if counts is None else counts.get(t.id, 0),
            }
            for t in matrix.techniques.values()
        },
        "mitigations": {
            m.id: {
                "id": m.id,
                "name": m.name,
                "description": m.description,
                "kind": m.kind,
                "stakeholders": list(m.stakeholders),
            }
            for m in matrix.mitigations.values()
        },
        "stakeholders": {
            s.id: {"id": s.id, "name": s.name, "role": s.role} for s in matrix.stakeholders.values()
        },
        "references": {r.key: r.citation for r in matrix.references.values()},
    }


def render_html(
    matrix: Matrix,
    counts: dict[str, int] | None = None,
    title: str | None = None,
    *,
    subtitle: str | None = None,
) -> str:
    """The matrix as one self-contained HTML page (a heatmap when counts are given)."""
    highest = max(counts.values(), default=0) if counts else 0
    total = len(matrix.tactics)
    columns = []
    for tactic in matrix.tactics:
        order = matrix.tactic_order(tactic.id)
        cells = []
        for technique in matrix.techniques_of(tactic.id):
            count = counts.get(technique.id, 0) if counts is not None else None
            cells.append(
                {
                    "technique": technique,
                    "count": count,
                    "level": heat_level(count or 0, highest) if counts is not None else None,
                    "stakeholders": " ".join(
                        sorted(
                            {
                                s
                                for m in technique.mitigations
                                for s in matrix.mitigations[m].stakeholders
                            }
                        )
                    ),
                }
            )
        observed = sum(c["count"] or 0 for c in cells) if counts is not None else None
        columns.append(
            {
                "tactic": tactic,
                "order": order,
                "accent": _accent(order, total),
                "cells": cells,
                "observed": observed,
            }
        )
    data = json.dumps(_data(matrix, counts), ensure_ascii=False, separators=(",", ":"))
    template = _environment().get_template("matrix.html.j2")
    return template.render(
        matrix=matrix,
        title=title or matrix.name,
        subtitle=subtitle,
        columns=columns,
        counts=counts,
        highest=highest,
        heat=HEAT,
        legend=_legend(highest) if counts is not None else [],
        stakeholders=list(matrix.stakeholders.values()),
        total_observed=sum(counts.values()) if counts else 0,
        # "</script>" or "<!--" inside the data would break out of the inline script;
        # "<" only occurs inside JSON strings, where "\u003c" means the same.
        data_json=data.replace("<", "\\u003c"),
    )


@register_exporter(
    "html",
    suffix=".html",
    media_type="text/html",
    description="self-contained interactive matrix; heatmap from --counts",
)
def export_html(
    matrix: Matrix, counts: dict[str, int] | None = None, *, title: str | None = None, **_: Any
) -> str:
    return render_html(matrix, counts, title=title)
