"""The schema rejects bad files with messages that name the file, line, entry and problem,
and accepts an organisation's extended copy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cosea.errors import ValidationFailed
from cosea.matrix import load, validate_file

MINIMAL = """
schema_version: 1
matrix:
  name: Tiny matrix
  version: "0.1"
  description: A matrix for tests.
data_sources:
  - id: message-text
    name: Message text
    description: The words of the chat.
stakeholders:
  - id: platforms
    name: Platforms
    role: Run the services.
    strategic_initiatives: [Safety by design.]
tactics:
  - id: TA01
    name: Reconnaissance
    order: 1
    scope: finding a target
    description: The offender looks for a child.
mitigations:
  - id: M0001
    name: Private accounts
    kind: prevent
    stakeholders: [platforms]
    description: Hide young users from strangers.
techniques:
  - id: T0101
    tactic: TA01
    name: Age probing
    scope: asks the child's age
    description: Asks how old the child is.
    indicators: [asks "how old are you"]
    data_sources: [message-text]
    detection: Weight by who asks.
    mitigations: [M0001]
"""


def _problems_for(write_yaml, text: str, name: str = "matrix.yaml") -> tuple[Path, list[str]]:
    path = write_yaml(name, text)
    return path, validate_file(path)


def test_minimal_file_is_valid(write_yaml) -> None:
    path, problems = _problems_for(write_yaml, MINIMAL)
    assert problems == []
    tiny = load(path)
    assert tiny.name == "Tiny matrix"
    assert [t.id for t in tiny.tactics] == ["TA01"]
    assert tiny.tactic_of("T0101").id == "TA01"


def test_duplicate_id_names_both_places(write_yaml) -> None:
    text = (
        MINIMAL
        + """
  - id: T0101
    tactic: TA01
    name: Age probing again
    scope: asks again
    description: Again.
    indicators: [asks again]
    data_sources: [message-text]
    detection: Same.
    mitigations: [M0001]
"""
    )
    path, problems = _problems_for(write_yaml, text)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:")
    assert "[technique T0101]" in problems[0]
    assert "duplicate technique id T0101" in problems[0]
    assert f"already defined at {path}:" in problems[0]


def test_unknown_tactic_reference(write_yaml) -> None:
    path, problems = _problems_for(
        write_yaml, MINIMAL.replace("    tactic: TA01", "    tactic: TA09")
    )
    assert any(
        p.startswith(f"{path}:") and "[technique T0101]" in p and "tactic TA09 does not exist" in p
        for p in problems
    ), problems


def test_bad_id_formats(write_yaml) -> None:
    text = (
        MINIMAL.replace("  - id: T0101", "  - id: T101")
        .replace("id: M0001", "id: M01")
        .replace("id: TA01\n", "id: TA1\n")
    )
    _, problems = _problems_for(write_yaml, text)
    joined = "\n".join(problems)
    assert "'T101' is not a valid technique id" in joined
    assert "'M01' is not a valid mitigation id" in joined
    assert "'TA1' is not a valid tactic id" in joined


def test_technique_digits_must_match_its_tactic(write_yaml) -> None:
    _, problems = _problems_for(write_yaml, MINIMAL.replace("  - id: T0101", "  - id: T0201"))
    assert any("[technique T0201]" in p and "needs an id T01xx" in p for p in problems), problems


def test_technique_without_mitigation(write_yaml) -> None:
    path, problems = _problems_for(
        write_yaml, MINIMAL.replace("mitigations: [M0001]", "mitigations: []")
    )
    line = MINIMAL.lstrip().splitlines().index("    mitigations: [M0001]") + 1
    assert (
        f"{path}:{line} [technique T0101]: field 'mitigations': must list at least one item"
        in problems
    )


def test_missing_field_names_it(write_yaml) -> None:
    path, problems = _problems_for(
        write_yaml, MINIMAL.replace("    detection: Weight by who asks.\n", "")
    )
    assert any(
        p.startswith(f"{path}:")
        and "[technique T0101]" in p
        and "missing required field 'detection'" in p
        for p in problems
    ), problems


def test_unknown_field_suggests_the_right_one(write_yaml) -> None:
    _, problems = _problems_for(
        write_yaml, MINIMAL.replace("    mitigations: [M0001]\n", "    mitigatons: [M0001]\n")
    )
    assert any("unknown field 'mitigatons' (did you mean 'mitigations'?)" in p for p in problems), (
        problems
    )


def test_yaml_syntax_error_names_file_and_line(write_yaml) -> None:
    path, problems = _problems_for(
        write_yaml, MINIMAL.replace("name: Age probing", "name: [Age probing")
    )
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:")
    assert "YAML syntax error" in problems[0]
    assert re.match(rf"{re.escape(str(path))}:\d+: ", problems[0])


def test_load_raises_validation_failed_listing_every_problem(write_yaml) -> None:
    text = MINIMAL.replace("    tactic: TA01", "    tactic: TA09").replace(
        "mitigations: [M0001]", "mitigations: [M0009]"
    )
    path = write_yaml("broken.yaml", text)
    with pytest.raises(ValidationFailed) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message
    assert "tactic TA09 does not exist" in message
    assert "mitigation M0009 does not exist" in message
    assert len(caught.value.problems) >= 2


def test_schema_version_is_required_and_checked(write_yaml) -> None:
    _, missing = _problems_for(write_yaml, MINIMAL.replace("schema_version: 1\n", ""))
    assert any("missing 'schema_version'" in p for p in missing)
    _, newer = _problems_for(write_yaml, MINIMAL.replace("schema_version: 1", "schema_version: 7"))
    assert any("schema_version 7 is newer than this cosea reads" in p for p in newer)


def test_cross_reference_rules(write_yaml) -> None:
    text = (
        MINIMAL.replace(
            "    mitigations: [M0001]\n",
            "    mitigations: [M0001]\n    related: [T0199]\n    references: [nobody-2020]\n",
        )
        + """
  - id: T0102
    tactic: TA01
    name: Location probing
    scope: asks where the child lives
    description: Asks where.
    indicators: [asks which town]
    data_sources: [carrier-pigeon]
    detection: Look at who asks.
    mitigations: [M0001]
