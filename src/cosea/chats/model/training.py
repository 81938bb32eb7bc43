"""Fitting the risk model on labelled conversations (scikit-learn, imported here only).

Training samples are the *prefixes* of each conversation: the feature vector
after every message, labelled risky from the gold first risky message on. The
model therefore learns to score partial conversations, which is what an early
warning needs. Each conversation weighs the same however long it is.

Steps (all numbers end up in the JSON model file):

1. standardise the features and fit an L2-regularised, class-balanced logistic
   regression (few features, strong regularisation: the development set is
   small). Each risky conversation is also shown once as its *adult
   counterfactual* (the same evidence between participants who are all known
   adults, labelled benign): exploitation of a child needs a child, and the
   development set has too few adults-only chats to learn that by itself.
   Optionally (``monotone``, off by default) the weights carry *sign
   constraints*: a feature that by its meaning can only make a conversation
   more worrying (more evidence, a later stage, a child present, a hit on any
   tactic) gets a weight >= 0, and ``adults_only`` a weight <= 0, so that on new
   data a stronger warning sign never lowers the risk. The constrained fit
   minimises the same loss as scikit-learn with SciPy's L-BFGS-B and bounds;
2. calibrate: out-of-fold scores over three shuffled, stratified 5-fold splits
   grouped by conversation (no conversation is scored by a model that saw it)
   are mapped to probabilities by a Platt sigmoid;
3. choose the alert threshold on the same out-of-fold probabilities, replaying
   the streaming alert (the first message at which the risk reaches the
   threshold): among thresholds whose false-alarm rate on benign conversations
   stays within the target, the best F0.5 x eSPD speed (early sexual predator
   detection's latency weighting; ``objective="f05"`` ranks by F0.5 then
   delay); the threshold sits halfway (in log-odds) inside the chosen interval;
4. fit the class model (sextortion versus grooming) on the risky conversations:
   threats repeat, so it looks at the strongest coercion hit and how many there are;
5. choose the confidence from which a technique is reported, by technique F1
   against the gold technique labels on the offender's messages.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from statistics import median
from typing import Any

from cosea.chats.analysis.analyzer import ConversationAnalyzer
from cosea.chats.analysis.pipeline import Normalizer, resolve
from cosea.chats.model import Calibration, LinearPart, RiskModel
from cosea.chats.model.features import FEATURE_NAMES, FEATURES
from cosea.chats.recognizers.base import RecognizerRegistry
from cosea.errors import CoseaError
from cosea.types import Conversation, ConversationClass

#: L2 strength (inverse) of the risk model: small on purpose, 60 conversations is little.
DEFAULT_C = 0.3
DEFAULT_HALF_LIFE = 8.0
DEFAULT_FALSE_ALARM_TARGET = 0.05
DEFAULT_COUNTERFACTUAL_WEIGHT = 1.0
CLASS_FEATURES = ("tactic_TA07", "coercion_hits")
#: The risk model's inputs: evidence, kill-chain order, who it comes from, recency,
#: context, and the strongest hit per tactic. ``max_confidence``, ``severe`` and
#: ``coercion`` are left out: the per-tactic maxima already carry them.
DEFAULT_FEATURES: tuple[str, ...] = (
    "evidence",
    "distinct_tactics",
    "progression",
    "furthest_stage",
    "suspect_share",
    "recent",
    "minor_present",
    "adults_only",
    "age_gap",
    "context",
    *(f"tactic_TA{n:02d}" for n in range(1, 11)),
)
TECHNIQUE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(0, 20))
#: Features that by their meaning can only make a conversation more worrying: more or
#: more recent evidence from the suspect, more tactics, a longer run along the kill
#: chain, a later stage, a hit on any tactic, a child present, a wider age gap, context
#: signals (new account, fan-out, age claims), and a larger share of the evidence coming
#: from the suspect (one-sided pressure; peers trading secrets share it). With free signs
#: the small development set gives some tactics negative weights (a clearer sign of
#: isolation or of a picture request lowers the risk), which need not carry over to new
#: conversations.
#: Every default feature but the one that lowers it (below).
RAISES_RISK: tuple[str, ...] = tuple(f for f in DEFAULT_FEATURES if f != "adults_only")
#: Everyone known to be an adult: child sexual exploitation needs a child.
LOWERS_RISK: tuple[str, ...] = ("adults_only",)
#: The sign constraints of ``fit_model(..., monotone=DEFAULT_MONOTONE)`` (``cosea chats train
#: --monotone``): +1 weight >= 0, -1 weight <= 0, on the standardised scale (the same
#: sign as on the raw one, scales being positive). Not the default: over 20 fold seeds of
#: the development set it raised the false alarms (see docs/chats.md, "Sign constraints").
DEFAULT_MONOTONE: Mapping[str, int] = {
    **{name: 1 for name in RAISES_RISK},
    **{name: -1 for name in LOWERS_RISK},
}


@dataclass
class Trace:
    """One labelled conversation replayed through the analyser (features per message)."""

    conversation_id: str
    gold_class: str
    offender: str | None
    first_risk_index: int | None  # 0-based index of the gold first risky message
    gold_techniques: dict[str, list[str]]
    message_ids: list[str] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    vectors: list[list[float]] = field(default_factory=list)
    suspects: list[str | None] = field(default_factory=list)
    hits: list[list[tuple[str, float]]] = field(default_factory=list)

    @property
    def risky(self) -> bool:
        return self.gold_class != ConversationClass.BENIGN

    def labels(self) -> list[int]:
        if not self.risky:
            return [0] * len(self.vectors)
        start = self.first_risk_index or 0
        return [1 if i >= start else 0 for i in range(len(self.vectors))]


def _neutral_model(half_life: float) -> RiskModel:
    """A model that only serves to run the analyser for its features."""
    n = len(FEATURE_NAMES)
    flat = LinearPart(list(FEATURE_NAMES), [0.0] * n, 0.0, [0.0] * n, [1.0] * n)
    sext = LinearPart(["coercion"], [0.0], -1.0, [0.0], [1.0])
    return RiskModel(flat, Calibration(), sext, alert_threshold=0.99, recency_half_life=half_life)


def label_of(conversation: Conversation) -> dict[str, Any]:
    label = conversation.label
    if not isinstance(label, dict) or label.get("class") not in {
        c.value for c in ConversationClass
    }:
        raise CoseaError(
            f"conversation {conversation.id!r} ({conversation.source or 'input'}) has no usable "
            "label: training and evaluation need label.class (benign, grooming or sextortion)"
        )
    return label


def trace_conversation(
    conversation: Conversation,
    registry: RecognizerRegistry | None = None,
    normalizer: Normalizer | None = None,
    half_life: float = DEFAULT_HALF_LIFE,
    model: RiskModel | None = None,
) -> Trace:
    label = label_of(conversation)
    ids = [m.id for m in conversation.messages]
    first = label.get("first_risk_message")
    first_index = ids.index(first) if first in ids else None
    if label["class"] != ConversationClass.BENIGN and first_index is None:
        labelled = [ids.index(m) for m in (label.get("techniques") or {}) if m in ids]
        first_index = min(labelled, default=0)
    trace = Trace(
        conversation_id=conversation.id,
        gold_class=label["class"],
        offender=label.get("offender"),
        first_risk_index=first_index,
        gold_techniques={k: list(v) for k, v in (label.get("techniques") or {}).items()},
    )
    analyzer = ConversationAnalyzer(
        model or _neutral_model(half_life),
        registry,
        conversation=conversation,
        normalizer=normalizer,
    )
    for message in conversation.messages:
        analyzer.observe(message)
        trace.message_ids.append(message.id)
        trace.senders.append(message.sender)
        trace.vectors.append(analyzer.features())
        trace.suspects.append(analyzer.watch_suspect)
        trace.hits.append([(h.technique_id, float(h.confidence)) for h in analyzer.last_hits])
    return trace


def trace_all(
    conversations: Iterable[Conversation],
    registry: RecognizerRegistry | None = None,
    normalizer: Normalizer | None = None,
    half_life: float = DEFAULT_HALF_LIFE,
    progress: Callable[[Conversation], None] | None = None,
) -> list[Trace]:
    registry, normalizer = resolve(registry, normalizer)
    traces = []
    for conversation in conversations:
        traces.append(trace_conversation(conversation, registry, normalizer, half_life))
        if progress is not None:
            progress(conversation)
    return traces


# -- streaming replay (shared with threshold and technique selection) -------------------


def first_alert(probabilities: Sequence[float], threshold: float) -> int | None:
    for i, p in enumerate(probabilities):
        if p >= threshold:
            return i
    return None


def _f_beta(tp: int, fp: int, fn: int, beta: float) -> float:
    if tp == 0:
        return 0.0
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def replay(
    traces: Sequence[Trace], probabilities: Sequence[Sequence[float]], threshold: float
) -> dict[str, float]:
    """Conversation-level outcome of alerting at ``threshold`` (streaming, no look-ahead)."""
    tp = fp = fn = benign = 0
    delays: list[int] = []
    penalties: list[float] = []
    lengths = sorted(len(t.vectors) for t in traces if t.risky) or [2]
    p = math.log(3) / max(1.0, median(lengths) - 1)
    for trace, probs in zip(traces, probabilities, strict=True):
        alert = first_alert(probs, threshold)
        if trace.risky:
            if alert is None:
                fn += 1
            else:
                tp += 1
                delays.append(max(0, alert - (trace.first_risk_index or 0)))
                penalties.append(-1.0 + 2.0 / (1.0 + math.exp(-p * alert)))
        else:
            benign += 1
            fp += alert is not None
    return {
        "f05": _f_beta(tp, fp, fn, 0.5),
        "false_alarm_rate": fp / benign if benign else 0.0,
        "median_delay": float(median(delays)) if delays else math.inf,
        "speed": 1.0 - median(penalties) if penalties else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def choose_threshold(
    traces: Sequence[Trace],
    probabilities: Sequence[Sequence[float]],
    false_alarm_target: float = DEFAULT_FALSE_ALARM_TARGET,
    objective: str = "latency",
) -> tuple[float, dict[str, float]]:
    """The alert threshold: best objective among those within the false-alarm target.

    ``latency`` (default) maximises F0.5 times the eSPD speed factor (penalty 0.5 at
    the median risky length), trading a little precision for earlier alerts;
    ``f05`` maximises F0.5 and breaks ties by the shorter median delay.
    """
    peaks = sorted({max(p, default=0.0) for p in probabilities})
    best: tuple[tuple[float, ...], float, dict[str, float]] | None = None
    for i, upper in enumerate(peaks):
        if upper <= 0.0 or upper >= 1.0:
            continue
        lower = peaks[i - 1] if i > 0 else upper / 2
        threshold = 1 / (1 + math.exp(-(_logit(lower) + _logit(upper)) / 2))
        outcome = replay(traces, probabilities, threshold)
        feasible = outcome["false_alarm_rate"] <= false_alarm_target + 1e-9
        if objective == "latency":
            key = (float(feasible), outcome["f05"] * outcome["speed"], outcome["f05"], -threshold)
        else:
            key = (float(feasible), outcome["f05"], -outcome["median_delay"], -threshold)
        if best is None or key > best[0]:
            best = (key, threshold, outcome)
    if best is None:
        return 0.5, replay(traces, probabilities, 0.5)
    return best[1], best[2]


def technique_f1(
    traces: Sequence[Trace],
    alerted: Sequence[bool],
    threshold: float,
) -> float:
    tp = fp = fn = 0
    for trace, alert in zip(traces, alerted, strict=True):
        suspect = trace.suspects[-1] if trace.suspects else None
        predicted: set[tuple[str, str]] = set()
        if alert and suspect is not None:
            for mid, sender, hits in zip(trace.message_ids, trace.senders, trace.hits, strict=True):
                if sender == suspect:
                    predicted |= {(mid, t) for t, c in hits if c >= threshold}
        gold = {(mid, t) for mid, techs in trace.gold_techniques.items() for t in techs}
        tp += len(predicted & gold)
        fp += len(predicted - gold)
        fn += len(gold - predicted)
    return _f_beta(tp, fp, fn, 1.0)


# -- fitting ------------------------------------------------------------------------------


def _smallest_class(traces: Sequence[Trace]) -> int:
    counts: dict[str, int] = {}
    for trace in traces:
        counts[trace.gold_class] = counts.get(trace.gold_class, 0) + 1
    return min(counts.values())


ADULT_COUNTERFACTUAL = {"minor_present": 0.0, "adults_only": 1.0, "age_gap": 0.0}


def adult_counterfactual(trace: Trace) -> Trace:
    """The same conversation between participants who are all known adults, labelled benign.

    Child sexual exploitation needs a child: the development set has too few
    adults-only chats to learn that, so each risky conversation also teaches it
    once with its age features set to "everyone is an adult". A participant who
    says they are a minor is never counted as an adult, whatever their profile says.
    """
    index = {FEATURE_NAMES.index(name): value for name, value in ADULT_COUNTERFACTUAL.items()}
    vectors = [[index.get(i, x) for i, x in enumerate(v)] for v in trace.vectors]
    return Trace(
        conversation_id=trace.conversation_id + "#adults",
        gold_class=ConversationClass.BENIGN,
        offender=None,
        first_risk_index=None,
        gold_techniques={},
        message_ids=trace.message_ids,
        senders=trace.senders,
        vectors=vectors,
        suspects=trace.suspects,
        hits=trace.hits,
    )


def _design(
    traces: Sequence[Trace],
    columns: Sequence[int],
    counterfactual_weight: float = 0.0,
) -> tuple[Any, Any, Any, Any, Any]:
    """Rows, labels, weights, groups, and a mask of the real (not counterfactual) rows."""
    import numpy as np

    rows, labels, weights, groups, real = [], [], [], [], []
    for g, trace in enumerate(traces):
        n = len(trace.vectors)
        real.extend([True] * n)
        rows.extend([v[i] for i in columns] for v in trace.vectors)
        labels.extend(trace.labels())
        weights.extend([1.0 / n] * n)
        groups.extend([g] * n)
        if counterfactual_weight and trace.risky:
            twin = adult_counterfactual(trace)
            rows.extend([v[i] for i in columns] for v in twin.vectors)
            labels.extend([0] * n)
            weights.extend([counterfactual_weight / n] * n)
            groups.extend([g] * n)  # same group: never split from the original
            real.extend([False] * n)
    return (
        np.array(rows, float),
        np.array(labels),
        np.array(weights),
        np.array(groups),
        np.array(real, bool),
    )


def sign_vector(features: Sequence[str], monotone: Mapping[str, int] | None) -> list[int]:
    """Each feature's allowed sign (+1, -1, or 0 for free) from a ``monotone`` mapping.

    Names the model does not use are ignored (the default set names every risk feature);
    names that are no feature at all, or signs other than -1, 0, +1, are errors.
    """
    monotone = dict(monotone or {})
    unknown = sorted(set(monotone) - set(FEATURE_NAMES))
    if unknown:
        raise CoseaError(f"sign constraints on unknown feature(s) {unknown}")
    bad = sorted(name for name, sign in monotone.items() if sign not in (-1, 0, 1))
    if bad:
        raise CoseaError(f"sign constraints must be -1, 0 or +1 (got {bad})")
    return [int(monotone.get(name, 0)) for name in features]


def fit_logistic(
    z: Any, y: Any, sample_weight: Any, c: float, signs: Sequence[int] | None = None
) -> tuple[Any, float]:
    """Class-balanced L2 logistic regression, optionally with sign-constrained weights.

    The loss is scikit-learn's ``LogisticRegression(C=c, class_weight="balanced")``
    with these sample weights (the intercept is not penalised), so without ``signs``
    the weights are scikit-learn's; SciPy's L-BFGS-B keeps each weight on its side
    of zero (+1: >= 0, -1: <= 0, 0: free). Returns the weights and the intercept.
    """
    import numpy as np
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    y = np.asarray(y, int)
    weights = np.asarray(sample_weight, float)
    # "balanced": each class carries half of the total sample weight
    class_totals = np.array([weights[y == k].sum() for k in (0, 1)])
    weights = weights * (weights.sum() / (2.0 * class_totals))[y]
    # averaged like scikit-learn, so the tolerances mean the same whatever the size
    total = weights.sum()
    weights = weights / total
    penalty = 1.0 / (c * total)
    target = 2.0 * y - 1.0

    def loss_and_gradient(theta: Any) -> tuple[float, Any]:
        coef, intercept = theta[:-1], theta[-1]
        margin = target * (z @ coef + intercept)
        loss = -(weights @ log_expit(margin)) + 0.5 * penalty * (coef @ coef)
        residual = -weights * target * expit(-margin)
        gradient = np.append(z.T @ residual + penalty * coef, residual.sum())
        return float(loss), gradient

    signs = list(signs) if signs is not None else [0] * z.shape[1]
    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    result = minimize(
        loss_and_gradient,
        np.zeros(z.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None)],
        options={"maxiter": 15000, "maxls": 50, "gtol": 1e-9, "ftol": 1e-15},
    )
    return result.x[:-1], float(result.x[-1])


def _fit_linear(
    x: Any, y: Any, w: Any, c: float, signs: Sequence[int] | None = None
) -> tuple[Any, Any, Any, float]:
    """Standardise and fit a class-balanced L2 logistic regression (signs: see fit_logistic)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    z = (x - means) / scales
    if len(set(y.tolist())) < 2:
        rate = float(np.average(y, weights=w))
        return means, scales, np.zeros(x.shape[1]), _logit(rate)
    sample_weight = w * len(w) / w.sum()
    if signs is not None and any(signs):
        coef, intercept = fit_logistic(z, y, sample_weight, c, signs)
        return means, scales, coef, intercept
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    classifier.fit(z, y, sample_weight=sample_weight)
    return means, scales, classifier.coef_[0], float(classifier.intercept_[0])


