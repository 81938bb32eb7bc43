"""The schema of the COSEA matrix data files.

Each entry kind is a frozen Pydantic model that forbids unknown fields, so a typo
in a user's extended copy ("mitigatons:") is reported instead of silently
ignored. Field validators carry the ID rules with messages that say what a
valid value looks like. Cross-references between entries are checked later, in
``cosea.matrix.loader``, once every file of a matrix has been read.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

#: The data-file schema this version of cosea reads and writes.
SCHEMA_VERSION = 1

TACTIC_ID = re.compile(r"^TA\d{2}$")
TECHNIQUE_ID = re.compile(r"^T\d{4}$")
MITIGATION_ID = re.compile(r"^M\d{4}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

MitigationKind = Literal["prevent", "detect", "disrupt", "respond", "support"]


def slugify(text: str) -> str:
    """'Isolation and secrecy' -> 'isolation-and-secrecy' (the STIX/Navigator short name)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _check(pattern: re.Pattern[str], value: str, what: str, example: str) -> str:
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not a valid {what} (expected e.g. {example})")
    return value


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Reference(Entry):
    """A bibliographic entry; other entries cite it by ``key``."""

    key: str
    citation: Text
    year: int | None = None
    url: str | None = None
    doi: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        return _check(SLUG, value, "reference key", "'oconnell-2003'")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"url {value!r} must start with https:// or http://")
        return value


class ResearchModel(Entry):
    """A published stage model of grooming or extortion that tactics are mapped onto."""

    id: str
    name: Text
    description: Text
    stages: list[Text] = Field(min_length=1)
    references: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check(SLUG, value, "research model id", "'oconnell-grooming'")


class DataSource(Entry):
    """Where a technique can be seen: message text, account metadata, payments..."""

    id: str
    name: Text
    description: Text

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check(SLUG, value, "data source id", "'message-text'")


class ResearchStage(Entry):
    """One stage of a research model that a tactic corresponds to."""

    model: str
    stage: Text
    note: str | None = None


class Tactic(Entry):
    """A step of the offence, in kill-chain order: the offender's goal at that point."""

    id: str
    name: Text
    order: int = Field(ge=1)
    scope: Text
    description: Text
    shortname: str | None = None
    research_stages: list[ResearchStage] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check(TACTIC_ID, value, "tactic id", "TA01: 'TA' and two digits")

    @field_validator("shortname")
    @classmethod
    def _shortname(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _check(SLUG, value, "tactic shortname", "'trust-building'")

    @property
    def slug(self) -> str:
        """The kebab-case name STIX kill-chain phases and Navigator layers use."""
        return self.shortname or slugify(self.name)


class Technique(Entry):
    """How an offender pursues a tactic, with what reveals it and what counters it."""

    id: str
    tactic: str
    name: Text
    scope: Text
    description: Text
    indicators: list[Text] = Field(min_length=1)
    data_sources: list[str] = Field(min_length=1)
    detection: Text
    related: list[str] = Field(default_factory=list)
    mitigations: list[str] = Field(min_length=1)
    references: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check(TECHNIQUE_ID, value, "technique id", "T0101: 'T', tactic digits, own digits")

    @field_validator("tactic")
    @classmethod
    def _tactic(cls, value: str) -> str:
        return _check(TACTIC_ID, value, "tactic id", "TA01")


class Mitigation(Entry):
    """A course of action against one or more techniques, owned by stakeholders."""

    id: str
    name: Text
    description: Text
    kind: MitigationKind
    stakeholders: list[str] = Field(min_length=1)
    references: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check(MITIGATION_ID, value, "mitigation id", "M0101: 'M' and four digits")


class Stakeholder(Entry):
    """Who acts: a sector with its role and the strategic initiatives it can lead."""

    id: str
    name: Text
    role: Text
    strategic_initiatives: list[Text] = Field(min_length=1)
    references: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check(SLUG, value, "stakeholder id", "'law-enforcement' (kebab-case)")


class MatrixInfo(Entry):
    """Name and version of a matrix (the bundled one, or an organisation's own)."""

    name: Text
    version: Text
    description: Text
    released: date | None = None
    license: str | None = None
    url: str | None = None


#: The sections a data file may hold, in the order they are read, with their models.
SECTIONS: dict[str, type[Entry]] = {
    "references": Reference,
    "research_models": ResearchModel,
    "data_sources": DataSource,
    "stakeholders": Stakeholder,
    "tactics": Tactic,
    "mitigations": Mitigation,
    "techniques": Technique,
}

#: The top-level keys a data file may hold besides the sections.
FILE_KEYS = ("schema_version", "extends", "matrix")


def entry_id(entry: Entry) -> str:
    """The identifier of any entry (references are keyed by ``key``)."""
    return entry.key if isinstance(entry, Reference) else entry.id  # type: ignore[attr-defined]
