"""The risk model's inputs: a few meaningful numbers about the conversation so far.

Every feature is computed from bounded counters that the analyser updates message
by message, so computing the vector costs the same after ten messages or after a
million. The names are part of the model file format: a model lists the features
it was fitted on and inference refuses a model whose names it does not know.
"""

from __future__ import annotations

import math

#: Feature names in the order of the vector, with what each one measures.
FEATURES: dict[str, str] = {
    "evidence": "log(1 + summed confidence of the suspect's technique hits)",
    "max_confidence": "strongest single technique hit of the suspect",
    "distinct_tactics": "number of different tactics in the suspect's messages",
    "progression": "longest run of the suspect's tactics in kill-chain order (first-seen order)",
    "furthest_stage": "furthest tactic reached by the suspect, as kill-chain position / 10",
    "severe": "strongest hit on a late tactic (sexualisation, solicitation, coercion, meeting, ...)",
    "coercion": "strongest hit on coercion and extortion (TA07)",
    "suspect_share": "share of all technique evidence that comes from the suspect",
    "recent": "log(1 + suspect evidence decayed by message recency)",
    "minor_present": "another participant is declared or self-disclosed under 18",
    "adults_only": "every participant is known to be 18 or over (declared or self-disclosed)",
    "age_gap": (
        "suspect's known age minus the youngest other participant's, in decades, "
        "clipped to [-1, 1.3]: gaps over 13 years count as 13"
    ),
    "context": "weight of context signals about the suspect (new account, fan-out, age claims)",
    "coercion_hits": "log(1 + number of the suspect's coercion and extortion hits): threats repeat",
}
#: Kill-chain tactics (shared/spec/cosea-matrix.md); one feature each.
TACTICS: tuple[str, ...] = tuple(f"TA{n:02d}" for n in range(1, 11))
TACTIC_NAMES = {
    "TA01": "reconnaissance",
    "TA02": "deceptive access",
    "TA03": "trust building",
    "TA04": "isolation and secrecy",
    "TA05": "sexualisation",
    "TA06": "content solicitation",
    "TA07": "coercion and extortion",
    "TA08": "contact offending",
    "TA09": "concealment",
    "TA10": "monetisation and distribution",
}
for _tactic in TACTICS:
    FEATURES[f"tactic_{_tactic}"] = (
        f"strongest hit of the suspect on {_tactic} ({TACTIC_NAMES[_tactic]})"
    )
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)

#: Tactics from sexualisation on: their presence is what separates an offence from
#: the friendly secrecy, flattery and questions of ordinary chats.
SEVERE_FROM_RANK = 5
COERCION_TACTIC = "TA07"

ADULT_AGE = 18
CONTEXT_CAP = 3.0
#: ``age_gap`` stops growing at 13 years, the widest gap between a suspect and the youngest
#: other participant in the development set: a weight fitted on gaps up to 13 years would
#: otherwise be extrapolated, and a parent (43) with a child (13) started at risk 0.66 before
#: any warning sign (threshold 0.75).
AGE_GAP_MAX_DECADES = 1.3
_NO_TACTICS = (0.0,) * len(TACTICS)


def longest_increasing_run(ranks: list[int]) -> int:
    """Length of the longest strictly increasing subsequence (ranks has at most ~10 items)."""
    best: list[int] = []
    for rank in ranks:
        length = 1 + max((best[j] for j in range(len(best)) if ranks[j] < rank), default=0)
        best.append(length)
    return max(best, default=0)


def feature_vector(
    *,
    evidence: float,
    max_confidence: float,
    distinct_tactics: int,
    progression: int,
    furthest_rank: int,
    severe: float,
    coercion: float,
    suspect_share: float,
    recent: float,
    minor_present: bool,
    adults_only: bool = False,
    age_gap_years: float | None,
    context: float,
    tactic_max: dict[str, float] | None = None,
    coercion_hits: int = 0,
) -> list[float]:
    """The vector in :data:`FEATURE_NAMES` order.

    ``age_gap`` is clipped to [-1, :data:`AGE_GAP_MAX_DECADES`] decades. The upper clip
    used to be 2 (20 years); model files fitted then still load (same feature name) and
    now see gaps of at most 13 years, which on the development set changes nothing.
    """
    if age_gap_years is None:
        gap = 0.0
    else:
        gap = max(-1.0, min(AGE_GAP_MAX_DECADES, age_gap_years / 10.0))
    return [
        math.log1p(evidence),
        max_confidence,
        float(distinct_tactics),
        float(progression),
        furthest_rank / 10.0,
        severe,
        coercion,
        suspect_share,
        math.log1p(recent),
        1.0 if minor_present else 0.0,
        1.0 if adults_only else 0.0,
        gap,
        min(CONTEXT_CAP, context),
        math.log1p(coercion_hits),
        *([tactic_max.get(t, 0.0) for t in TACTICS] if tactic_max else _NO_TACTICS),
    ]
