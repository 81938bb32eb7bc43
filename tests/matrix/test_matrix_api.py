"""The Matrix look-ups other capabilities build on."""

from __future__ import annotations

import pytest

from cosea.errors import NotFound
from cosea.matrix import Matrix, load


def test_default_matrix_is_cached(matrix: Matrix) -> None:
    assert load() is load()
    assert matrix.schema_version == 1
    assert matrix.version


def test_look_ups(matrix: Matrix) -> None:
    assert matrix.technique("T0401").name == "Secrecy request"
    assert matrix.technique("t0401").id == "T0401"
    assert matrix.tactic_of("T0702").id == "TA07"
    assert matrix.tactic_order("TA01") == 1
    assert matrix.tactic_order("TA10") == 10
    assert [t.id for t in matrix.techniques_of("TA08")] == ["T0801", "T0802"]
    assert list(matrix.techniques)[:2] == ["T0101", "T0102"]
    assert [t.order for t in matrix.tactics] == sorted(t.order for t in matrix.tactics)


def test_mitigations_for_a_stakeholder(matrix: Matrix) -> None:
    everyone = matrix.mitigations_for("T0702")
    banks = matrix.mitigations_for("T0702", stakeholder="banks-financial")
    assert banks and set(m.id for m in banks) < set(m.id for m in everyone)
    assert all("banks-financial" in m.stakeholders for m in banks)
    assert {t.id for t in matrix.techniques_mitigated_by("M0111")} >= {"T0701", "T0702"}


def test_get_any_entry(matrix: Matrix) -> None:
    assert matrix.get("TA03").name == "Trust building"
    assert matrix.get("M0111").id == "M0111"
    assert matrix.get("law-enforcement").id == "law-enforcement"


def test_unknown_ids_raise_not_found(matrix: Matrix) -> None:
    with pytest.raises(NotFound, match="T9999"):
        matrix.technique("T9999")
    with pytest.raises(NotFound, match="known: platforms"):
        matrix.mitigations_for("T0401", stakeholder="pirates")
    with pytest.raises(NotFound):
        matrix.get("nothing-like-this")


@pytest.mark.parametrize(
    ("words", "best"),
    [
        ("are you alone right now", "T0103"),
        ("T0401", "T0401"),
        ("gift cards", "T0302"),
        ("move to another app", "T0403"),
        ("sextortion", "TA07"),
        ("victim selection", "TA01"),
        ("bank", "banks-financial"),
    ],
)
def test_search_ranks_the_obvious_answer_first(matrix: Matrix, words: str, best: str) -> None:
    hits = matrix.search(words)
    assert hits[0].id == best
    assert hits[0].score > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_with_no_match_and_limit(matrix: Matrix) -> None:
    assert matrix.search("zzzqqq") == []
    assert len(matrix.search(["threat"], limit=3)) == 3
