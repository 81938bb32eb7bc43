"""The bundled matrix carries everything the shared spec fixes, and follows the content rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cosea.matrix import Matrix
from cosea.matrix.loader import DEFAULT_DATA
from cosea.matrix.matrix import validate_file

REQUIRED_STAKEHOLDERS = {
    "platforms",
    "law-and-legislature",
    "telecoms-isps",
    "law-enforcement",
    "banks-financial",
    "internet-cafes",
    "social-services",
    "faith-leaders",
    "ngos-intervention",
    "academia-research",
    "hospitals",
    "parents-guardians",
    "children-young-people",
    "schools-educators",
}

RESEARCH_MODELS = {
    "oconnell-grooming",
    "winters-jeglic-sgm",
    "lorenzo-dus-online-grooming",
    "kopecky-sextortion",
    "europol-osce",
}


def _spec_tables(spec: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Rows of the tactic table and of the technique table of cosea-matrix.md."""
    tactics: list[list[str]] = []
    techniques: list[list[str]] = []
    for line in spec.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| T"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if re.fullmatch(r"TA\d\d", cells[0]):
            tactics.append(cells)
        elif re.fullmatch(r"T\d{4}", cells[0]):
            techniques.append(cells)
    return tactics, techniques


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> tuple[list[list[str]], list[list[str]]]:
    tactics, techniques = _spec_tables(shared_dir / "spec" / "cosea-matrix.md")
    assert len(tactics) == 10 and len(techniques) >= 34, "spec tables not found"
    return tactics, techniques


def test_bundled_data_validates_cleanly() -> None:
    assert validate_file(DEFAULT_DATA) == []


def test_every_spec_tactic_is_present_with_its_name_and_scope(matrix: Matrix, spec) -> None:
    tactics, _ = spec
    for tactic_id, name, scope in tactics:
        tactic = matrix.tactic(tactic_id)
        assert tactic.name == name
        assert tactic.scope == scope


def test_tactics_follow_the_spec_kill_chain_order(matrix: Matrix, spec) -> None:
    tactics, _ = spec
    assert [t.id for t in matrix.tactics] == [row[0] for row in tactics]
    assert [matrix.tactic_order(row[0]) for row in tactics] == list(range(1, 11))


def test_every_spec_technique_is_present_with_tactic_name_and_scope(matrix: Matrix, spec) -> None:
    _, techniques = spec
    for technique_id, tactic_id, name, scope in techniques:
        technique = matrix.technique(technique_id)
        assert technique.tactic == tactic_id
        assert technique.name == name
        assert technique.scope == scope
    assert set(matrix.techniques) == {row[0] for row in techniques}


def test_techniques_are_fully_described(matrix: Matrix) -> None:
    for technique in matrix.techniques.values():
        assert len(technique.description) > 150, technique.id
        assert len(technique.indicators) >= 3, technique.id
        assert technique.data_sources, technique.id
        assert len(technique.detection) > 80, technique.id
        assert technique.related, technique.id
        assert len(technique.mitigations) >= 3, technique.id
        assert technique.references, technique.id


def test_every_technique_and_stakeholder_has_a_mitigation(matrix: Matrix) -> None:
    for technique in matrix.techniques.values():
        assert matrix.mitigations_for(technique.id)
    for stakeholder in matrix.stakeholders:
        assert matrix.mitigations_of(stakeholder), stakeholder


def test_every_tactic_has_mitigations_from_several_stakeholders(matrix: Matrix) -> None:
    for tactic in matrix.tactics:
        mitigations = {m for t in matrix.techniques_of(tactic.id) for m in t.mitigations}
        owners = {s for m in mitigations for s in matrix.mitigations[m].stakeholders}
        assert len(mitigations) >= 4, tactic.id
        assert len(owners) >= 3, tactic.id


def test_stakeholders_have_roles_and_initiatives(matrix: Matrix) -> None:
    assert set(matrix.stakeholders) == REQUIRED_STAKEHOLDERS
    for stakeholder in matrix.stakeholders.values():
        assert stakeholder.role and len(stakeholder.strategic_initiatives) >= 3


def test_tactics_map_onto_the_research_models(matrix: Matrix) -> None:
    used = {stage.model for tactic in matrix.tactics for stage in tactic.research_stages}
    assert used >= RESEARCH_MODELS
    for tactic in matrix.tactics:
        assert tactic.research_stages and tactic.references, tactic.id
    for model_id in RESEARCH_MODELS:
        assert matrix.research_models[model_id].references


def test_mitigation_ids_and_kinds(matrix: Matrix) -> None:
    for mitigation in matrix.mitigations.values():
        assert re.fullmatch(r"M\d{4}", mitigation.id)
        assert mitigation.kind in {"prevent", "detect", "disrupt", "respond", "support"}
    kinds = {m.kind for m in matrix.mitigations.values()}
    assert kinds == {"prevent", "detect", "disrupt", "respond", "support"}


# Words that would mean the text describes sexual content rather than warning signs.
GRAPHIC = re.compile(
    r"\b(nude|naked|genital\w*|masturbat\w*|penetrat\w*|breast\w*|penis|vagina)\b", re.I
)


def test_indicators_are_short_and_the_text_is_non_graphic() -> None:
    for path in sorted(DEFAULT_DATA.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert not GRAPHIC.search(text), f"{path.name}: {GRAPHIC.search(text).group(0)}"
    data = yaml.safe_load((DEFAULT_DATA / "techniques.yaml").read_text(encoding="utf-8"))
    for technique in data["techniques"]:
        for indicator in technique["indicators"]:
            assert len(indicator) <= 90, (technique["id"], indicator)


def test_labelled_dev_set_uses_only_matrix_techniques(
    matrix: Matrix, dev_conversation_files
) -> None:
    import json

    for path in dev_conversation_files:
        for line in path.read_text(encoding="utf-8").splitlines():
            label = json.loads(line).get("label") or {}
            for ids in (label.get("techniques") or {}).values():
                assert set(ids) <= set(matrix.techniques), (path.name, ids)
