"""Names of techniques and tactics from the COSEA matrix, for people reading reports."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def matrix() -> Any:
    from cosea.matrix import load

    return load()


def technique_name(technique_id: str) -> str | None:
    try:
        return matrix().technique(technique_id).name
    except Exception:  # an id the matrix does not know still gets reported, unnamed
        return None


def tactic_of(technique_id: str) -> tuple[str | None, str | None]:
    try:
        tactic = matrix().tactic_of(technique_id)
    except Exception:
        return None, None
    return tactic.id, tactic.name


def tactic_name(tactic_id: str | None) -> str | None:
    if not tactic_id:
        return None
    try:
        return matrix().tactic(tactic_id).name
    except Exception:
        return None


def technique_label(technique_id: str) -> str:
    """'T0401 Secrecy request (TA04 Isolation and secrecy)'."""
    name = technique_name(technique_id)
    tactic, tactic_label = tactic_of(technique_id)
    text = f"{technique_id} {name}" if name else technique_id
    if tactic:
        text += f" ({tactic} {tactic_label})"
    return text


def technique_info(technique_id: str) -> dict[str, str | None]:
    tactic, tactic_label = tactic_of(technique_id)
    return {
        "id": technique_id,
        "name": technique_name(technique_id),
        "tactic": tactic,
        "tactic_name": tactic_label,
    }
