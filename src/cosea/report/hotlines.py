"""Hotlines and reporting bodies by country, from ``data/hotlines.yaml``.

The file is data with a schema: each body has an id, its country (ISO 3166-1 alpha-2
or ``INT``), a kind, its official https address, what it takes reports of and which
readers of a playbook it serves. Problems name the file and the entry.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cosea.errors import InputError, ValidationFailed

SCHEMA_VERSION = 1
AUDIENCES = ("platform", "parents", "law-enforcement", "social-services", "schools")
KINDS = ("hotline", "police", "helpline", "takedown", "prevention", "regulator")
REPORTS = (
    "abuse-material",
    "grooming",
    "sextortion",
    "own-images",
    "worried-about-self",
    "support",
)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COUNTRY = re.compile(r"^(?:[A-Z]{2}|INT)$")
_URL = re.compile(r"^https://[a-z0-9.-]+\.[a-z]{2,}(?:/[^\s]*)?$")


class Body(BaseModel):
    """One hotline, police portal, helpline or take-down service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1)
    country: str
    kind: Literal["hotline", "police", "helpline", "takedown", "prevention", "regulator"]
    url: str
    description: str = Field(min_length=1)
    reports: list[
        Literal[
            "abuse-material",
            "grooming",
            "sextortion",
            "own-images",
            "worried-about-self",
            "support",
        ]
    ] = Field(min_length=1)
    audiences: list[
        Literal["platform", "parents", "law-enforcement", "social-services", "schools"]
    ] = Field(min_length=1)
    inhope: bool = False
    worldwide: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} is not a kebab-case id (e.g. 'gb-iwf')")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not _COUNTRY.match(value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 code or INT")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not _URL.match(value):
            raise ValueError(f"{value!r} is not an https:// address")
        return value


def _source() -> Path:
    return Path(str(resources.files("cosea.report") / "data" / "hotlines.yaml"))


def read_hotlines(path: Path | str) -> list[Body]:
    """Every body in a hotlines file; raises ValidationFailed naming each bad entry."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise InputError(path, f"cannot read the hotlines file ({error})") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise InputError(path, f"expected a mapping with schema_version: {SCHEMA_VERSION}")
    problems: list[str] = []
    bodies: list[Body] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("bodies") or []):
        label = raw.get("id", f"bodies[{index}]") if isinstance(raw, dict) else f"bodies[{index}]"
        try:
            body = Body.model_validate(raw)
        except ValidationError as error:
            for problem in error.errors():
                field = ".".join(str(p) for p in problem["loc"]) or "entry"
                problems.append(f"[{label}] {field}: {problem['msg']}")
            continue
        if body.id in seen:
            problems.append(f"[{label}] id: used twice")
        seen.add(body.id)
        bodies.append(body)
    if problems:
        raise ValidationFailed(path, problems)
    return bodies


@cache
def hotlines() -> tuple[Body, ...]:
    return tuple(read_hotlines(_source()))


def countries() -> list[str]:
    return sorted({b.country for b in hotlines() if b.country != "INT"})


def bodies_for(country: str | None, audience: str | None = None) -> list[Body]:
    """The bodies of ``country`` for ``audience``, then worldwide and international ones."""
    code = (country or "").upper() or None
    if code is not None and code != "INT" and code not in countries():
        known = ", ".join(countries())
        raise InputError("--country", f"no reporting bodies listed for {code!r} (listed: {known})")
    national = [b for b in hotlines() if code and b.country == code]
    wider = [b for b in hotlines() if b not in national and (b.country == "INT" or b.worldwide)]
    chosen = national + wider
    if audience is not None:
        chosen = [b for b in chosen if audience in b.audiences]
    return chosen
