"""Regression tests for recognizer gaps reported from the analyser's output.

Each case is a phrasing family, not one sentence: the threat plus payment demand
in second-person forms and elided French pronouns in each language, and a
secrecy message whose "they wouldnt get it" is isolation, not an exposure threat.
"""

from __future__ import annotations

import pytest
from recognizer_helpers import techniques

from cosea.chats.recognizers import RecognizerRegistry

THREAT_AND_DEMAND = [
    "tu paies 200 euros ou j'envoie ta photo à tous tes amis",
    "tu payes 300 euros sinon j envoie tout à ta mère",
    "pagas 200 euros o envio tu foto a todos tus amigos",
    "du zahlst 200 euro oder ich schicke dein foto an alle deine freunde",
    "você paga 200 reais ou eu mando sua foto pra todos os seus amigos",
    "você pague 200 reais ou eu mando sua foto pra todo mundo",
]


@pytest.mark.parametrize("text", THREAT_AND_DEMAND)
def test_threat_with_payment_demand(registry: RecognizerRegistry, text: str) -> None:
    assert {"T0701", "T0702"} <= techniques(registry, text)


@pytest.mark.parametrize(
    "text",
    [
        "dont tell ur parents about me, they wouldnt get it",
        "keep us secret, they couldnt get it anyway",
        "they would never get it",
    ],
)
def test_negated_they_get_it_is_not_an_exposure_threat(
    registry: RecognizerRegistry, text: str
) -> None:
    found = techniques(registry, text)
    assert "T0701" not in found
    assert found & {"T0401", "T0402"}


@pytest.mark.parametrize(
    "text", ["everyone will see it", "they will get it", "ur class will see them"]
)
def test_exposure_threats_still_fire(registry: RecognizerRegistry, text: str) -> None:
    assert "T0701" in techniques(registry, text)


def test_first_person_payment_is_not_a_demand(registry: RecognizerRegistry) -> None:
    assert "T0702" not in techniques(registry, "ich zahle 20 euro für das spiel")
