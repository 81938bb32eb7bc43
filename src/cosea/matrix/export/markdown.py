"""Markdown export: the whole knowledge base as one readable document.

An overview grid (tactics as columns, like the ATT&CK matrix), then a section per
tactic with its techniques, then mitigations by stakeholder, the research models
and the references. Renders on GitHub and in any Markdown viewer.
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from cosea.matrix.export import register_exporter
from cosea.matrix.matrix import Matrix


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(identifier: str, name: str) -> str:
    text = f"{identifier} {name}".lower()
    return "".join(c if c.isalnum() or c == " " or c == "-" else "" for c in text).replace(" ", "-")


@register_exporter(
    "markdown",
    suffix=".md",
    media_type="text/markdown",
    description="one document: overview grid, techniques, mitigations, references",
)
def export_markdown(matrix: Matrix, counts: dict[str, int] | None = None, **_: Any) -> str:
    lines: list[str] = [f"# {matrix.name} {matrix.version}", "", matrix.info.description, ""]

    lines += ["## Overview", ""]
    columns = [matrix.techniques_of(t.id) for t in matrix.tactics]
    lines.append("| " + " | ".join(f"{t.id} {_cell(t.name)}" for t in matrix.tactics) + " |")
    lines.append("|" + "---|" * len(matrix.tactics))
    for row in zip_longest(*columns):
        cells = []
        for technique in row:
            if technique is None:
                cells.append("")
                continue
            label = f"[{technique.id} {_cell(technique.name)}](#{_anchor(technique.id, technique.name)})"
            if counts is not None:
                label += f" ({counts.get(technique.id, 0)})"
            cells.append(label)
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if counts is not None:
        lines += ["Numbers in brackets are observed counts.", ""]

    for tactic in matrix.tactics:
        lines += [
            f"## {tactic.id} {tactic.name}",
            "",
            f"*{tactic.scope}*",
            "",
            tactic.description,
            "",
        ]
        if tactic.research_stages:
            lines.append("Research models:")
            for stage in tactic.research_stages:
                model = matrix.research_models[stage.model]
                note = f" ({stage.note})" if stage.note else ""
                lines.append(f"- {model.name}: {stage.stage}{note}")
            lines.append("")
        for technique in matrix.techniques_of(tactic.id):
            lines += [f"### {technique.id} {technique.name}", "", f"*{technique.scope}*", ""]
            lines += [technique.description, "", "**Indicators**", ""]
            lines += [f"- {indicator}" for indicator in technique.indicators]
            sources = ", ".join(matrix.data_sources[s].name for s in technique.data_sources)
            lines += [
                "",
                f"**Data sources:** {sources}",
                "",
                f"**Detection:** {technique.detection}",
            ]
            if technique.related:
                related = ", ".join(
                    f"[{r} {matrix.techniques[r].name}](#{_anchor(r, matrix.techniques[r].name)})"
                    for r in technique.related
                )
                lines += ["", f"**Related:** {related}"]
            lines += ["", "**Mitigations**", ""]
            for mitigation_id in technique.mitigations:
                mitigation = matrix.mitigations[mitigation_id]
                owners = ", ".join(matrix.stakeholders[s].name for s in mitigation.stakeholders)
                lines.append(f"- **{mitigation.id} {mitigation.name}** ({owners})")
            lines.append("")

    lines += ["## Mitigations by stakeholder", ""]
    for stakeholder in matrix.stakeholders.values():
        lines += [f"### {stakeholder.name} (`{stakeholder.id}`)", "", stakeholder.role, ""]
        lines += ["Strategic initiatives:", ""]
        lines += [f"- {initiative}" for initiative in stakeholder.strategic_initiatives]
        lines += ["", "| id | mitigation | kind | counters |", "|---|---|---|---|"]
        for mitigation in matrix.mitigations_of(stakeholder.id):
            countered = ", ".join(t.id for t in matrix.techniques_mitigated_by(mitigation.id))
            lines.append(
                f"| {mitigation.id} | {_cell(mitigation.name)}: {_cell(mitigation.description)} "
                f"| {mitigation.kind} | {countered} |"
            )
        lines.append("")

    lines += ["## Research models", ""]
    for model in matrix.research_models.values():
        lines += [f"### {model.name}", "", model.description, ""]
        lines += ["Stages: " + " → ".join(model.stages), ""]

    lines += ["## References", ""]
    for reference in matrix.references.values():
        link = f" https://doi.org/{reference.doi}" if reference.doi else ""
        if not link and reference.url:
            link = f" {reference.url}"
        lines.append(f"- `{reference.key}` {reference.citation}{link}")
    lines.append("")
    return "\n".join(lines)
