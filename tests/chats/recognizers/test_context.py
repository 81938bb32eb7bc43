"""Context recognizers: disclosed ages (five languages, school years, replies), gaps,
inconsistencies, new accounts and persona photos."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from recognizer_helpers import run_conversation

from cosea.chats.recognizers import RecognizerRegistry
from cosea.types import Participant


def _signals(results, kind: str) -> list:
    return [s for r in results for s in r.signals if s.kind == kind]


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("im 14 lol", 14),
        ("i'm 13 years old", 13),
        ("tengo 13 años", 13),
        ("ich bin 14", 14),
        ("j'ai 13 ans", 13),
        ("tenho 13 anos", 13),
        ("im in 8th grade", 13),
        ("im in year 9", 13),
        ("je suis en 4e", 13),
        ("im thirteen", 13),
    ],
)
def test_self_disclosed_age(registry: RecognizerRegistry, text: str, age: int) -> None:
    found = _signals(run_conversation(registry, [("b", text)]), "self_disclosed_age")
    assert [(s.participant, s.value) for s in found] == [("b", age)]


@pytest.mark.parametrize(
    "text", ["im home alone til 6", "$500 now", "i have 10 min", "im 5 min away"]
)
def test_numbers_that_are_not_ages(registry: RecognizerRegistry, text: str) -> None:
    assert not _signals(run_conversation(registry, [("b", text)]), "self_disclosed_age")


def test_bare_number_answering_an_age_question(registry: RecognizerRegistry) -> None:
    results = run_conversation(registry, [("a", "how old r u?"), ("b", "12"), ("b", "almost 13")])
    ages = [(s.participant, s.value) for s in _signals(results, "self_disclosed_age")]
    assert ("b", 12) in ages
    # a bare number with no question before it is not an age
    quiet = run_conversation(registry, [("a", "what time?"), ("b", "12")])
    assert not _signals(quiet, "self_disclosed_age")


def test_declared_age_and_age_gap(registry: RecognizerRegistry) -> None:
    people = [Participant("a", declared_age=16), Participant("b", declared_age=13)]
    results = run_conversation(
        registry, [("a", "hey"), ("b", "hi"), ("a", "im 24 actually")], people
    )
    declared = {(s.participant, s.value) for s in _signals(results, "declared_age")}
    assert declared == {("a", 16), ("b", 13)}
    gaps = _signals(results, "age_gap")
    assert any(g.participant == "a" and g.value["adult_and_minor"] for g in gaps)


def test_inconsistent_ages_give_a_peer_impersonation_hit(registry: RecognizerRegistry) -> None:
    people = [Participant("a", declared_age=15), Participant("b", declared_age=13)]
    results = run_conversation(
        registry, [("a", "im 15 too"), ("b", "cool"), ("a", "im 19 tbh")], people
    )
    assert _signals(results, "age_inconsistency")
    hits = [h for h in results[2].hits if h.technique_id == "T0201"]
    assert hits and hits[0].speaker == "a" and hits[0].message_id == "m3"


def test_age_said_about_the_other_person(registry: RecognizerRegistry) -> None:
    people = [Participant("a", declared_age=16), Participant("b", declared_age=13)]
    results = run_conversation(registry, [("b", "i found out ur 26")], people)
    attributed = _signals(results, "attributed_age")
    assert [(s.participant, s.value) for s in attributed] == [("a", 26)]
    assert _signals(results, "age_inconsistency")


def test_new_account(registry: RecognizerRegistry) -> None:
    people = [
        Participant("a", account_created="2026-03-01"),
        Participant("b", account_created="2024-01-01"),
    ]
    when = datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    results = run_conversation(
        registry, [("a", "hey"), ("b", "hi"), ("a", "sup")], people, [when] * 3
    )
    found = _signals(results, "new_account")
    assert [(s.participant, s.value) for s in found] == [("a", 4)]


def test_photo_right_after_a_young_persona_claim(registry: RecognizerRegistry) -> None:
    results = run_conversation(
        registry,
        [("a", "im mia, 15"), ("b", "oh hi"), ("a", "[image]"), ("a", "[image]")],
    )
    assert [h.message_id for r in results for h in r.hits if h.technique_id == "T0202"] == ["m3"]
    plain = run_conversation(registry, [("a", "look at my dog"), ("a", "[image]")])
    assert not [h for r in plain for h in r.hits if h.technique_id == "T0202"]
