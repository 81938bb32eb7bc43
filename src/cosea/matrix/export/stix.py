"""STIX 2.1 bundle of the matrix, built with the ``stix2`` library.

Layout, modelled on how MITRE publishes ATT&CK in STIX:

* ``x-cosea-tactic`` (a new SDO declared by a cosea ``extension-definition``):
  name, description, ``x_cosea_shortname`` (the kill-chain phase name),
  ``x_cosea_order`` and ``x_cosea_research_stages``;
* ``x-cosea-matrix``: the matrix, with ``tactic_refs`` in kill-chain order;
* ``attack-pattern`` per technique, with ``kill_chain_phases``
  (``kill_chain_name`` "cosea", ``phase_name`` the tactic's short name) and an
  ``external_references`` entry ``{"source_name": "cosea", "external_id": "T0401"}``;
  indicators, data sources, detection notes and scope travel as top-level
  ``x_cosea_*`` properties declared by the same extension;
* ``course-of-action`` per mitigation, with ``x_cosea_stakeholder_refs``
  pointing at the stakeholders, and a ``mitigates`` relationship per technique;
* ``identity`` (``identity_class`` "class") per stakeholder;
* ``related-to`` relationships between related techniques;
* every object carries the TLP:CLEAR marking (TLP 2.0, the OASIS definition).

Object ids are UUIDv4-shaped but derived from the cosea ids, so the same matrix
always exports the same ids and consumers can de-duplicate updates.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import stix2
from stix2.properties import IntegerProperty, ListProperty, ReferenceProperty, StringProperty

from cosea.matrix.export import register_exporter
from cosea.matrix.matrix import Matrix
from cosea.matrix.models import Reference

KILL_CHAIN_NAME = "cosea"
SOURCE_NAME = "cosea"

#: The OASIS TLP 2.0 marking definition for TLP:CLEAR and the extension it uses.
TLP_CLEAR_ID = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

_NAMESPACE = "cosea-matrix"
EXTENSION_ID = "extension-definition--3b5f7c0e-9a2d-4c1e-8f6a-2d9b7e4c1a50"
IDENTITY_ID = "identity--5f1c2a9e-7b3d-4e8a-9c6f-1a2b3c4d5e6f"

_TOPLEVEL_PROPERTIES = [
    "x_cosea_scope",
    "x_cosea_indicators",
    "x_cosea_data_sources",
    "x_cosea_detection",
    "x_cosea_kind",
    "x_cosea_stakeholder_refs",
    "x_cosea_strategic_initiatives",
]

_EXTENSION_SCHEMA = (
    "cosea matrix STIX extension, version 1. New SDOs: x-cosea-tactic (name, description, "
    "x_cosea_shortname = kill-chain phase name, x_cosea_order = position in the kill chain "
    "starting at 1, x_cosea_research_stages = list of 'model: stage' strings) and "
    "x-cosea-matrix (name, description, tactic_refs = x-cosea-tactic ids in kill-chain order). "
    "Top-level properties: attack-pattern x_cosea_scope, x_cosea_indicators (list of short "
    "non-graphic descriptions), x_cosea_data_sources (list), x_cosea_detection; "
    "course-of-action x_cosea_kind (prevent|detect|disrupt|respond|support) and "
    "x_cosea_stakeholder_refs (identity ids); identity x_cosea_strategic_initiatives (list). "
    "Cosea ids are in external_references with source_name 'cosea'."
)

_SECTORS = {
    "platforms": ["technology"],
    "law-and-legislature": ["government-national"],
    "telecoms-isps": ["telecommunications"],
    "law-enforcement": ["emergency-services"],
    "banks-financial": ["financial-services"],
    "internet-cafes": ["commercial"],
    "social-services": ["government-public-services"],
    "faith-leaders": ["non-profit"],
    "ngos-intervention": ["non-profit"],
    "academia-research": ["education"],
    "hospitals": ["healthcare"],
    "schools-educators": ["education"],
}


# Both new object types are declared by the one cosea extension-definition; stix2 can tie
# only one class to an extension name, so the "new-sdo" marker is passed explicitly.
@stix2.v21.CustomObject(
    "x-cosea-tactic",
    [
        ("name", StringProperty(required=True)),
        ("description", StringProperty()),
        ("x_cosea_shortname", StringProperty(required=True)),
        ("x_cosea_order", IntegerProperty(min=1)),
        ("x_cosea_research_stages", ListProperty(StringProperty)),
    ],
)
class CoseaTactic:
    """A tactic of the COSEA matrix (the goal of one step of the offence)."""


@stix2.v21.CustomObject(
    "x-cosea-matrix",
    [
        ("name", StringProperty(required=True)),
        ("description", StringProperty()),
        (
            "tactic_refs",
            ListProperty(ReferenceProperty(valid_types="x-cosea-tactic", spec_version="2.1")),
        ),
    ],
)
class CoseaMatrix:
    """The matrix: its tactics in kill-chain order."""


def stix_id(kind: str, cosea_id: str) -> str:
    """A stable, UUIDv4-shaped STIX id for a cosea entry."""
    digest = hashlib.sha256(f"{_NAMESPACE}:{kind}:{cosea_id}".encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


def _timestamp(released: date | None) -> datetime:
    day = released or datetime.now(UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _references(matrix: Matrix, external_id: str, keys: list[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = [{"source_name": SOURCE_NAME, "external_id": external_id}]
    for key in keys:
        reference: Reference = matrix.references[key]
        # The link goes in the description: a bare "url" without a content hash draws a
        # validator warning on every object, and a citation's page has no stable hash.
        description = reference.citation
        link = f"https://doi.org/{reference.doi}" if reference.doi else reference.url
        if link and link not in description:
            description += f" {link}"
        entry = {"source_name": key, "description": description}
        if reference.doi:
            entry["external_id"] = f"doi:{reference.doi}"
        found.append(entry)
    return found


def build_bundle(matrix: Matrix) -> stix2.v21.Bundle:
    """The matrix as a ``stix2`` Bundle object."""
    when = _timestamp(matrix.info.released)
    common: dict[str, Any] = {
        "created": when,
        "modified": when,
        "created_by_ref": IDENTITY_ID,
        "object_marking_refs": [TLP_CLEAR_ID],
    }
    toplevel = {EXTENSION_ID: {"extension_type": "toplevel-property-extension"}}
    new_sdo = {EXTENSION_ID: {"extension_type": "new-sdo"}}

    tlp_clear = stix2.v21.MarkingDefinition(
        id=TLP_CLEAR_ID,
        created="2022-10-01T00:00:00.000Z",
        name="TLP:CLEAR",
        extensions={TLP_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": "clear"}},
        allow_custom=True,
    )
    author = stix2.v21.Identity(
        id=IDENTITY_ID,
        created=when,
        modified=when,
        name="cosea project",
        description="Maintainers of the COSEA matrix, an open knowledge base of offender "
        "tactics, techniques and mitigations in child online sexual exploitation and abuse.",
        identity_class="organization",
        object_marking_refs=[TLP_CLEAR_ID],
    )
    extension = stix2.v21.ExtensionDefinition(
        id=EXTENSION_ID,
        created=when,
        modified=when,
        created_by_ref=IDENTITY_ID,
        name="cosea matrix",
        description="Declares the x-cosea-tactic and x-cosea-matrix objects and the x_cosea_* "
        "properties used by the COSEA matrix export.",
        schema=_EXTENSION_SCHEMA,
        version="1.0.0",
        extension_types=["new-sdo", "toplevel-property-extension"],
        extension_properties=_TOPLEVEL_PROPERTIES,
        object_marking_refs=[TLP_CLEAR_ID],
    )
    objects: list[Any] = [tlp_clear, author, extension]

    for stakeholder in matrix.stakeholders.values():
        extra: dict[str, Any] = {}
        if stakeholder.id in _SECTORS:
            extra["sectors"] = _SECTORS[stakeholder.id]
        objects.append(
            stix2.v21.Identity(
                id=stix_id("identity", stakeholder.id),
                name=stakeholder.name,
                description=stakeholder.role,
                identity_class="class",
                external_references=_references(matrix, stakeholder.id, stakeholder.references),
                x_cosea_strategic_initiatives=list(stakeholder.strategic_initiatives),
                extensions=toplevel,
                allow_custom=True,
                **extra,
                **common,
            )
        )

    tactic_ids = []
    for order, tactic in enumerate(matrix.tactics, 1):
        stages = [
            f"{matrix.research_models[s.model].name}: {s.stage}" for s in tactic.research_stages
        ]
        tactic_object = CoseaTactic(
            id=stix_id("x-cosea-tactic", tactic.id),
            name=tactic.name,
            description=tactic.description,
            x_cosea_shortname=tactic.slug,
            x_cosea_order=order,
            x_cosea_research_stages=stages or None,
            external_references=_references(matrix, tactic.id, tactic.references),
            extensions=new_sdo,
            **common,
        )
        tactic_ids.append(tactic_object.id)
        objects.append(tactic_object)

    objects.append(
        CoseaMatrix(
            id=stix_id("x-cosea-matrix", matrix.name),
            name=matrix.name,
            description=matrix.info.description,
            tactic_refs=tactic_ids,
            allow_custom=True,  # the refs point at the custom x-cosea-tactic type
            external_references=[{"source_name": SOURCE_NAME, "external_id": "cosea-matrix"}],
            extensions=new_sdo,
            **common,
        )
    )

    for technique in matrix.techniques.values():
        tactic = matrix.tactic(technique.tactic)
        data_sources = [matrix.data_sources[s].name for s in technique.data_sources]
        objects.append(
            stix2.v21.AttackPattern(
                id=stix_id("attack-pattern", technique.id),
                name=technique.name,
                description=technique.description,
                kill_chain_phases=[{"kill_chain_name": KILL_CHAIN_NAME, "phase_name": tactic.slug}],
                external_references=_references(matrix, technique.id, technique.references),
                x_cosea_scope=technique.scope,
                x_cosea_indicators=list(technique.indicators),
                x_cosea_data_sources=data_sources,
                x_cosea_detection=technique.detection,
                extensions=toplevel,
                allow_custom=True,
                **common,
            )
        )

    for mitigation in matrix.mitigations.values():
        objects.append(
            stix2.v21.CourseOfAction(
                id=stix_id("course-of-action", mitigation.id),
                name=mitigation.name,
                description=mitigation.description,
                external_references=_references(matrix, mitigation.id, mitigation.references),
                x_cosea_kind=mitigation.kind,
                x_cosea_stakeholder_refs=[stix_id("identity", s) for s in mitigation.stakeholders],
                extensions=toplevel,
                allow_custom=True,
                **common,
            )
        )

    for technique in matrix.techniques.values():
        target = stix_id("attack-pattern", technique.id)
        for mitigation_id in technique.mitigations:
            source = stix_id("course-of-action", mitigation_id)
            objects.append(
                stix2.v21.Relationship(
                    id=stix_id("relationship", f"{mitigation_id}-mitigates-{technique.id}"),
                    relationship_type="mitigates",
                    source_ref=source,
                    target_ref=target,
                    description=f"{matrix.mitigations[mitigation_id].name} mitigates "
                    f"{technique.name}.",
                    **common,
                )
            )
        for other in technique.related:
            if other < technique.id and technique.id in matrix.techniques[other].related:
                continue  # one relationship for a pair that lists each other
            objects.append(
                stix2.v21.Relationship(
                    id=stix_id("relationship", f"{technique.id}-related-to-{other}"),
                    relationship_type="related-to",
                    source_ref=target,
                    target_ref=stix_id("attack-pattern", other),
                    **common,
                )
            )

    bundle_id = stix_id("bundle", f"{matrix.name}:{matrix.version}")
    return stix2.v21.Bundle(objects, id=bundle_id, allow_custom=True)


@register_exporter(
    "stix",
    suffix=".stix.json",
    media_type="application/stix+json;version=2.1",
    description="STIX 2.1 bundle (attack-pattern, course-of-action, identity, x-cosea-tactic)",
)
def export_stix(matrix: Matrix, counts: dict[str, int] | None = None, **_: Any) -> str:
    bundle = build_bundle(matrix)
    # Re-serialise through json for stable two-space indentation and key order.
    return json.dumps(json.loads(bundle.serialize()), indent=2, ensure_ascii=False) + "\n"
