"""Reading and validating matrix data files (the bundled copy or a user's own).

A matrix is one YAML file or a folder of them; every file carries
``schema_version`` and any of the sections in :data:`cosea.matrix.models.SECTIONS`.
A file with ``extends: cosea`` adds its entries to the bundled matrix, so an
organisation can keep only its own techniques in a small file.

Validation collects every problem instead of stopping at the first, and each
problem names the file, the line, the entry and what is wrong, e.g.::

    my-matrix.yaml:41 [technique T0150]: mitigation M0999 does not exist
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cosea.errors import ValidationFailed
from cosea.matrix.models import (
    FILE_KEYS,
    SCHEMA_VERSION,
    SECTIONS,
    TECHNIQUE_ID,
    Entry,
    MatrixInfo,
    Mitigation,
    Reference,
    ResearchModel,
    Stakeholder,
    Tactic,
    Technique,
    entry_id,
)

DEFAULT_DATA = Path(__file__).parent / "data"

#: libyaml's loader when PyYAML was built with it (several times faster), else the pure one.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Singular names used in problem messages ("technique T0101").
_KIND = {
    "references": "reference",
    "research_models": "research model",
    "data_sources": "data source",
    "stakeholders": "stakeholder",
    "tactics": "tactic",
    "mitigations": "mitigation",
    "techniques": "technique",
}


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an entry was defined, for messages and for ``cosea matrix show``."""

    file: Path
    line: int | None

    def describe(self) -> str:
        return f"{self.file}:{self.line}" if self.line else str(self.file)


@dataclass
class RawMatrix:
    """Every validated entry of a matrix, with its origin, before cross-checks."""

    info: MatrixInfo | None = None
    sections: dict[str, dict[str, Entry]] = field(
        default_factory=lambda: {name: {} for name in SECTIONS}
    )
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)
    #: Files that could not be parsed at all; cross-checks would only add noise.
    unreadable: list[Path] = field(default_factory=list)
    #: Entries that failed the schema; checks that count references skip, as they would
    #: blame entries that are only unreferenced because the referrer was rejected.
    rejected: int = 0


class _Lines:
    """Line numbers of the items and fields of a YAML file, from its node tree."""

    def __init__(self) -> None:
        self.items: dict[str, list[int]] = {}
        self.fields: dict[tuple[str, int], dict[str, int]] = {}
        self.top: dict[str, int] = {}

    def item(self, section: str, index: int) -> int | None:
        lines = self.items.get(section, [])
        return lines[index] if index < len(lines) else self.top.get(section)

    def field(self, section: str, index: int, name: str) -> int | None:
        return self.fields.get((section, index), {}).get(name) or self.item(section, index)


def _index_lines(root: yaml.Node | None, problems: list[str], where: str) -> _Lines:
    lines = _Lines()
    if not isinstance(root, yaml.MappingNode):
        return lines
    _report_duplicate_keys(root, problems, where)
    for key_node, value_node in root.value:
        key = str(key_node.value)
        lines.top[key] = key_node.start_mark.line + 1
        if not isinstance(value_node, yaml.SequenceNode):
            continue
        lines.items[key] = [item.start_mark.line + 1 for item in value_node.value]
        for index, item in enumerate(value_node.value):
            if isinstance(item, yaml.MappingNode):
                lines.fields[(key, index)] = {
                    str(k.value): k.start_mark.line + 1 for k, _ in item.value
                }
    return lines


def _report_duplicate_keys(node: yaml.Node, problems: list[str], where: str) -> None:
    # PyYAML keeps the last of two equal keys without a word; in a knowledge base
    # that silently drops half an entry, so it is reported.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(
                    f"{where}:{key_node.start_mark.line + 1}: key '{key}' appears twice "
                    "in the same mapping (the first would be silently lost)"
                )
            seen.add(key)
            _report_duplicate_keys(value_node, problems, where)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _report_duplicate_keys(item, problems, where)


