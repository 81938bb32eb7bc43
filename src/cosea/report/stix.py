"""STIX 2.1 intelligence from an alert or case, for partners: tactics seen and file hashes.

The bundle holds, built with ``stix2``:

* the reporting ``identity`` (the report policy's ``identity_name``);
* the matrix's ``attack-pattern`` for each technique seen, exactly as ``cosea matrix
  export --format stix`` publishes it (same ids, carrying the cosea ``external_id``), with
  the cosea project identity and extension definition they refer to (TLP:CLEAR, public);
* a ``sighting`` of each attack-pattern: ``count`` (messages showing it), ``first_seen``,
  ``last_seen``, sighted by the reporting identity;
* an ``indicator`` per file that matched a hash list, ``[file:hashes.'SHA-256' = '…']``
  (with MD5 and SHA-1 joined by ``OR``), labelled with its category so ``cosea lists import
  --format stix`` files it under the right category with the partner as source;
* ``observed-data`` (pseudonymised ``user-account`` and ``file`` objects) only where the
  report policy allows;
* a ``report`` grouping them, and the chosen TLP 2.0 marking on everything that is not
  the public matrix.

No message text and no raw account identifier is ever put in a bundle.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cosea import __version__
from cosea.errors import InputError
from cosea.report.policy import ReportPolicy, load_policy
from cosea.report.source import ReportItem
from cosea.types import parse_timestamp

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# The OASIS TLP 2.0 marking definitions (stix-common-objects), by level.
TLP_MARKINGS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_ALIASES = {"white": "clear", "amber-strict": "amber+strict", "amber_strict": "amber+strict"}
STIX_HASH_NAMES = {"sha256": "SHA-256", "md5": "MD5", "sha1": "SHA-1"}
DEFAULT_CATEGORIES = {"known-abuse", "of-concern", "known-benign"}


def tlp_level(level: str) -> str:
    name = level.strip().lower().removeprefix("tlp:")
    name = TLP_ALIASES.get(name, name)
    if name not in TLP_MARKINGS:
        raise InputError("--tlp", f"unknown TLP level {level!r}; use {', '.join(TLP_MARKINGS)}")
    return name


def tlp_marking(level: str) -> Any:
    import stix2

    name = tlp_level(level)
    return stix2.v21.MarkingDefinition(
        id=TLP_MARKINGS[name],
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{name.upper()}",
        extensions={TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": name}},
        allow_custom=True,
    )


def _stable_id(kind: str, *parts: str) -> str:
    digest = hashlib.sha256(":".join(("cosea-report", kind, *parts)).encode()).digest()
    return f"{kind}--{uuid.UUID(bytes=digest[:16], version=4)}"


@cache
def _matrix_objects() -> dict[str, Any]:
    """The matrix's STIX objects by id (built once; the same the matrix export writes)."""
    from cosea.matrix.export.stix import build_bundle
    from cosea.report.naming import matrix

    bundle = build_bundle(matrix())
    return {obj["id"]: obj for obj in bundle.objects}


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    when = parse_timestamp(value) if isinstance(value, str) else value
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def identity_name(policy: ReportPolicy) -> str:
    return policy.identity_name or policy.reporter.company or "cosea installation"


@dataclass(slots=True)
class StixWritten:
    path: Path
    objects: int
    sightings: int
    indicators: int
    observed_data: int
    tlp: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "objects": self.objects,
            "sightings": self.sightings,
            "indicators": self.indicators,
            "observed_data": self.observed_data,
            "tlp": self.tlp,
        }


