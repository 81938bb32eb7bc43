"""STIX 2.1 bundles of indicators with file-hash patterns.

Accepted on import: ``indicator`` objects with ``pattern_type: stix`` whose pattern
compares file hashes for equality, e.g. ``[file:hashes.'SHA-256' = '…']``, alone or
joined with ``OR``/``AND``. Hash names: ``MD5``, ``SHA-1``, ``SHA-256`` and ``PDQ``
(also ``x-pdq``); other hash names (``SHA-512``, ``SSDEEP``, ``TLSH``…), indicators
without a file hash, other pattern languages and revoked indicators are counted
as unsupported and skipped. Malformed patterns are problems, named by object.

Each entry's source is ``--source`` if given, else the ``name`` of the identity in
``created_by_ref`` (the partner), else the bundle file name; its category comes
from a ``cosea:category=CODE`` label (with ``cosea:scheme=NAME``), else from
``indicator_types`` ``benign`` (known benign), else ``--category`` or the list's
default. Export writes one indicator per file (hashes of one file joined with
``OR``), the exporting identity, and the chosen TLP marking (``--tlp``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cosea.errors import InputError
from cosea.media.lists.formats import (
    Item,
    Problem,
    ReadOptions,
    Record,
    Unsupported,
    WriteOptions,
    register_format,
)
from cosea.media.lists.formats.vics import _locate_json_error
from cosea.media.lists.hashes import canonical_signal, known_signals
from cosea.media.lists.schemes import get_scheme

if TYPE_CHECKING:
    from cosea.media.lists.store import HashEntry, HashListInfo

EXPORT_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "pdq": "PDQ"}
TLP_LEVELS = ("white", "clear", "green", "amber", "red")
# The common one-comparison form is read directly; anything else goes through
# the STIX pattern grammar (stix2patterns), which is exact but slower.
_SIMPLE_PATTERN = re.compile(
    r"^\[\s*file:hashes\.(?:'(?P<quoted>[^']+)'|(?P<bare>[A-Za-z0-9_-]+))\s*=\s*"
    r"'(?P<value>[0-9A-Za-z+/=_-]+)'\s*\]$"
)
_LABEL = re.compile(r"^cosea:(category|scheme)=(.+)$")


def _tlp_marking(level: str) -> Any:
    import stix2

    markings = {
        "white": stix2.TLP_WHITE,
        "clear": stix2.TLP_WHITE,
        "green": stix2.TLP_GREEN,
        "amber": stix2.TLP_AMBER,
        "red": stix2.TLP_RED,
    }
    try:
        return markings[level.lower()]
    except KeyError:
        raise InputError(
            "--tlp", f"unknown TLP level {level!r}; use {', '.join(TLP_LEVELS)}"
        ) from None


def hash_comparisons(pattern: str) -> list[tuple[str, str]]:
    """(hash name, value) of every ``file:hashes.NAME = 'value'`` in ``pattern``.

    Raises ValueError for a pattern that is not valid STIX patterning.
    """
    simple = _SIMPLE_PATTERN.match(pattern.strip())
    if simple:
        return [(simple["quoted"] or simple["bare"], simple["value"])]
    from stix2patterns.exceptions import ParseException
    from stix2patterns.pattern import Pattern

    try:
        inspected = Pattern(pattern).inspect()
    except ParseException as error:
        raise ValueError(f"invalid STIX pattern: {error}") from None
    found = []
    for path, operator, value in inspected.comparisons.get("file", []):
        if len(path) == 2 and path[0] == "hashes" and operator == "=":
            text = str(value)
            if len(text) >= 2 and text[0] == text[-1] == "'":
                text = text[1:-1]
            found.append((str(path[1]), text))
    return found


class StixFormat:
    name = "stix"
    description = "STIX 2.1 bundle of indicators with file-hash patterns (with TLP on export)"
    suffix = ".json"

    def read(self, path: Path, options: ReadOptions) -> Iterator[Item]:
        import ijson

        try:
            identities, bundle_type = self._identities(path)
            if bundle_type != "bundle":
                raise InputError(path, f"not a STIX bundle (type {bundle_type!r})")
            with path.open("rb") as handle:
                for index, obj in enumerate(ijson.items(handle, "objects.item", use_float=True)):
                    if isinstance(obj, dict) and obj.get("type") == "indicator":
                        yield from self._indicator(obj, index, identities, options, path)
        except ijson.JSONError:
            line, problem = _locate_json_error(path)
            raise InputError(path, problem, line=line) from None

    @staticmethod
    def _identities(path: Path) -> tuple[dict[str, str], str | None]:
        import ijson

        identities: dict[str, str] = {}
        bundle_type = None
        with path.open("rb") as handle:
            for prefix, event, value in ijson.parse(handle):
                if prefix == "type" and event == "string":
                    bundle_type = value
                    break
                if prefix == "" and event != "start_map" and event != "map_key":
                    break
        with path.open("rb") as handle:
            for obj in ijson.items(handle, "objects.item"):
                if isinstance(obj, dict) and obj.get("type") == "identity" and obj.get("id"):
                    identities[obj["id"]] = str(obj.get("name") or obj["id"])
        return identities, bundle_type

    @staticmethod
    def _indicator(
        obj: dict[str, Any],
        index: int,
        identities: dict[str, str],
        options: ReadOptions,
        path: Path,
    ) -> Iterator[Item]:
        entry = f"objects[{index}] {obj.get('id', 'indicator')}"
        if obj.get("revoked"):
            yield Unsupported("stix:revoked indicator", entry=entry)
            return
        if obj.get("pattern_type", "stix") != "stix":
            yield Unsupported(f"stix:pattern_type {obj.get('pattern_type')}", entry=entry)
            return
        pattern = obj.get("pattern")
        if not isinstance(pattern, str):
            yield Problem("indicator without a pattern", entry=entry)
            return
        try:
            comparisons = hash_comparisons(pattern)
        except ValueError as error:
            yield Problem(str(error), entry=entry)
            return
        if not comparisons:
            yield Unsupported("stix:indicator without a file hash", entry=entry)
            return
        category = scheme = None
        for label in obj.get("labels") or []:
            match = _LABEL.match(str(label))
            if match and match[1] == "category":
                category = match[2]
            elif match:
                scheme = match[2]
        if category is None and "benign" in (obj.get("indicator_types") or []):
            category, scheme = "known-benign", "default"
        source = (
            options.source
            or identities.get(str(obj.get("created_by_ref")))
            or (path.name if obj.get("created_by_ref") is None else str(obj["created_by_ref"]))
        )
        signals = set(known_signals())
        for hash_name, value in comparisons:
            signal = canonical_signal(hash_name)
            if signal not in signals:
                yield Unsupported(f"stix:{hash_name}", entry=entry)
                continue
            yield Record(
                hash=value,
                signal=signal,
                entry=entry,
                category=category,
                category_scheme=scheme if category is not None else None,
                source=source,
                series=None,
                notes=obj.get("description") or obj.get("name"),
                external_id=obj.get("id"),
            )

    def write(
        self,
        entries: Iterator[HashEntry],
        path: Path,
        info: HashListInfo,
        options: WriteOptions,
    ) -> int:
        import stix2

        marking = _tlp_marking(options.tlp)
        identity = stix2.Identity(
            name=options.source or info.source or "cosea",
            identity_class="organization",
            description="Exporter of this hash list (cosea).",
        )
        scheme = get_scheme(info.category_scheme)
        neutral = get_scheme("default")
        groups: dict[str, list[HashEntry]] = {}
        count = 0
        with path.open("w", encoding="utf-8") as handle:
            handle.write(f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}", "objects": [\n')
            handle.write(marking.serialize())
            handle.write(",\n" + identity.serialize())

            def emit(group: list[HashEntry]) -> None:
                handle.write(
                    ",\n" + self._indicator_for(group, info, scheme, neutral, identity, marking)
                )

            for entry in entries:
                count += 1
                if entry.external_id:
                    groups.setdefault(entry.external_id, []).append(entry)
                else:
                    emit([entry])
            for group in groups.values():
                emit(group)
            handle.write("\n]}\n")
        return count

    @staticmethod
    def _indicator_for(
        group: list[HashEntry],
        info: HashListInfo,
        scheme: Any,
        neutral: Any,
        identity: Any,
        marking: Any,
    ) -> str:
        import stix2

        first = group[0]
        comparisons = " OR ".join(
            f"file:hashes.'{EXPORT_HASH_NAMES.get(e.signal, 'x-' + e.signal)}' = '{e.hash}'"
            for e in group
        )
        category = first.category
        neutral_category = scheme.map_to(category, neutral) if category else None
        indicator_types = {
            "known-abuse": ["malicious-activity"],
            "known-benign": ["benign"],
        }.get(neutral_category or "", ["anomalous-activity"])
        label = scheme.category(category).label if category else "uncategorised"
        labels = [f"cosea:scheme={scheme.name}"]
        if category:
            labels.insert(0, f"cosea:category={category}")
        indicator = stix2.Indicator(
            name=f"{info.name}: known file hash",
            description=first.notes or f"Hash from cosea list {info.name!r}, category {label}.",
            pattern=f"[{comparisons}]",
            pattern_type="stix",
            valid_from=first.added_at,
            indicator_types=indicator_types,
            labels=labels,
            created_by_ref=identity.id,
            object_marking_refs=[marking.id],
        )
        return indicator.serialize()


register_format(StixFormat())
