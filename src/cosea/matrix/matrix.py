"""The :class:`Matrix`: a validated, read-only view of the knowledge base with look-ups."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cosea.errors import NotFound, ValidationFailed
from cosea.matrix.loader import DEFAULT_DATA, Origin, RawMatrix, read_default, read_matrix
from cosea.matrix.models import (
    SCHEMA_VERSION,
    DataSource,
    Entry,
    MatrixInfo,
    Mitigation,
    Reference,
    ResearchModel,
    ResearchStage,
    Stakeholder,
    Tactic,
    Technique,
)

_WORD = re.compile(r"[a-z0-9]+")

#: Words too common to tell entries apart ("are you alone right now" is about "alone").
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "the",
        "to",
        "u",
        "ur",
        "was",
        "we",
        "what",
        "when",
        "who",
        "with",
        "you",
        "your",
    ]
)

#: Search weights: a hit in a name says more than a hit in a long description.
_FIELD_WEIGHTS: dict[str, float] = {
    "id": 10.0,
    "name": 4.0,
    "scope": 2.5,
    "indicators": 2.0,
    "role": 2.0,
    "research_stages": 3.0,
    "description": 1.0,
    "detection": 1.0,
    "strategic_initiatives": 1.0,
}


_KIND_ORDER = {"tactic": 0, "technique": 1, "mitigation": 2, "stakeholder": 3}


def _searchable_text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(_searchable_text(item) for item in value)
    if isinstance(value, ResearchStage):
        return value.stage
    return str(value)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result: what kind of entry, which one, and how well it matched."""

    kind: str  # "tactic" | "technique" | "mitigation" | "stakeholder"
    id: str
    name: str
    score: float
    entry: Entry


