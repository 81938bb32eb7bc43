"""The registry: catalog by name, add/remove, defaults, hit fields, organisation patterns."""

from __future__ import annotations

from pathlib import Path

import pytest
from recognizer_helpers import make_context

from cosea.chats.recognizers import (
    PatternHit,
    Recognizer,
    RecognizerRegistry,
    available_recognizers,
    create_recognizer,
    default_registry,
    recognize_message,
    register,
)
from cosea.chats.recognizers.lexical import load_pattern_set
from cosea.errors import CoseaError, InputError
from cosea.types import Message, TechniqueHit


def test_catalog_lists_every_builtin() -> None:
    names = available_recognizers()
    for name in (
        "patterns", "patterns.en", "patterns.es", "patterns.de", "patterns.fr", "patterns.pt",
        "declared_age", "self_disclosed_age", "age_gap", "age_inconsistency", "new_account",
        "night_time", "persona_photo", "semantic",
    ):  # fmt: skip
        assert name in names


def test_default_registry_and_language_choice() -> None:
    registry = default_registry(languages=["de"])
    assert registry.names()[0] == "patterns"
    assert "T0401" in registry.technique_ids()
    context = make_context()
    german = recognize_message(registry, Message("m1", "a", "sag es niemandem"), context)
    assert {h.technique_id for h in german.hits} == {"T0401"}
    english = recognize_message(registry, Message("m2", "a", "dont tell anyone about us"), context)
    assert not english.hits


def test_add_remove_and_get_by_name() -> None:
    registry = default_registry(languages=["en"])
    assert "night_time" not in registry.names()
    registry.add(create_recognizer("night_time"))
    assert registry.get("night_time").name == "night_time"
    registry.remove("patterns")
    assert "patterns" not in registry.names()
    with pytest.raises(CoseaError, match="unknown recognizer"):
        create_recognizer("no-such-recognizer")


def test_register_a_custom_recognizer() -> None:
    class Shouting(Recognizer):
        name = "test_shouting"
        technique_ids = ("T0704",)

        def recognize(self, message, text, context):
            if message.text.isupper() and "NOW" in message.text:
                yield TechniqueHit(message.id, "T0704", 0, len(message.text), 0.3, self.name)

    register(Shouting)
    assert "test_shouting" in available_recognizers()
    registry = RecognizerRegistry([create_recognizer("test_shouting")])
    found = recognize_message(registry, Message("m1", "a", "DO IT NOW"), make_context())
    assert [h.recognizer for h in found.hits] == ["test_shouting"]


def test_hit_fields_point_into_the_original_text() -> None:
    registry = default_registry(languages=["en"])
    text = "ok 😏 R U ALONE RN??"
    found = recognize_message(registry, Message("m7", "a", text), make_context())
    hit = next(h for h in found.hits if h.technique_id == "T0103")
    assert isinstance(hit, PatternHit)
    assert (hit.message_id, hit.recognizer, hit.speaker) == ("m7", "patterns", "a")
    assert 0 < hit.confidence <= 1
    assert text[hit.start : hit.end] == hit.matched_text
    assert hit.matched_text.startswith("R U ALONE")
    assert hit.pattern and hit.pattern.startswith("en.T0103")


def test_an_organisation_adds_patterns_in_yaml(tmp_path: Path) -> None:
    extra = tmp_path / "our-patterns.yaml"
    extra.write_text(
        """
language: en
techniques:
  T0403:
    patterns:
      - id: org.T0403.chatapp
        match: 'add me on (?:zorbchat|zorb)'
        confidence: 0.8
        examples: ['add me on zorbchat']
""",
        encoding="utf-8",
    )
    registry = default_registry(languages=["en"], extra_pattern_files=[extra])
    found = recognize_message(registry, Message("m1", "a", "Add me on ZorbChat"), make_context())
    assert [h.pattern for h in found.hits] == ["org.T0403.chatapp"]


def test_bad_pattern_files_name_the_file_and_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("techniques:\n  T0401:\n    patterns:\n      - match: '(unclosed'\n")
    with pytest.raises(InputError) as error:
        load_pattern_set(["en"], extra_files=[broken])
    assert "broken.yaml" in str(error.value) and "bad regex" in str(error.value)
    wrong_id = tmp_path / "wrong.yaml"
    wrong_id.write_text("techniques:\n  T99:\n    patterns: ['x']\n")
    with pytest.raises(InputError, match="not a technique ID"):
        load_pattern_set(["en"], extra_files=[wrong_id])
    not_yaml = tmp_path / "bad.yaml"
    not_yaml.write_text("techniques: [\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_pattern_set(["en"], extra_files=[not_yaml])
    with pytest.raises(InputError, match="no patterns for language"):
        load_pattern_set(["xx"])
