"""The anchor plans of the bundled patterns, computed once and shipped as JSON.

Deriving a pattern's anchors (:func:`cosea.chats.recognizers._anchors.plan`)
parses and explores its regex; for the roughly 2,000 alternatives of the five
bundled languages that takes seconds, on every start of every command. The plans
depend only on the pattern text and the derivation code, so they are computed
ahead of time into ``patterns/anchor-plans.json.gz`` (gzip-compressed JSON), keyed
by a hash of the exact pattern text and stamped with a hash of ``_anchors.py``: a changed pattern misses the cache and
is planned at load time (correct, only slower), and a changed derivation ignores
the whole file. ``tests/chats/recognizers/test_plan_cache.py`` fails when the file
no longer covers the bundled patterns; regenerate it with ``make anchor-plans``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from cosea.chats.recognizers import _anchors
from cosea.chats.recognizers._anchors import Plan, plan

CACHE_NAME = "anchor-plans.json.gz"


def pattern_key(pattern: str) -> str:
    return hashlib.sha256(pattern.encode("utf-8")).hexdigest()[:24]


def algorithm_stamp() -> str:
    """Changes whenever the anchor derivation changes."""
    return hashlib.sha256(Path(_anchors.__file__).read_bytes()).hexdigest()[:16]


def _cache_path() -> Path:
    from cosea.chats.recognizers.lexical import pattern_directory

    return pattern_directory() / CACHE_NAME


@cache
def _shipped() -> dict[str, str]:
    """Pattern key -> that plan's JSON text. Kept as text, decoded per look-up: a
    dict of strings is one object the garbage collector skips, where the decoded
    plans were some 20,000 lists it would visit on every full collection for as
    long as the process lives."""
    try:
        data = json.loads(gzip.decompress(_cache_path().read_bytes()).decode("utf-8"))
    except (OSError, ValueError, EOFError):
        return {}
    if not isinstance(data, dict) or data.get("algorithm") != algorithm_stamp():
        return {}
    plans = data.get("plans")
    if not isinstance(plans, dict):
        return {}
    return {str(key): json.dumps(entry, separators=(",", ":")) for key, entry in plans.items()}


def _decode(entry: dict[str, Any]) -> Plan:
    leading = entry.get("leading")
    return Plan(
        tuple(frozenset(words) for words in entry["requirements"]),
        frozenset(leading) if leading is not None else None,
    )


def _encode(found: Plan) -> dict[str, Any]:
    return {
        "requirements": [sorted(words) for words in found.requirements],
        "leading": sorted(found.leading) if found.leading is not None else None,
    }


def cached_plan(pattern: str) -> Plan:
    """``plan(pattern)``, from the shipped file when it holds this exact pattern."""
    text = _shipped().get(pattern_key(pattern))
    if text is not None:
        try:
            return _decode(json.loads(text))
        except (KeyError, TypeError, ValueError):
            pass  # a damaged entry: derive it instead
    return plan(pattern)


def bundled_alternatives() -> list[str]:
    """Every top-level alternative of every bundled pattern, as the loader plans it."""
    from cosea.chats.recognizers.lexical import load_pattern_set

    seen: list[str] = []
    recorded: set[str] = set()

    def record(pattern: str) -> Plan:
        if pattern not in recorded:
            recorded.add(pattern)
            seen.append(pattern)
        return plan(pattern)

    load_pattern_set(planner=record)
    return seen


def write_cache(path: Path | None = None) -> Path:
    """Plan every bundled alternative and write the JSON file (atomically)."""
    target = path or _cache_path()
    plans = {pattern_key(p): _encode(plan(p)) for p in bundled_alternatives()}
    payload = {"algorithm": algorithm_stamp(), "plans": dict(sorted(plans.items()))}
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":")) + "\n"
    temporary = target.with_name(target.name + ".tmp")
    # mtime=0: the same plans give the same bytes, so an unchanged file shows no diff
    temporary.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    os.replace(temporary, target)
    _shipped.cache_clear()
    return target