def _score(x: Any, means: Any, scales: Any, coef: Any, intercept: float) -> Any:
    return ((x - means) / scales) @ coef + intercept


def fit_from_traces(
    traces: Sequence[Trace],
    *,
    c: float = DEFAULT_C,
    half_life: float = DEFAULT_HALF_LIFE,
    false_alarm_target: float = DEFAULT_FALSE_ALARM_TARGET,
    folds: int = 5,
    repeats: int = 3,
    counterfactual_weight: float = DEFAULT_COUNTERFACTUAL_WEIGHT,
    features: Sequence[str] = DEFAULT_FEATURES,
    threshold_objective: str = "latency",
    monotone: Mapping[str, int] | None = None,
    metadata: dict[str, Any] | None = None,
) -> RiskModel:
    import numpy as np
    import scipy
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedGroupKFold

    if not traces:
        raise CoseaError("no labelled conversations to train on")
    classes = {t.gold_class for t in traces}
    if ConversationClass.BENIGN not in classes or classes == {ConversationClass.BENIGN}:
        raise CoseaError("training needs both benign and risky (grooming/sextortion) conversations")
    columns = [FEATURE_NAMES.index(f) for f in features]
    signs = sign_vector(features, monotone)
    x, y, w, groups, real = _design(traces, columns, counterfactual_weight)
    means, scales, coef, intercept = _fit_linear(x, y, w, c, signs)

    # Out-of-fold scores: each conversation scored by a model that never saw it,
    # over ``repeats`` shuffled stratified splits so the calibration and the
    # threshold rest on more than one arbitrary split of a small set.
    gold = np.array([t.gold_class for t in traces])
    pooled_traces: list[Trace] = []
    pooled_scores: list[Any] = []
    for repeat in range(repeats):
        oof = np.zeros(len(y))
        splitter = StratifiedGroupKFold(
            n_splits=max(2, min(folds, _smallest_class(traces))), shuffle=True, random_state=repeat
        )
        for train_idx, test_idx in splitter.split(x, gold[groups], groups):
            m, s, k, b = _fit_linear(x[train_idx], y[train_idx], w[train_idx], c, signs)
            oof[test_idx] = _score(x[test_idx], m, s, k, b)
        pooled_scores.append(oof)
        pooled_traces.extend(traces)
    # Calibrated on the real conversations only (not on the adult counterfactuals).
    scores = np.concatenate([oof[real] for oof in pooled_scores])
    platt = LogisticRegression(C=1e4, max_iter=5000)
    platt.fit(
        scores.reshape(-1, 1),
        np.tile(y[real], repeats),
        sample_weight=np.tile(w[real], repeats) * real.sum() / w[real].sum(),
    )
    calibration = Calibration("sigmoid", float(platt.coef_[0][0]), float(platt.intercept_[0]))

    probabilities: list[list[float]] = []
    for oof in pooled_scores:
        for g in range(len(traces)):
            own = oof[(groups == g) & real]
            probabilities.append([calibration(float(v)) for v in own])
    threshold, outcome = choose_threshold(
        pooled_traces, probabilities, false_alarm_target, objective=threshold_objective
    )

    # Class model on risky conversations, from the state at their last message.
    risky = [t for t in traces if t.risky and t.vectors]
    idx = [FEATURE_NAMES.index(f) for f in CLASS_FEATURES]
    cx = np.array([[t.vectors[-1][i] for i in idx] for t in risky], float).reshape(-1, len(idx))
    cy = np.array([1 if t.gold_class == ConversationClass.SEXTORTION else 0 for t in risky])
    cm, cs, ck, cb = (
        _fit_linear(cx, cy, np.ones(len(cy)), 1.0)
        if len(cy)
        else (np.zeros(len(idx)), np.ones(len(idx)), np.zeros(len(idx)), -1.0)
    )
    sextortion = LinearPart(
        list(CLASS_FEATURES),
        [float(v) for v in ck],
        float(cb),
        [float(v) for v in cm],
        [float(v) for v in cs],
    )

    alerted = [first_alert(p, threshold) is not None for p in probabilities[: len(traces)]]
    technique_threshold = max(
        TECHNIQUE_THRESHOLDS, key=lambda t: (round(technique_f1(traces, alerted, t), 6), -t)
    )
    counts = {cls.value: sum(t.gold_class == cls for t in traces) for cls in ConversationClass}
    constrained = {name: sign for name, sign in zip(features, signs, strict=True) if sign}
    info = {
        "fitted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fitted_with": f"scikit-learn {sklearn.__version__}"
        + (f", scipy {scipy.__version__} (L-BFGS-B)" if constrained else ""),
        "method": "L2 logistic regression on conversation prefixes, class-balanced"
        + (", sign-constrained weights" if constrained else "")
        + f", Platt calibration on out-of-fold scores of {repeats} shuffled stratified "
        f"{folds}-fold splits grouped by conversation",
        "regularisation_C": c,
        # +1: weight >= 0, -1: weight <= 0; features not named were free
        "sign_constraints": constrained,
        "counterfactual_weight": counterfactual_weight,
        "conversations": len(traces),
        "prefixes": int(real.sum()),
        "adult_counterfactual_prefixes": int((~real).sum()),
        "classes": counts,
        "false_alarm_target": false_alarm_target,
        "out_of_fold": {
            "f05": round(outcome["f05"], 4),
            "false_alarm_rate": round(outcome["false_alarm_rate"], 4),
            "median_alert_delay": outcome["median_delay"],
            "technique_f1": round(technique_f1(traces, alerted, technique_threshold), 4),
        },
        "features": {f: FEATURES[f] for f in features},
        "threshold_objective": threshold_objective,
    }
    info.update(metadata or {})
    return RiskModel(
        risk=LinearPart(
            list(features),
            [float(v) for v in coef],
            float(intercept),
            [float(v) for v in means],
            [float(v) for v in scales],
        ),
        calibration=calibration,
        sextortion=sextortion,
        alert_threshold=float(threshold),
        rearm_margin=0.1,
        technique_threshold=float(technique_threshold),
        recency_half_life=half_life,
        metadata=info,
    )


def fit_model(
    conversations: Iterable[Conversation],
    *,
    registry: RecognizerRegistry | None = None,
    normalizer: Normalizer | None = None,
    c: float = DEFAULT_C,
    half_life: float = DEFAULT_HALF_LIFE,
    false_alarm_target: float = DEFAULT_FALSE_ALARM_TARGET,
    monotone: Mapping[str, int] | None = None,
    metadata: dict[str, Any] | None = None,
    progress: Callable[[Conversation], None] | None = None,
) -> RiskModel:
    """Fit a risk model on labelled conversations (see the module docstring)."""
    traces = trace_all(conversations, registry, normalizer, half_life, progress)
    return fit_from_traces(
        traces,
        c=c,
        half_life=half_life,
        false_alarm_target=false_alarm_target,
        monotone=monotone,
        metadata=metadata,
    )