def build_stix_bundle(
    item: ReportItem,
    *,
    tlp: str = "amber",
    policy: ReportPolicy | None = None,
    observed_data: bool | None = None,
    all_media: bool = False,
) -> tuple[Any, dict[str, int]]:
    """The bundle (a ``stix2`` Bundle) and counts of what it holds."""
    import stix2

    from cosea.matrix.export.stix import stix_id

    policy = policy or load_policy()
    marking = tlp_marking(tlp)
    now = datetime.now(UTC)
    author = stix2.v21.Identity(
        id=_stable_id("identity", identity_name(policy)),
        name=identity_name(policy),
        identity_class="organization",
        description="The organisation sharing this intelligence (made with cosea).",
        object_marking_refs=[marking.id],
        created=datetime(2020, 1, 1, tzinfo=UTC),
        modified=datetime(2020, 1, 1, tzinfo=UTC),
    )
    common = {"created_by_ref": author.id, "object_marking_refs": [marking.id]}
    objects: list[Any] = [marking, author]
    shared = _matrix_objects()
    matrix_ids: list[str] = []
    counts = {"sightings": 0, "indicators": 0, "observed_data": 0}

    sightings = item.sightings()
    observed_ids: list[str] = []
    allow_observed = policy.stix_observed_data if observed_data is None else observed_data
    if observed_data and not policy.stix_observed_data:
        raise InputError(
            "--observed-data",
            "the report policy does not allow observed-data in STIX bundles (stix_observed_data)",
        )
    if allow_observed:
        observed_ids = _observed_data(item, policy, objects, common, counts)

    for technique, sighting in sightings.items():
        pattern_id = stix_id("attack-pattern", technique)
        if pattern_id not in shared:
            continue  # a technique outside the matrix cannot be shared as its attack-pattern
        matrix_ids.append(pattern_id)
        first = _utc(sighting.first_seen) or _utc(item.created_at) or now
        last = _utc(sighting.last_seen) or first
        extra: dict[str, Any] = {}
        if observed_ids:
            extra["observed_data_refs"] = observed_ids
        objects.append(
            stix2.v21.Sighting(
                sighting_of_ref=pattern_id,
                count=max(1, sighting.count),
                first_seen=first,
                last_seen=max(first, last),
                where_sighted_refs=[author.id],
                description=f"Technique {technique} seen in {sighting.count} message(s) of "
                f"one {'alert' if item.kind == 'alert' else 'case'} reviewed with cosea.",
                **extra,
                **common,
            )
        )
        counts["sightings"] += 1

    for medium in item.media:
        if not (medium.matches or all_media):
            continue
        comparisons = [
            f"file:hashes.'{name}' = '{medium.hashes[key]}'"
            for key, name in STIX_HASH_NAMES.items()
            if medium.hashes.get(key)
        ]
        if not comparisons:
            continue
        categories = medium.categories
        category = categories[0] if categories else None
        labels = []
        if category in DEFAULT_CATEGORIES:
            labels = [f"cosea:category={category}", "cosea:scheme=default"]
        valid_from = _utc(medium.observed_at) or _utc(item.created_at) or now
        objects.append(
            stix2.v21.Indicator(
                name="File seen with a child-protection alert",
                description="Hashes of a file "
                + (
                    f"that matched hash list(s) {', '.join(sorted({str(m.get('list')) for m in medium.matches}))}"
                    if medium.matches
                    else "received in a conversation a reviewer confirmed"
                )
                + ". The hashes identify the file; the file is not shared.",
                pattern=f"[{' OR '.join(comparisons)}]",
                pattern_type="stix",
                valid_from=valid_from,
                indicator_types=["malicious-activity"]
                if category == "known-abuse"
                else ["anomalous-activity"],
                labels=labels or None,
                **common,
            )
        )
        counts["indicators"] += 1

    used_matrix = sorted(set(matrix_ids))
    if used_matrix:
        from cosea.matrix.export.stix import EXTENSION_ID, IDENTITY_ID, TLP_CLEAR_ID

        for shared_id in (TLP_CLEAR_ID, IDENTITY_ID, EXTENSION_ID, *used_matrix):
            if shared_id == marking.id:
                continue
            objects.append(shared[shared_id])
    own = [obj.id for obj in objects if obj["type"] in {"sighting", "indicator", "observed-data"}]
    if own:
        objects.append(
            stix2.v21.Report(
                name=f"COSEA techniques and file hashes ({'alert' if item.kind == 'alert' else 'case'})",
                description=f"Shared by {identity_name(policy)} with cosea {__version__}. "
                "Sightings refer to attack-patterns of the COSEA matrix; indicators carry "
                "file hashes only.",
                report_types=["threat-report"],
                published=now,
                object_refs=own + used_matrix,
                **common,
            )
        )
    bundle = stix2.v21.Bundle(objects=objects, allow_custom=True)
    return bundle, counts


def _observed_data(
    item: ReportItem,
    policy: ReportPolicy,
    objects: list[Any],
    common: dict[str, Any],
    counts: dict[str, int],
) -> list[str]:
    import stix2

    pseudonymise = policy.pseudonymises("stix")
    ids = []
    now = datetime.now(UTC)
    for conversation, suspect in item.suspect_accounts():
        raw = str(suspect.get("id"))
        user_id = (
            item.pseudonymize("participant", conversation.platform, raw) if pseudonymise else raw
        )
        account = stix2.v21.UserAccount(user_id=user_id, account_type=None)
        refs = [account.id]
        objects.append(account)
        for medium in item.media:
            if medium.conversation_id not in {None, conversation.id} or not medium.matches:
                continue
            hashes = {
                name: medium.hashes[key]
                for key, name in STIX_HASH_NAMES.items()
                if medium.hashes.get(key)
            }
            if hashes:
                file_object = stix2.v21.File(hashes=hashes)
                objects.append(file_object)
                refs.append(file_object.id)
        times = [_utc(m.ts) for m in conversation.messages if m.ts and m.sender == raw] or [
            _utc(item.created_at) or now
        ]
        times = [t for t in times if t is not None]
        observed = stix2.v21.ObservedData(
            first_observed=min(times),
            last_observed=max(times),
            number_observed=max(1, sum(1 for m in conversation.messages if m.sender == raw)),
            object_refs=refs,
            **common,
        )
        objects.append(observed)
        ids.append(observed.id)
        counts["observed_data"] += 1
    return ids


def write_stix(
    item: ReportItem,
    out: Path | str,
    *,
    tlp: str = "amber",
    policy: ReportPolicy | None = None,
    observed_data: bool | None = None,
    all_media: bool = False,
) -> StixWritten:
    bundle, counts = build_stix_bundle(
        item, tlp=tlp, policy=policy, observed_data=observed_data, all_media=all_media
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json.loads(bundle.serialize()), indent=2, ensure_ascii=False) + "\n"
    out.write_text(text, encoding="utf-8")
    written = StixWritten(
        out,
        len(bundle.objects),
        counts["sightings"],
        counts["indicators"],
        counts["observed_data"],
        tlp_level(tlp),
    )
    item.record("stix", {"file": out.name, **written.to_dict(), "path": None})
    return written


@dataclass(slots=True)
class BundleCheck:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and not self.skipped


def validate_bundle(path: Path | str) -> BundleCheck:
    """stix2-validator's findings (a development dependency; skipped when missing)."""
    try:
        from stix2validator import ValidationOptions, validate_file
    except ImportError:
        return BundleCheck(skipped=True)
    results = validate_file(str(path), ValidationOptions(version="2.1"))
    check = BundleCheck()
    for result in results.object_results:
        check.errors += [f"{result.object_id}: {e}" for e in result.errors]
        check.warnings += [f"{result.object_id}: {w}" for w in result.warnings]
    if not results.is_valid and not check.errors:
        check.errors.append(
            str(getattr(results, "fatal", "") or "the bundle is not valid STIX 2.1")
        )
    return check
