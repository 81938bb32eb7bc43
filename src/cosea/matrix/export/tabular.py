"""CSV export: one row per technique, for spreadsheets and BI tools."""

from __future__ import annotations

import csv
import io
from typing import Any

from cosea.matrix.export import register_exporter
from cosea.matrix.matrix import Matrix

COLUMNS = [
    "kill_chain_order",
    "tactic_id",
    "tactic_name",
    "technique_id",
    "technique_name",
    "scope",
    "description",
    "indicators",
    "data_sources",
    "detection",
    "related",
    "mitigation_ids",
    "mitigations",
    "stakeholders",
]

# Lists inside a cell are joined with " | " so commas in the text stay readable.
_JOIN = " | "


@register_exporter(
    "csv",
    suffix=".csv",
    media_type="text/csv",
    description="one row per technique, lists joined with ' | '",
)
def export_csv(matrix: Matrix, counts: dict[str, int] | None = None, **_: Any) -> str:
    buffer = io.StringIO()
    columns = [*COLUMNS, "count"] if counts is not None else COLUMNS
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for technique in matrix.techniques.values():
        tactic = matrix.tactic(technique.tactic)
        mitigations = [matrix.mitigations[m] for m in technique.mitigations]
        stakeholders = sorted({s for m in mitigations for s in m.stakeholders})
        row = {
            "kill_chain_order": matrix.tactic_order(tactic.id),
            "tactic_id": tactic.id,
            "tactic_name": tactic.name,
            "technique_id": technique.id,
            "technique_name": technique.name,
            "scope": technique.scope,
            "description": technique.description,
            "indicators": _JOIN.join(technique.indicators),
            "data_sources": _JOIN.join(matrix.data_sources[s].name for s in technique.data_sources),
            "detection": technique.detection,
            "related": _JOIN.join(technique.related),
            "mitigation_ids": _JOIN.join(technique.mitigations),
            "mitigations": _JOIN.join(f"{m.id} {m.name}" for m in mitigations),
            "stakeholders": _JOIN.join(stakeholders),
        }
        if counts is not None:
            row["count"] = counts.get(technique.id, 0)
        writer.writerow(row)
    return buffer.getvalue()
