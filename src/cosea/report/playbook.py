"""Stakeholder playbooks: for an alert or case, what each reader should do and where to report.

``build_playbook(techniques, audience, country=None)`` draws the recommended actions from
the COSEA matrix (the mitigations of the techniques seen that the reader's stakeholder
owns), frames them for the reader with the texts of ``data/playbooks.yaml`` (plain
language for parents, procedure for platforms and law enforcement), and adds the
reporting bodies of the reader's country from ``data/hotlines.yaml``. The result renders
to the console (Rich), Markdown and JSON, so the service console and triage reports can
show the same playbook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cosea.errors import InputError, ValidationFailed
from cosea.report.hotlines import AUDIENCES, Body, bodies_for
from cosea.report.naming import matrix

if TYPE_CHECKING:
    from rich.console import Console

    from cosea.report.source import ReportItem

ALIASES = {
    "parents": "parents",
    "parents-guardians": "parents",
    "guardians": "parents",
    "platform": "platform",
    "platforms": "platform",
    "trust-and-safety": "platform",
    "law-enforcement": "law-enforcement",
    "police": "law-enforcement",
    "social-services": "social-services",
    "schools": "schools",
    "schools-educators": "schools",
}
# Incident response first; prevention (the longer-term work) last.
KIND_ORDER = {"respond": 0, "support": 1, "detect": 2, "disrupt": 3, "prevent": 4}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tactics: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)
    media: bool | None = None

    def holds(self, tactics: set[str], cls: str | None, media: bool) -> bool:
        if self.tactics and not tactics.intersection(self.tactics):
            return False
        if self.classes and cls not in self.classes:
            return False
        return self.media is None or self.media == media


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1)
    when: Condition | None = None


class AudienceTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stakeholder: str
    title: str
    intro: str
    urgent: list[Step] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    tactics: dict[str, str] = Field(default_factory=dict)
    mitigations: dict[str, str] = Field(default_factory=dict)
    closing: str | None = None


class PlaybookFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int
    audiences: dict[str, AudienceTexts]


def read_playbook_texts(path: Path | str) -> PlaybookFile:
    """The playbook texts, checked against the schema and the matrix; problems name entries."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts = PlaybookFile.model_validate(data)
    except (OSError, yaml.YAMLError) as error:
        raise InputError(path, f"cannot read the playbook texts ({error})") from None
    except ValidationError as error:
        raise ValidationFailed(
            path,
            [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()],
        ) from None
    problems = []
    known = matrix()
    for name, audience in texts.audiences.items():
        if name not in AUDIENCES:
            problems.append(f"audiences.{name}: not one of {', '.join(AUDIENCES)}")
        if audience.stakeholder not in known.stakeholders:
            problems.append(f"audiences.{name}.stakeholder: {audience.stakeholder!r} not in matrix")
        for tactic in audience.tactics:
            if tactic not in {t.id for t in known.tactics}:
                problems.append(f"audiences.{name}.tactics.{tactic}: no such tactic")
        for mitigation in audience.mitigations:
            found = known.mitigations.get(mitigation)
            if found is None:
                problems.append(f"audiences.{name}.mitigations.{mitigation}: no such mitigation")
            elif audience.stakeholder not in found.stakeholders:
                problems.append(
                    f"audiences.{name}.mitigations.{mitigation}: not owned by "
                    f"{audience.stakeholder}"
                )
    missing = set(AUDIENCES) - set(texts.audiences)
    if missing:
        problems.append(f"audiences: missing {', '.join(sorted(missing))}")
    if problems:
        raise ValidationFailed(path, problems)
    return texts


@cache
def playbook_texts() -> PlaybookFile:
    source = Path(str(resources.files("cosea.report") / "data" / "playbooks.yaml"))
    return read_playbook_texts(source)


def audience_name(audience: str) -> str:
    name = ALIASES.get(audience.strip().lower())
    if name is None:
        raise InputError("--audience", f"unknown audience {audience!r}; use {', '.join(AUDIENCES)}")
    return name


@dataclass(slots=True)
class Action:
    mitigation: str
    name: str
    kind: str
    text: str
    techniques: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mitigation": self.mitigation,
            "name": self.name,
            "kind": self.kind,
            "text": self.text,
            "techniques": list(self.techniques),
        }


@dataclass(slots=True)
class TechniqueNote:
    id: str
    name: str
    tactic: str
    tactic_name: str
    meaning: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "tactic": self.tactic,
            "tactic_name": self.tactic_name,
            "meaning": self.meaning,
        }


