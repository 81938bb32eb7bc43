"""Where a technique sits on the kill chain, and how a finding is phrased for a reviewer.

The COSEA matrix (``cosea.matrix.load()``) is the authority for tactics and their
order. A technique ID also encodes its tactic (``T`` + tactic digits + own
digits), so the analyser still works when the matrix data is not installed or a
user's extended matrix is missing an entry.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources
from typing import Any

#: Kill-chain order of the tactics fixed by ``shared/spec/cosea-matrix.md``.
DEFAULT_TACTIC_ORDER = tuple(f"TA{n:02d}" for n in range(1, 11))


@cache
def _matrix() -> Any | None:
    try:
        from cosea import matrix

        load = getattr(matrix, "load", None)
        return load() if load is not None else None
    except Exception:  # the matrix is optional here; IDs carry enough to go on
        return None


@cache
def _reasons() -> dict[str, Any]:
    text = resources.files("cosea.chats.data").joinpath("reasons.json").read_text("utf-8")
    return json.loads(text)


@cache
def tactic_of(technique_id: str) -> str:
    """The tactic a technique belongs to, e.g. ``T0401`` -> ``TA04``."""
    matrix = _matrix()
    if matrix is not None and hasattr(matrix, "tactic_of"):
        try:
            found = matrix.tactic_of(technique_id)
            found = getattr(found, "id", found)  # the matrix returns the Tactic entry
            if isinstance(found, str) and found:
                return found
        except Exception:
            pass
    return "TA" + technique_id[1:3]


@cache
def tactic_rank(tactic_id: str) -> int:
    """Position of a tactic on the kill chain, 1 for TA01; unknown tactics sort last."""
    matrix = _matrix()
    if matrix is not None and hasattr(matrix, "tactic_order"):
        try:
            return int(matrix.tactic_order(tactic_id))
        except Exception:
            pass
    try:
        return DEFAULT_TACTIC_ORDER.index(tactic_id) + 1
    except ValueError:
        return len(DEFAULT_TACTIC_ORDER) + 1


@cache
def technique_name(technique_id: str) -> str:
    entry = _reasons()["techniques"].get(technique_id)
    if entry:
        return str(entry["name"])
    matrix = _matrix()
    if matrix is not None:
        for attribute in ("technique",):
            getter = getattr(matrix, attribute, None)
            if getter is None:
                continue
            try:
                found = getter(technique_id)
                name = getattr(found, "name", None)
                if name:
                    return str(name)
            except Exception:
                pass
    return technique_id


@cache
def tactic_name(tactic_id: str) -> str:
    return str(_reasons()["tactics"].get(tactic_id, tactic_id))


def technique_phrase(technique_id: str) -> str:
    entry = _reasons()["techniques"].get(technique_id)
    if entry:
        return str(entry["phrase"])
    return f"showed signs of {technique_name(technique_id).lower()}"


@lru_cache(maxsize=4096)  # the same few speaker ids and techniques, over and over
def reason_for(speaker: str | None, technique_id: str) -> str:
    """'u2 asked the other participant to keep the chat secret (T0401 Secrecy request)'."""
    who = speaker or "a participant"
    return f"{who} {technique_phrase(technique_id)} ({technique_id} {technique_name(technique_id)})"


def stage_label(tactic_id: str | None) -> str:
    if tactic_id is None:
        return "-"
    return f"{tactic_id} {tactic_name(tactic_id)}"
