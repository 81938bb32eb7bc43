"""Speaker awareness and hard negatives."""

from __future__ import annotations

import pytest
from recognizer_helpers import run, techniques

from cosea.chats.recognizers import PatternHit, RecognizerRegistry


def test_adult_side_patterns_are_marked_so(registry: RecognizerRegistry) -> None:
    """The same words from a child and from an adult: the hit says whose side they are risky from."""
    hits = [h for h in run(registry, "how old r u?").hits if h.technique_id == "T0101"]
    assert hits and all(isinstance(h, PatternHit) and h.side == "adult-side" for h in hits)


def test_threats_are_risky_from_anyone(registry: RecognizerRegistry) -> None:
    hits = [h for h in run(registry, "pay me or i post ur pics everywhere").hits]
    assert {h.technique_id for h in hits} >= {"T0701", "T0702"}
    assert all(h.side == "any" for h in hits if h.technique_id in {"T0701", "T0702"})


def test_target_replies_become_cues_not_hits(registry: RecognizerRegistry) -> None:
    recognition = run(registry, "please dont post it, i already sent you 2", sender="b")
    assert not {h.technique_id for h in recognition.hits} & {"T0701", "T0703"}
    cues = [s for s in recognition.signals if s.kind == "target_cue"]
    assert cues and all(s.participant == "b" for s in cues)
    assert {s.technique_id for s in cues} & {"T0701", "T0703"}


@pytest.mark.parametrize(
    ("text", "technique"),
    [
        ("keep the surprise party secret from mum", "T0401"),
        ("dont tell anyone but i like sam", "T0401"),
        ("how old is your brother now?", "T0101"),
        ("coach can pick you up after practice", "T0601"),
        ("delete that meme lol", "T0901"),
        ("delete that embarrassing pic of me pls", "T0901"),
        ("can you send me a pic of the homework sheet", "T0601"),
        ("turn on ur cam we cant see the poster", "T0602"),
        ("you have 24 hours to claim your prize", "T0704"),
        ("if anyone asks you for pics, tell an adult you trust", "T0601"),
        ("i'll give u 500 coins for it, deal?", "T0302"),
    ],
)
def test_hard_negatives_do_not_fire(
    registry: RecognizerRegistry, text: str, technique: str
) -> None:
    assert technique not in techniques(registry, text)


@pytest.mark.parametrize("text", ["gg", "lol ok", "what time is practice", "see you at school"])
def test_small_talk_is_quiet(registry: RecognizerRegistry, text: str) -> None:
    assert not run(registry, text).hits
