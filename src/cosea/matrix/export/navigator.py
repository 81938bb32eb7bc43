"""ATT&CK Navigator layer (layer format 4.5).

Every technique appears once under its tactic (``tactic`` is the tactic's short
name, as in the STIX kill-chain phase). With counts, ``score`` is the observed
count and the gradient runs from zero to the largest count; without counts,
techniques are listed unscored so the layer carries comments and metadata only.

The layer's ``domain`` is ``cosea``: load it in a Navigator instance configured
with the COSEA STIX bundle as a custom domain, or in any tool that reads the
layer format (``customDataURL`` can point at a published copy of the bundle).
"""

from __future__ import annotations

import json
from typing import Any

from cosea.matrix.export import register_exporter
from cosea.matrix.matrix import Matrix

LAYER_VERSION = "4.5"
NAVIGATOR_VERSION = "5.1.0"
DOMAIN = "cosea"

#: White to deep red: low counts stay readable, high counts stand out.
GRADIENT = ["#fff5f0", "#fcbba1", "#fb6a4a", "#cb181d", "#67000d"]


def build_layer(
    matrix: Matrix,
    counts: dict[str, int] | None = None,
    *,
    title: str | None = None,
    description: str | None = None,
    custom_data_url: str | None = None,
) -> dict[str, Any]:
    """The layer as a JSON-ready dict."""
    techniques = []
    for technique in matrix.techniques.values():
        tactic = matrix.tactic(technique.tactic)
        entry: dict[str, Any] = {
            "techniqueID": technique.id,
            "tactic": tactic.slug,
            "comment": technique.scope,
            "enabled": True,
            "metadata": [
                {"name": "tactic", "value": f"{tactic.id} {tactic.name}"},
                {"name": "mitigations", "value": ", ".join(technique.mitigations)},
            ],
            "showSubtechniques": False,
        }
        if counts is not None:
            observed = counts.get(technique.id, 0)
            entry["score"] = observed
            entry["comment"] = f"observed {observed} time(s). {technique.scope}"
        techniques.append(entry)

    highest = max((counts or {}).values(), default=0)
    layer: dict[str, Any] = {
        "name": title or matrix.name,
        # "attack" names the version of the knowledge base the layer was made from.
        "versions": {
            "layer": LAYER_VERSION,
            "navigator": NAVIGATOR_VERSION,
            "attack": matrix.version,
        },
        "domain": DOMAIN,
        "description": description
        or (
            f"{matrix.name} {matrix.version}"
            + (" with observed technique counts as scores." if counts is not None else ".")
        ),
        "sorting": 3 if counts is not None else 0,
        "layout": {
            "layout": "side",
            "showID": True,
            "showName": True,
            "showAggregateScores": False,
            "countUnscored": False,
            "aggregateFunction": "sum",
            "expandedSubtechniques": "none",
        },
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": GRADIENT, "minValue": 0, "maxValue": max(highest, 1)},
        "legendItems": (
            [
                {"label": "not observed", "color": GRADIENT[0]},
                {"label": f"most observed ({highest})", "color": GRADIENT[-1]},
            ]
            if counts is not None
            else []
        ),
        "showTacticRowBackground": True,
        "tacticRowBackground": "#1f2a44",
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
        "selectVisibleTechniques": False,
        "metadata": [
            {"name": "matrix", "value": f"{matrix.name} {matrix.version}"},
            {"name": "schema_version", "value": str(matrix.schema_version)},
        ],
    }
    if custom_data_url:
        layer["customDataURL"] = custom_data_url
    return layer


@register_exporter(
    "navigator",
    suffix=".layer.json",
    media_type="application/json",
    description="ATT&CK Navigator layer 4.5; scores from --counts",
)
def export_navigator(
    matrix: Matrix,
    counts: dict[str, int] | None = None,
    *,
    title: str | None = None,
    custom_data_url: str | None = None,
    **_: Any,
) -> str:
    layer = build_layer(matrix, counts, title=title, custom_data_url=custom_data_url)
    return json.dumps(layer, indent=2, ensure_ascii=False) + "\n"
