"""The COSEA matrix: a machine-readable knowledge base of offender tactics, techniques
and mitigations, in the manner of MITRE ATT&CK.

Public surface::

    from cosea.matrix import load
    matrix = load()                        # the bundled matrix (cached)
    matrix = load("my-matrix/")            # an organisation's own file or folder
    matrix.tactics                         # in kill-chain order
    matrix.technique("T0401").name         # 'Secrecy request'
    matrix.tactic_of("T0401").id           # 'TA04'
    matrix.mitigations_for("T0702", stakeholder="banks-financial")
    matrix.search("gift cards")
    validate_file("my-matrix.yaml")        # [] or a list of problems
    render_html(matrix, counts={"T0401": 3})
    export_matrix(matrix, "stix")          # any registered format as text

Names are resolved lazily so that ``import cosea.matrix`` (done by the CLI on
every start) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cosea._exports import lazy_getattr

if TYPE_CHECKING:
    from cosea.matrix.counts import read_counts
    from cosea.matrix.export import export_matrix, exporters, register_exporter
    from cosea.matrix.export.html import render_html
    from cosea.matrix.matrix import Matrix, SearchHit, load, validate_file
    from cosea.matrix.models import (
        SCHEMA_VERSION,
        DataSource,
        Mitigation,
        Reference,
        ResearchModel,
        Stakeholder,
        Tactic,
        Technique,
    )

_EXPORTS = {
    "Matrix": "cosea.matrix.matrix",
    "SearchHit": "cosea.matrix.matrix",
    "load": "cosea.matrix.matrix",
    "validate_file": "cosea.matrix.matrix",
    "SCHEMA_VERSION": "cosea.matrix.models",
    "DataSource": "cosea.matrix.models",
    "Mitigation": "cosea.matrix.models",
    "Reference": "cosea.matrix.models",
    "ResearchModel": "cosea.matrix.models",
    "Stakeholder": "cosea.matrix.models",
    "Tactic": "cosea.matrix.models",
    "Technique": "cosea.matrix.models",
    "read_counts": "cosea.matrix.counts",
    "export_matrix": "cosea.matrix.export",
    "exporters": "cosea.matrix.export",
    "register_exporter": "cosea.matrix.export",
    "render_html": "cosea.matrix.export.html",
}

__all__ = [
    "SCHEMA_VERSION",
    "DataSource",
    "Matrix",
    "Mitigation",
    "Reference",
    "ResearchModel",
    "SearchHit",
    "Stakeholder",
    "Tactic",
    "Technique",
    "export_matrix",
    "exporters",
    "load",
    "read_counts",
    "register_exporter",
    "render_html",
    "validate_file",
]


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
