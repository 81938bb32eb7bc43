"""Normalisation: each trick, numbers kept, and spans mapped back to the original text."""

from __future__ import annotations

import re

import pytest

from cosea.chats.normalize import normalize


def _words_back(original: str) -> dict[str, str]:
    """Each normalised word -> the original text its span points at."""
    normalized = normalize(original)
    return {
        m.group(): original[slice(*normalized.original_span(*m.span()))]
        for m in re.finditer(r"\S+", normalized.text)
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("R U ALONE RN?", "are you alone right now?"),  # case + abbreviations
        ("pr1v4te c4m", "private cam"),  # leetspeak inside words
        ("pleeease soooo", "please so"),  # letter repeats
        ("gooood", "good"),  # ...but real double letters stay
        ("s e n d me a p1c", "send me a picture"),  # spaced letters + leet + abbreviation
        ("s.e.n.d", "send"),
        ("se\u200bnd", "send"),  # zero-width character
        ("ｓｅｎｄ", "send"),  # full-width (NFKC)
        ("sеnd", "send"),  # Cyrillic look-alike letter
        ("i don't wanna", "i dont want to"),  # apostrophes, contractions
        ("idk tbh", "i dont know to be honest"),
        ("Straße", "strasse"),
        ("tengo 13 años", "tengo 13 anos"),  # accents folded for es/de/fr/pt patterns
        ("r u k", "are you k"),  # single chat letters are not a hidden word
        ("hey   there\nu", "hey there you"),  # whitespace runs
    ],
)
def test_tricks(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


@pytest.mark.parametrize("raw", ["im 14", "$500 now", "u2 lol", "2nd place", "score 3-2", "f2p"])
def test_numbers_stay_numbers(raw: str) -> None:
    text = normalize(raw).text
    for number in re.findall(r"\d+", raw):
        assert number in text


def test_number_glued_to_unit_is_split() -> None:
    assert normalize("u have 10min").text == "you have 10 min"


def test_emoji_become_tokens() -> None:
    assert normalize("our secret 🤫").text == "our secret emoji_shush"
    assert normalize("😘😘 hi").text == "emoji_kiss emoji_kiss hi"
    assert normalize("tick tock ⏰").text.endswith("emoji_clock")


def test_offsets_point_at_the_original() -> None:
    back = _words_back("r u alone rn?? 😘 s e n d a p1c pleeease")
    assert back["are"] == "r"
    assert back["you"] == "u"
    assert back["alone"] == "alone"
    assert back["now??"] == "rn??"
    assert back["emoji_kiss"] == "😘"
    assert back["send"] == "s e n d"
    assert back["picture"] == "p1c"
    assert back["please"] == "pleeease"


def test_offsets_shape_and_identity() -> None:
    normalized = normalize("plain words only")
    assert normalized.text == "plain words only"
    assert normalized.offsets == list(range(len(normalized.text) + 1))
    changed = normalize("u ok?")
    assert len(changed.offsets) == len(changed.text) + 1
    assert changed.offsets[-1] == len("u ok?")


def test_normalisation_is_lazy_and_folded_is_cheap() -> None:
    normalized = normalize("R U THERE")
    assert normalized.folded == "r u there"
    assert normalized.words == ("r", "u", "there")
    assert normalized.text == "are you there"


def test_the_cheap_gate_of_the_word_pass_agrees_with_its_regex() -> None:
    """``_general_worth_running`` short-cuts ``_GENERAL_WORTH_RUNNING.search``; it must
    never disagree with it (a miss would leave an obfuscated word unnormalised)."""
    import random
    import string

    from cosea.chats import normalize as module

    alphabet = string.ascii_lowercase * 3 + string.digits + "@$!|' \t\n._-*~+ABZéü" + "  "
    rng = random.Random(11)
    texts = [
        "ty at 242",
        "p1c",
        "10min",
        "s e n d",
        "sooo",
        "don't",
        "a\tb",
        "lvl 25 gg",
        "gr8",
        "n0",
        "1 2 3",
        "héllo 4u",
    ]
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24))) for _ in range(20_000)
    ]
    for text in texts:
        expected = module._GENERAL_WORTH_RUNNING.search(text) is not None
        assert module._general_worth_running(text) == expected, text
