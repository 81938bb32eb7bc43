"""The shipped anchor plans: current, equal to what the derivation gives, and only ever a
shortcut (a missing or damaged file just means planning at load time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosea.chats.recognizers import _plan_cache
from cosea.chats.recognizers._anchors import plan
from cosea.chats.recognizers._plan_cache import (
    algorithm_stamp,
    cached_plan,
    pattern_key,
)
from cosea.chats.recognizers.lexical import load_pattern_set

REGENERATE = "the shipped anchor plans are out of date: run `make anchor-plans`"


def test_the_shipped_plans_cover_every_bundled_pattern_and_match_the_derivation() -> None:
    shipped = _plan_cache._shipped()
    assert shipped, f"{REGENERATE} (made by another version of _anchors.py: {algorithm_stamp()})"
    derived = {}

    def planner(pattern: str):  # type: ignore[no-untyped-def]
        derived[pattern] = plan(pattern)
        return derived[pattern]

    load_pattern_set(planner=planner)
    missing = [a for a in derived if pattern_key(a) not in shipped]
    assert not missing, f"{REGENERATE}; {len(missing)} missing, e.g. {missing[0]!r}"
    for alternative, expected in derived.items():
        assert cached_plan(alternative) == expected, alternative


def test_a_pattern_not_shipped_is_planned_at_load_time() -> None:
    pattern = "(?:zorbchat|zorb) (?:secret|hidden) (?:room|server)"
    assert pattern_key(pattern) not in _plan_cache._shipped()
    assert cached_plan(pattern) == plan(pattern)


@pytest.mark.parametrize("content", [b"", b"not gzip at all", b"\x1f\x8b\x08\x00broken"])
def test_a_damaged_file_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    damaged = tmp_path / "anchor-plans.json.gz"
    damaged.write_bytes(content)
    monkeypatch.setattr(_plan_cache, "_cache_path", lambda: damaged)
    _plan_cache._shipped.cache_clear()
    try:
        pattern = r"are (?:you|u) alone"
        assert cached_plan(pattern) == plan(pattern)
    finally:
        monkeypatch.undo()
        _plan_cache._shipped.cache_clear()


def test_writing_the_file_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patterns = [r"are (?:you|u) alone", r"(?:dont|do not) tell (?:anyone|your parents)"]
    monkeypatch.setattr(_plan_cache, "bundled_alternatives", lambda: patterns)
    target = _plan_cache.write_cache(tmp_path / "plans.json.gz")
    first = target.read_bytes()
    assert _plan_cache.write_cache(target).read_bytes() == first  # reproducible bytes
    monkeypatch.setattr(_plan_cache, "_cache_path", lambda: target)
    _plan_cache._shipped.cache_clear()
    try:
        assert set(_plan_cache._shipped()) == {pattern_key(p) for p in patterns}
    finally:
        monkeypatch.undo()
        _plan_cache._shipped.cache_clear()