@dataclass(slots=True)
class Playbook:
    audience: str
    stakeholder: str
    title: str
    intro: str
    urgent: list[str]
    steps: list[str]
    techniques: list[TechniqueNote]
    actions: list[Action]
    report_to: list[Body]
    country: str | None
    closing: str | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "stakeholder": self.stakeholder,
            "title": self.title,
            "country": self.country,
            "intro": self.intro,
            "urgent": list(self.urgent),
            "steps": list(self.steps),
            "techniques": [t.to_dict() for t in self.techniques],
            "actions": [a.to_dict() for a in self.actions],
            "report_to": [
                {
                    "id": b.id,
                    "name": b.name,
                    "country": b.country,
                    "kind": b.kind,
                    "url": b.url,
                    "description": b.description,
                }
                for b in self.report_to
            ],
            "closing": self.closing,
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        lines = [f"# {self.title}", "", self.intro, ""]
        if self.urgent:
            lines += ["## Urgent", ""] + [f"- **{text}**" for text in self.urgent] + [""]
        lines += ["## Steps", ""] + [f"{n}. {text}" for n, text in enumerate(self.steps, 1)]
        if self.techniques:
            lines += ["", "## What was seen", ""]
            lines += [
                f"- **{t.name}** ({t.id}, {t.tactic_name}): {t.meaning or ''}".rstrip(": ")
                for t in self.techniques
            ]
        if self.actions:
            lines += ["", "## Recommended actions", ""]
            lines += [f"- **{a.name}** ({a.mitigation}): {a.text}" for a in self.actions]
        lines += ["", "## Where to report" + (f" ({self.country})" if self.country else ""), ""]
        lines += [f"- [{b.name}]({b.url}): {b.description}" for b in self.report_to]
        if self.notes:
            lines += [""] + [f"_{note}_" for note in self.notes]
        if self.closing:
            lines += ["", self.closing]
        return "\n".join(lines) + "\n"

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.panel import Panel
        from rich.table import Table

        console.print(Panel(escape(self.intro), title=f"[bold]{escape(self.title)}[/]"))
        for text in self.urgent:
            console.print(f"[bold red]Urgent:[/] {escape(text)}")
        if self.urgent:
            console.print()
        console.print("[bold]Steps[/]")
        for number, text in enumerate(self.steps, 1):
            console.print(f" {number}. {escape(text)}")
        if self.techniques:
            table = Table(title="What was seen", show_lines=False, title_justify="left")
            table.add_column("technique")
            table.add_column("stage")
            table.add_column("what it means")
            for note in self.techniques:
                table.add_row(
                    f"{note.id} {escape(note.name)}",
                    f"{note.tactic} {escape(note.tactic_name)}",
                    escape(note.meaning or ""),
                )
            console.print(table)
        if self.actions:
            table = Table(title="Recommended actions", title_justify="left", show_lines=True)
            table.add_column("action")
            table.add_column("what to do")
            for action in self.actions:
                table.add_row(
                    f"{escape(action.name)}\n[dim]{action.mitigation}[/]", escape(action.text)
                )
            console.print(table)
        where = f"Where to report ({self.country})" if self.country else "Where to report"
        console.print(f"[bold]{where}[/]")
        for body in self.report_to:
            # One line per address, never folded, so it can be copied.
            console.print(f" - {escape(body.name)}: {body.url}", soft_wrap=True, highlight=False)
            console.print(f"   [dim]{escape(body.description)}[/]")
        for note in self.notes:
            console.print(f"[dim]{escape(note)}[/]")
        if self.closing:
            console.print(escape(self.closing))


def build_playbook(
    techniques: Iterable[str] | Mapping[str, Any],
    audience: str,
    country: str | None = None,
    *,
    item: ReportItem | None = None,
    cls: str | None = None,
    media_matched: bool | None = None,
) -> Playbook:
    """The playbook for ``audience`` about the given techniques (ids like ``T0401``).

    ``item`` (or ``cls`` and ``media_matched``) lets steps depend on the case: extortion,
    meetings, matched media. ``country`` (ISO code) chooses the reporting bodies; without
    it the report policy's country is used, else only international bodies are listed.
    """
    name = audience_name(audience)
    texts = playbook_texts().audiences[name]
    known = matrix()
    ids = list(dict.fromkeys(t.upper() for t in techniques))
    unknown = [t for t in ids if t not in known.techniques]
    if unknown:
        raise InputError(None, f"not techniques of the matrix: {', '.join(unknown)}")
    if item is not None:
        cls = cls or item.cls
        if media_matched is None:
            media_matched = any(m.matches for m in item.media)
    tactics_seen = {known.technique(t).tactic for t in ids}
    if country is None:
        from cosea.report.policy import load_policy

        country = load_policy().country
    country = country.upper() if country else None

    def applies(step: Step) -> bool:
        return step.when is None or step.when.holds(tactics_seen, cls, bool(media_matched))

    notes = []
    technique_notes = []
    for technique_id in ids:
        technique = known.technique(technique_id)
        tactic = known.tactic(technique.tactic)
        technique_notes.append(
            TechniqueNote(
                technique.id, technique.name, tactic.id, tactic.name, texts.tactics.get(tactic.id)
            )
        )
    technique_notes.sort(key=lambda n: (known.tactic_order(n.tactic), n.id))

    countered: dict[str, list[str]] = {}
    for technique_id in ids:
        for mitigation in known.mitigations_for(technique_id, stakeholder=texts.stakeholder):
            countered.setdefault(mitigation.id, []).append(technique_id)
    actions = [
        Action(
            mitigation=mitigation_id,
            name=known.mitigation(mitigation_id).name,
            kind=known.mitigation(mitigation_id).kind,
            text=" ".join(
                (
                    texts.mitigations.get(mitigation_id)
                    or known.mitigation(mitigation_id).description
                ).split()
            ),
            techniques=sorted(found),
        )
        for mitigation_id, found in countered.items()
    ]
    actions.sort(key=lambda a: (KIND_ORDER.get(a.kind, 9), -len(a.techniques), a.mitigation))
    if not ids:
        notes.append("No technique was recognised; the steps and reporting bodies still apply.")
    if country is None:
        notes.append("No country given (--country): only international services are listed.")
    return Playbook(
        audience=name,
        stakeholder=texts.stakeholder,
        title=texts.title,
        intro=" ".join(texts.intro.split()),
        urgent=[" ".join(s.text.split()) for s in texts.urgent if applies(s)],
        steps=[" ".join(s.text.split()) for s in texts.steps if applies(s)],
        techniques=technique_notes,
        actions=actions,
        report_to=bodies_for(country, name),
        country=country,
        closing=" ".join(texts.closing.split()) if texts.closing else None,
        notes=notes,
    )