"""
    )
    text = text.replace(
        "stakeholders:\n",
        "stakeholders:\n  - id: hospitals\n    name: Hospitals\n    role: Care.\n"
        "    strategic_initiatives: [Statistics.]\n",
    )
    _, problems = _problems_for(write_yaml, text)
    joined = "\n".join(problems)
    assert "[technique T0101]: related technique T0199 does not exist" in joined
    assert "[technique T0101]: reference nobody-2020 does not exist" in joined
    assert "[technique T0102]: data source carrier-pigeon does not exist" in joined
    assert "[stakeholder hospitals]: owns no mitigation" in joined


def test_unused_mitigation_and_duplicate_keys(write_yaml) -> None:
    text = MINIMAL.replace(
        "techniques:\n",
        "  - id: M0002\n    name: Unused\n    kind: detect\n    stakeholders: [platforms]\n"
        "    description: Nobody lists it.\n    description: Twice.\ntechniques:\n",
    )
    _, problems = _problems_for(write_yaml, text)
    joined = "\n".join(problems)
    assert "[mitigation M0002]: no technique lists it" in joined
    assert "key 'description' appears twice" in joined


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    assert validate_file(tmp_path / "nope.yaml") == [
        f"{tmp_path / 'nope.yaml'}: no such file or folder"
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert validate_file(empty) == [f"{empty}: the folder holds no .yaml files"]


def test_extended_copy_with_an_extra_technique_validates_and_loads(data_copy: Path) -> None:
    techniques = data_copy / "techniques.yaml"
    techniques.write_text(
        techniques.read_text(encoding="utf-8")
        + """
  - id: T0450
    tactic: TA04
    name: Voice-chat isolation
    scope: invites the child into a private voice channel away from friends
    description: >-
      An organisation's own technique: the offender invites the child from a group voice channel
      into a private one where moderators and friends cannot hear.
    indicators:
      - invites the child to a private voice channel
    data_sources: [platform-events, message-text]
    detection: Private voice invites from adults to minors in games.
    related: [T0403]
    mitigations: [M0113, M0105]
""",
        encoding="utf-8",
    )
    assert validate_file(data_copy) == []
    extended = load(data_copy)
    assert len(extended.techniques) == len(load().techniques) + 1
    assert extended.tactic_of("T0450").id == "TA04"
    assert [t.id for t in extended.techniques_of("TA04")][-1] == "T0450"
    assert extended.search("voice channel")[0].id == "T0450"


def test_extension_file_adds_to_the_bundled_matrix(write_yaml) -> None:
    path = write_yaml(
        "our-additions.yaml",
        """
        schema_version: 1
        extends: cosea
        mitigations:
          - id: M9001
            name: Voice moderation for minors' channels
            kind: detect
            stakeholders: [platforms]
            description: Moderate private voice channels that include minors.
        techniques:
          - id: T0490
            tactic: TA04
            name: Voice-chat isolation
            scope: invites the child into a private voice channel
            description: Moves the child from a group voice channel to a private one.
            indicators: [invites the child to a private voice channel]
            data_sources: [platform-events]
            detection: Private voice invites from adults to minors.
            related: [T0403]
            mitigations: [M9001, M0105]
        """,
    )
    assert validate_file(path) == []
    extended = load(path)
    assert "T0490" in extended.techniques and "T0101" in extended.techniques
    assert [m.id for m in extended.mitigations_for("T0490", "platforms")] == ["M9001", "M0105"]


def test_extension_may_not_redefine_bundled_ids(write_yaml) -> None:
    path = write_yaml(
        "clash.yaml",
        """
        schema_version: 1
        extends: cosea
        tactics:
          - id: TA04
            name: Isolation
            order: 44
            scope: again
            description: Again.
        """,
    )
    problems = validate_file(path)
    assert any(
        p.startswith(f"{path}:") and "TA04 is already defined by the bundled cosea matrix" in p
        for p in problems
    ), problems


def test_bundled_yaml_files_each_declare_the_schema_version() -> None:
    from cosea.matrix.loader import DEFAULT_DATA

    for path in DEFAULT_DATA.glob("*.yaml"):
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["schema_version"] == 1