class Matrix:
    """Tactics in kill-chain order, their techniques, mitigations and stakeholders."""

    def __init__(self, raw: RawMatrix) -> None:
        sections = raw.sections
        self.info: MatrixInfo = raw.info or MatrixInfo(
            name="COSEA matrix", version="unversioned", description="A COSEA matrix."
        )
        self.schema_version: int = SCHEMA_VERSION
        self.sources: list[Path] = list(raw.sources)
        self.tactics: list[Tactic] = sorted(
            sections["tactics"].values(),  # type: ignore[arg-type]
            key=lambda tactic: tactic.order,
        )
        self._tactic_by_id: dict[str, Tactic] = {t.id: t for t in self.tactics}
        self._order: dict[str, int] = {t.id: index for index, t in enumerate(self.tactics, 1)}
        techniques: list[Technique] = list(sections["techniques"].values())  # type: ignore[arg-type]
        techniques.sort(key=lambda t: (self._order.get(t.tactic, 0), t.id))
        self.techniques: dict[str, Technique] = {t.id: t for t in techniques}
        self.mitigations: dict[str, Mitigation] = dict(sorted(sections["mitigations"].items()))  # type: ignore[arg-type]
        self.stakeholders: dict[str, Stakeholder] = dict(sections["stakeholders"])  # type: ignore[arg-type]
        self.references: dict[str, Reference] = dict(sections["references"])  # type: ignore[arg-type]
        self.research_models: dict[str, ResearchModel] = dict(sections["research_models"])  # type: ignore[arg-type]
        self.data_sources: dict[str, DataSource] = dict(sections["data_sources"])  # type: ignore[arg-type]
        self._origins: dict[tuple[str, str], Origin] = dict(raw.origins)
        self._mitigated_by: dict[str, list[str]] = {m: [] for m in self.mitigations}
        for technique in self.techniques.values():
            for mitigation_id in technique.mitigations:
                self._mitigated_by.setdefault(mitigation_id, []).append(technique.id)

    # -- look-ups ---------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def version(self) -> str:
        return self.info.version

    def tactic(self, tactic_id: str) -> Tactic:
        try:
            return self._tactic_by_id[tactic_id.upper()]
        except KeyError:
            raise NotFound(f"no tactic {tactic_id} in the {self.name}") from None

    def technique(self, technique_id: str) -> Technique:
        try:
            return self.techniques[technique_id.upper()]
        except KeyError:
            raise NotFound(f"no technique {technique_id} in the {self.name}") from None

    def mitigation(self, mitigation_id: str) -> Mitigation:
        try:
            return self.mitigations[mitigation_id.upper()]
        except KeyError:
            raise NotFound(f"no mitigation {mitigation_id} in the {self.name}") from None

    def stakeholder(self, stakeholder_id: str) -> Stakeholder:
        try:
            return self.stakeholders[stakeholder_id.lower()]
        except KeyError:
            known = ", ".join(self.stakeholders)
            raise NotFound(f"no stakeholder {stakeholder_id!r} (known: {known})") from None

    def get(self, identifier: str) -> Entry:
        """Any tactic, technique, mitigation or stakeholder by its id."""
        text = identifier.strip()
        upper = text.upper()
        if upper in self._tactic_by_id:
            return self._tactic_by_id[upper]
        if upper in self.techniques:
            return self.techniques[upper]
        if upper in self.mitigations:
            return self.mitigations[upper]
        if text.lower() in self.stakeholders:
            return self.stakeholders[text.lower()]
        raise NotFound(
            f"{identifier!r} is not a tactic, technique, mitigation or stakeholder id "
            "(try 'cosea matrix search')"
        )

    def tactic_of(self, technique_id: str) -> Tactic:
        return self._tactic_by_id[self.technique(technique_id).tactic]

    def tactic_order(self, tactic_id: str) -> int:
        """1 for the first step of the offence, 2 for the next, and so on."""
        self.tactic(tactic_id)
        return self._order[tactic_id.upper()]

    def techniques_of(self, tactic_id: str) -> list[Technique]:
        tactic = self.tactic(tactic_id)
        return [t for t in self.techniques.values() if t.tactic == tactic.id]

    def mitigations_for(
        self, technique_id: str, stakeholder: str | None = None
    ) -> list[Mitigation]:
        """The mitigations of a technique, optionally only those a stakeholder owns."""
        technique = self.technique(technique_id)
        if stakeholder is not None:
            self.stakeholder(stakeholder)
        found = [self.mitigations[m] for m in technique.mitigations]
        if stakeholder is not None:
            found = [m for m in found if stakeholder.lower() in m.stakeholders]
        return found

    def techniques_mitigated_by(self, mitigation_id: str) -> list[Technique]:
        mitigation = self.mitigation(mitigation_id)
        return [self.techniques[t] for t in self._mitigated_by.get(mitigation.id, [])]

    def mitigations_of(self, stakeholder_id: str) -> list[Mitigation]:
        """Every mitigation a stakeholder owns (alone or with others)."""
        stakeholder = self.stakeholder(stakeholder_id)
        return [m for m in self.mitigations.values() if stakeholder.id in m.stakeholders]

    def origin(self, kind: str, identifier: str) -> Origin | None:
        """The file and line an entry was defined at (kind: 'techniques', 'tactics', ...)."""
        return self._origins.get((kind, identifier))

    # -- search -----------------------------------------------------------------

    def entries(self) -> Iterable[tuple[str, str, Entry]]:
        """Every browsable entry as (kind, id, entry), tactics and techniques first."""
        for tactic in self.tactics:
            yield "tactic", tactic.id, tactic
        for technique in self.techniques.values():
            yield "technique", technique.id, technique
        for mitigation in self.mitigations.values():
            yield "mitigation", mitigation.id, mitigation
        for stakeholder in self.stakeholders.values():
            yield "stakeholder", stakeholder.id, stakeholder

    def search(self, words: str | Iterable[str], limit: int | None = None) -> list[SearchHit]:
        """Entries matching the words, best first; every word adds to the score.

        A word matches a whole word of a field, or the start of one when it has
        three letters or more ("isolat" finds "isolation"). Names and scopes weigh
        more than descriptions, and an exact id wins outright.
        """
        text = words if isinstance(words, str) else " ".join(words)
        words_found = _WORD.findall(text.lower())
        terms = [w for w in words_found if w not in _STOPWORDS] or words_found
        if not terms:
            return []
        phrase = " ".join(terms)
        hits: list[SearchHit] = []
        for kind, identifier, entry in self.entries():
            score = 0.0
            matched: set[str] = set()
            for field_name, weight in _FIELD_WEIGHTS.items():
                value = getattr(entry, field_name, None)
                if value is None:
                    continue
                field_text = _searchable_text(value)
                field_words = set(_WORD.findall(field_text.lower()))
                for term in terms:
                    if term in field_words:
                        score += weight
                        matched.add(term)
                    elif len(term) >= 3 and any(w.startswith(term) for w in field_words):
                        score += weight / 2
                        matched.add(term)
                if len(terms) > 1 and phrase in " ".join(_WORD.findall(field_text.lower())):
                    score += weight * len(terms)
            if not matched:
                continue
            if len(terms) > 1:
                score *= len(matched) / len(terms)
            hits.append(SearchHit(kind, identifier, entry.name, round(score, 2), entry))  # type: ignore[attr-defined]
        hits.sort(key=lambda hit: (-hit.score, _KIND_ORDER[hit.kind]))
        return hits[:limit] if limit else hits

    def __repr__(self) -> str:
        return (
            f"<Matrix {self.name} {self.version}: {len(self.tactics)} tactics, "
            f"{len(self.techniques)} techniques, {len(self.mitigations)} mitigations, "
            f"{len(self.stakeholders)} stakeholders>"
        )


@cache
def _default_matrix() -> Matrix:
    return Matrix(read_default())


def load(path: Path | str | None = None) -> Matrix:
    """The bundled matrix (cached) or a user's matrix file or folder.

    Raises :class:`cosea.errors.ValidationFailed` listing every problem, each
    naming the file, line and entry.
    """
    if path is None or Path(path).resolve() == DEFAULT_DATA.resolve():
        return _default_matrix()
    raw, problems = read_matrix(Path(path))
    if problems:
        raise ValidationFailed(path, problems)
    return Matrix(raw)


def validate_file(path: Path | str) -> list[str]:
    """Every problem in a matrix file or folder (an empty list means it is valid)."""
    _, problems = read_matrix(Path(path))
    return problems