def _construct(text: str, root: yaml.Node | None) -> Any:
    if root is None:
        return None
    loader = _SafeLoader(text)
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _describe_error(error: dict[str, Any], model: type[Entry]) -> tuple[str | None, str]:
    """A Pydantic error as (top-level field, plain-language problem)."""
    location = error.get("loc", ())
    top = str(location[0]) if location else None
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)
    path = path.lstrip(".")
    kind = error.get("type", "")
    message = str(error.get("msg", ""))
    if kind == "missing":
        return top, f"missing required field '{path}'"
    if kind == "extra_forbidden":
        allowed = sorted(model.model_fields)
        close = difflib.get_close_matches(path, allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
        return top, f"unknown field '{path}'{hint}"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "too_short" and location:
        message = "must list at least one item"
    return top, f"field '{path}': {message}"


def _label(section: str, index: int, data: Any) -> str:
    key = "key" if section == "references" else "id"
    if isinstance(data, dict) and isinstance(data.get(key), str):
        return f"{_KIND[section]} {data[key]}"
    return f"{section} #{index + 1}"


def _read_file(path: Path, raw: RawMatrix, problems: list[str]) -> bool:
    """Validate one file into ``raw``; returns whether it asks to extend the bundled matrix."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(f"{where}: cannot read the file: {error}")
        raw.unreadable.append(path)
        return False
    try:
        # One parse into nodes (they carry line numbers), then plain data from the nodes.
        root = yaml.compose(text, Loader=_SafeLoader)
        data = _construct(text, root)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        problems.append(f"{where}{line}: YAML syntax error: {reason}")
        raw.unreadable.append(path)
        return False
    lines = _index_lines(root, problems, where)
    if data is None:
        problems.append(f"{where}: the file is empty (expected 'schema_version: 1' and sections)")
        return False
    if not isinstance(data, dict):
        problems.append(f"{where}: expected a mapping of sections at the top, not a list or text")
        return False

    known = set(FILE_KEYS) | set(SECTIONS)
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(str(key), sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(
                f"{where}:{lines.top.get(str(key), '?')}: unknown top-level key '{key}'{hint}"
            )

    version = data.get("schema_version")
    if version is None:
        problems.append(f"{where}:1: missing 'schema_version' (add 'schema_version: 1' at the top)")
    elif version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        reason = "is newer than this cosea reads; upgrade cosea" if newer else "is not supported"
        problems.append(
            f"{where}:{lines.top.get('schema_version')}: schema_version {version!r} {reason} "
            f"(this cosea reads schema_version {SCHEMA_VERSION})"
        )

    extends = data.get("extends")
    if extends not in (None, "cosea"):
        problems.append(
            f"{where}:{lines.top.get('extends')}: extends must be 'cosea' (the bundled matrix), "
            f"not {extends!r}"
        )

    if "matrix" in data:
        try:
            info = MatrixInfo.model_validate(data["matrix"])
        except ValidationError as error:
            for detail in error.errors():
                _, problem = _describe_error(detail, MatrixInfo)  # type: ignore[arg-type]
                problems.append(f"{where}:{lines.top.get('matrix')} [matrix]: {problem}")
        else:
            if raw.info is not None:
                problems.append(
                    f"{where}:{lines.top.get('matrix')} [matrix]: a second 'matrix' section; "
                    "name and version belong in one file only"
                )
            raw.info = info

    for section, model in SECTIONS.items():
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(
                f"{where}:{lines.top.get(section)}: '{section}' must be a list of entries"
            )
            continue
        for index, item in enumerate(items):
            label = _label(section, index, item)
            if not isinstance(item, dict):
                problems.append(
                    f"{where}:{lines.item(section, index)} [{label}]: expected a mapping of fields"
                )
                continue
            try:
                entry = model.model_validate(item)
            except ValidationError as error:
                for detail in error.errors():
                    top, problem = _describe_error(detail, model)  # type: ignore[arg-type]
                    line = lines.field(section, index, top) if top else lines.item(section, index)
                    problems.append(f"{where}:{line} [{label}]: {problem}")
                raw.rejected += 1
                continue
            identifier = entry_id(entry)
            origin = Origin(path, lines.item(section, index))
            existing = raw.origins.get((section, identifier))
            if existing is not None:
                problems.append(
                    f"{origin.describe()} [{label}]: duplicate {_KIND[section]} id {identifier} "
                    f"(already defined at {existing.describe()})"
                )
                continue
            raw.sections[section][identifier] = entry
            raw.origins[(section, identifier)] = origin
    return extends == "cosea"


def _data_files(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _read(path: Path, problems: list[str]) -> RawMatrix:
    raw = RawMatrix()
    if not path.exists():
        problems.append(f"{path}: no such file or folder")
        return raw
    files = _data_files(path) if path.is_dir() else [path]
    if not files:
        problems.append(f"{path}: the folder holds no .yaml files")
        return raw
    extends = False
    for file in files:
        extends |= _read_file(file, raw, problems)
    raw.sources = files
    if extends:
        raw = _merge_onto_default(raw, problems)
    return raw


def _merge_onto_default(extension: RawMatrix, problems: list[str]) -> RawMatrix:
    base = _read_default_raw()
    merged = RawMatrix(
        info=extension.info or base.info,
        sources=base.sources + extension.sources,
        unreadable=extension.unreadable,
        rejected=extension.rejected,
    )
    for section in SECTIONS:
        merged.sections[section] = dict(base.sections[section])
    merged.origins = dict(base.origins)
    for (section, identifier), origin in extension.origins.items():
        if identifier in base.sections[section]:
            problems.append(
                f"{origin.describe()} [{_KIND[section]} {identifier}]: {identifier} is already "
                "defined by the bundled cosea matrix; give your entry a new id"
            )
            continue
        merged.sections[section][identifier] = extension.sections[section][identifier]
        merged.origins[(section, identifier)] = origin
    return merged


@cache
def _read_default_raw() -> RawMatrix:
    problems: list[str] = []
    raw = _read(DEFAULT_DATA, problems)
    if problems:  # a broken bundled matrix is a packaging bug, not user input
        raise ValidationFailed(DEFAULT_DATA, problems)
    return raw


def _cross_check(raw: RawMatrix, problems: list[str]) -> None:
    sections = raw.sections
    tactics: dict[str, Tactic] = sections["tactics"]  # type: ignore[assignment]
    techniques: dict[str, Technique] = sections["techniques"]  # type: ignore[assignment]
    mitigations: dict[str, Mitigation] = sections["mitigations"]  # type: ignore[assignment]
    stakeholders: dict[str, Stakeholder] = sections["stakeholders"]  # type: ignore[assignment]
    references: dict[str, Reference] = sections["references"]  # type: ignore[assignment]
    models: dict[str, ResearchModel] = sections["research_models"]  # type: ignore[assignment]
    data_sources = sections["data_sources"]

    def report(section: str, identifier: str, problem: str) -> None:
        origin = raw.origins.get((section, identifier))
        where = origin.describe() if origin else "<matrix>"
        problems.append(f"{where} [{_KIND[section]} {identifier}]: {problem}")

    def missing(known: dict[str, Any], wanted: str, what: str) -> str | None:
        if wanted in known:
            return None
        close = difflib.get_close_matches(wanted, list(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{what} {wanted} does not exist{hint}"

    def check_references(section: str, identifier: str, keys: list[str]) -> None:
        for key in keys:
            if problem := missing(references, key, "reference"):
                report(section, identifier, problem)

    if not tactics:
        problems.append(
            f"{raw.sources[0] if raw.sources else '<matrix>'}: the matrix has no tactics"
        )

    orders: dict[int, str] = {}
    for tactic in tactics.values():
        if tactic.order in orders:
            report(
                "tactics",
                tactic.id,
                f"order {tactic.order} is already taken by tactic {orders[tactic.order]}",
            )
        orders[tactic.order] = tactic.id
        check_references("tactics", tactic.id, tactic.references)
        for stage in tactic.research_stages:
            model = models.get(stage.model)
            if model is None:
                report(
                    "tactics",
                    tactic.id,
                    missing(models, stage.model, "research model") or "",
                )
            elif stage.stage not in model.stages:
                report(
                    "tactics",
                    tactic.id,
                    f"'{stage.stage}' is not a stage of {model.id} "
                    f"(its stages: {'; '.join(model.stages)})",
                )

    used_mitigations: set[str] = set()
    for technique in techniques.values():
        if problem := missing(tactics, technique.tactic, "tactic"):
            report("techniques", technique.id, problem)
        elif technique.id[1:3] != technique.tactic[2:4]:
            report(
                "techniques",
                technique.id,
                f"a technique of {technique.tactic} needs an id T{technique.tactic[2:4]}xx "
                f"(the first two digits are its tactic's)",
            )
        for other in technique.related:
            if other == technique.id:
                report("techniques", technique.id, "lists itself as a related technique")
            elif not TECHNIQUE_ID.match(other):
                report("techniques", technique.id, f"related {other!r} is not a technique id")
            elif problem := missing(techniques, other, "related technique"):
                report("techniques", technique.id, problem)
        for mitigation_id in technique.mitigations:
            if problem := missing(mitigations, mitigation_id, "mitigation"):
                report("techniques", technique.id, problem)
            used_mitigations.add(mitigation_id)
        for source in technique.data_sources:
            if problem := missing(data_sources, source, "data source"):
                report("techniques", technique.id, problem)
        check_references("techniques", technique.id, technique.references)

    for tactic in tactics.values():
        if not raw.rejected and not any(t.tactic == tactic.id for t in techniques.values()):
            report("tactics", tactic.id, "has no techniques (every tactic needs at least one)")

    owned: dict[str, int] = defaultdict(int)
    for mitigation in mitigations.values():
        for stakeholder_id in mitigation.stakeholders:
            if problem := missing(stakeholders, stakeholder_id, "stakeholder"):
                report("mitigations", mitigation.id, problem)
            owned[stakeholder_id] += 1
        if mitigation.id not in used_mitigations and not raw.rejected:
            report(
                "mitigations",
                mitigation.id,
                "no technique lists it; add it to the 'mitigations' of the techniques it counters",
            )
        check_references("mitigations", mitigation.id, mitigation.references)

    for stakeholder in stakeholders.values():
        if not owned.get(stakeholder.id) and not raw.rejected:
            report(
                "stakeholders",
                stakeholder.id,
                "owns no mitigation (list it under 'stakeholders' of at least one mitigation)",
            )
        check_references("stakeholders", stakeholder.id, stakeholder.references)

    for model in models.values():
        check_references("research_models", model.id, model.references)


def read_matrix(path: Path) -> tuple[RawMatrix, list[str]]:
    """Read and fully validate a matrix file or folder; returns it with its problems."""
    problems: list[str] = []
    raw = _read(Path(path), problems)
    if raw.sources and not raw.unreadable:
        _cross_check(raw, problems)
    return raw, problems


def read_default() -> RawMatrix:
    """The bundled matrix, validated once per process."""
    raw = _read_default_raw()
    problems: list[str] = []
    _cross_check(raw, problems)
    if problems:
        raise ValidationFailed(DEFAULT_DATA, problems)
    return raw
