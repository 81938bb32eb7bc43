"""Risk-model variants side by side: cross-validation over many fold seeds, and held-out round 12.

    .venv/bin/python tests/chats/model/measure_model_variants.py [--seeds 0-19] [VARIANT ...]

For each variant (default: all of :data:`VARIANTS`) and each seed, the same stratified
5-fold cross-validation as ``cosea chats crossval --seed S`` (fit on four folds, analyse
the fifth message by message with the fold's model), then a model fitted on the whole
development set analyses the round-12 held-out conversations
(``tests/chats/fixtures/heldout_conversations_r12.jsonl``), judged as that test judges
them. The recognizers run once per variant and conversation: features do not depend on
the model. Variants with an ``age_gap`` transform replace that feature's value (the
suspect's age minus the youngest other's, in decades, unclipped) in every vector the
analyser computes, for training and analysis alike. Each variant also reports the risk
that its whole-development-set model gives two benign chats with declared ages and no
warning sign (:data:`PRIOR_CHATS`): it should stay well below the alert threshold.
Not a test: it takes about 8 seconds per variant and seed.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cosea.chats.analysis import ConversationAnalyzer, analyze_conversation, analyze_stream
from cosea.chats.analysis import analyzer as analyzer_module
from cosea.chats.analysis.pipeline import resolve
from cosea.chats.evaluation import GoldConversation, evaluate, read_labelled
from cosea.chats.io import read_conversations
from cosea.chats.model.features import FEATURE_NAMES
from cosea.chats.model.training import (
    DEFAULT_FEATURES,
    DEFAULT_MONOTONE,
    fit_from_traces,
    trace_all,
)
from cosea.types import Conversation

ROOT = Path(__file__).resolve().parents[3]
DEV = [
    ROOT.parent / "shared/data/conversations" / n for n in ("dev-risky.jsonl", "dev-benign.jsonl")
]
HELDOUT = ROOT / "tests/chats/fixtures/heldout_conversations_r12.jsonl"
TACTICS = {f"tactic_TA{n:02d}": 1 for n in range(1, 11)}
WITHOUT_AGE_GAP = tuple(f for f in DEFAULT_FEATURES if f != "age_gap")
AGE_GAP = FEATURE_NAMES.index("age_gap")


def clipped(upper: float) -> Callable[[float], float]:
    """The age gap in decades clipped to [-1, upper]."""
    return lambda decades: max(-1.0, min(upper, decades))


#: Options of fit_from_traces, plus ``age_gap``: decades -> feature value.
VARIANTS: dict[str, dict[str, Any]] = {
    "free (shipped)": {},
    "age_gap clipped at 20 years (before)": {"age_gap": clipped(2.0)},
    "age_gap clipped at 13 years": {"age_gap": clipped(1.3)},
    "age_gap clipped at 10 years": {"age_gap": clipped(1.0)},
    "age_gap clipped at 5 years": {"age_gap": clipped(0.5)},
    "age_gap tanh(decades)": {"age_gap": math.tanh},
    "monotone": {"monotone": DEFAULT_MONOTONE},
    "monotone, C=0.1": {"monotone": DEFAULT_MONOTONE, "c": 0.1},
    "monotone, C=1": {"monotone": DEFAULT_MONOTONE, "c": 1.0},
    "tactics >= 0, adults_only <= 0": {"monotone": {**TACTICS, "adults_only": -1}},
    "monotone, no age_gap": {"monotone": DEFAULT_MONOTONE, "features": WITHOUT_AGE_GAP},
    "free, no age_gap": {"features": WITHOUT_AGE_GAP},
}


def _chat(cid: str, ages: tuple[int, int], texts: list[str]) -> dict[str, Any]:
    return {
        "id": cid,
        "platform": "messenger",
        "language": "en",
        "participants": [{"id": f"u{i + 1}", "declared_age": age} for i, age in enumerate(ages)],
        "messages": [
            {
                "id": f"m{i + 1}",
                "ts": f"2026-01-12T18:{i:02d}:00Z",
                "from": f"u{i % 2 + 1}",
                "text": t,
            }
            for i, t in enumerate(texts)
        ],
    }


#: Ordinary chats between an adult and a child, ages declared, no warning sign in them.
PRIOR_CHATS = [
    _chat(
        "parent 43, child 13",
        (43, 13),
        ["did you finish your homework", "yes nearly", "dinner is at 7", "ok"],
    ),
    _chat(
        "coach 30, player 14",
        (30, 14),
        ["practice moved to 5 tomorrow", "ok coach", "bring your water bottle", "will do"],
    ),
]


@contextmanager
def age_gap_as(transform: Callable[[float], float] | None) -> Iterator[None]:
    """Every feature vector the analyser computes gets ``transform(gap in decades)``."""
    if transform is None:
        yield
        return
    original = analyzer_module.feature_vector

    def feature_vector(**features: Any) -> list[float]:
        vector = original(**features)
        years = features["age_gap_years"]
        vector[AGE_GAP] = 0.0 if years is None else transform(years / 10.0)
        return vector

    analyzer_module.feature_vector = feature_vector
    try:
        yield
    finally:
        analyzer_module.feature_vector = original


def seeds_from(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def cross_validation(dev, traces, seed: int, options: dict[str, Any]) -> dict[str, Any]:
    """What ``cosea.chats.evaluation.cross_validate`` does, with the fit options passed on."""
    from sklearn.model_selection import StratifiedKFold

    registry, normalizer = resolve(None, None)
    gold = [GoldConversation.from_conversation(c) for c in dev]
    classes = [g.cls for g in gold]
    predictions: list[Any] = [None] * len(dev)
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(classes, classes):
        model = fit_from_traces([traces[i] for i in train_idx], **options)
        for i in test_idx:
            assessment = analyze_conversation(dev[i], model, registry, normalizer=normalizer)
            predictions[i] = assessment.to_prediction()
    report = evaluate(gold, predictions)
    report["false_alarms"] = [
        p["id"]
        for p, g in zip(predictions, classes, strict=True)
        if g == "benign" and p["alert_message"]
    ]
    return report


def heldout(traces, options: dict[str, Any]) -> dict[str, Any]:
    """The round-12 conversations with a model fitted on the whole development set."""
    model = fit_from_traces(traces, **options)
    conversations = list(read_conversations([HELDOUT]))
    labels = {c.id: c.label for c in conversations}
    # how close the benign ones came to alerting: their highest risk minus the threshold
    margins = []
    for conversation in conversations:
        if conversation.label["class"] == "benign":
            analyzer = ConversationAnalyzer(model, conversation=conversation)
            peak = max(analyzer.observe(m).risk for m in conversation.messages)
            margins.append(peak - model.alert_threshold)
    passed, alerted, benign_alerts = 0, 0, 0
    for a in analyze_stream(conversations, model=model, batch_context=False):
        label, p = labels[a.conversation_id], a.to_prediction()
        if label["class"] == "benign":
            benign_alerts += p["alert_message"] is not None
            continue
        if p["alert_message"] is None:
            continue
        alerted += 1
        delay = int(p["alert_message"][1:]) - int(label["first_risk_message"][1:])
        passed += (p["suspect"], p["class"]) == (label["offender"], label["class"]) and delay <= 4
    priors = {}
    for chat in PRIOR_CHATS:
        conversation = Conversation.from_dict(chat)
        analyzer = ConversationAnalyzer(model, conversation=conversation)
        priors[chat["id"]] = round(max(analyzer.observe(m).risk for m in conversation.messages), 3)
    negative = {
        f: round(w, 2)
        for f, w in zip(model.risk.features, model.risk.coefficients, strict=True)
        if w < -1e-9
    }
    return {
        "risky_passed": passed,
        "risky_alerted": alerted,
        "benign_alerted": benign_alerts,
        "benign_peak_minus_threshold": round(max(margins), 3),
        "threshold": round(model.alert_threshold, 3),
        "benign_chats_without_findings": priors,
        "age_gap_weight": round(model.risk.weight_of("age_gap"), 3),
        "negative_weights": negative,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", default=list(VARIANTS), help="names in VARIANTS")
    parser.add_argument("--seeds", default="0-4", help="fold seeds, e.g. 0-19")
    parser.add_argument("--json", action="store_true", help="one JSON line per variant")
    args = parser.parse_args()
    dev = read_labelled(DEV)
    for name in args.variants:
        options = dict(VARIANTS[name])
        with age_gap_as(options.pop("age_gap", None)):
            result = measure(name, dev, options, seeds_from(args.seeds))
        if args.json:
            print(json.dumps(result), flush=True)
            continue
        rows = result["seeds"]
        print(f"== {name}")
        for key in ("f05", "false_alarm_rate", "median_delay", "technique_f1"):
            print(f"  {key:17s} " + " ".join(f"{r[key]:g}" for r in rows))
        print(
            f"  mean F0.5 {result['mean_f05']} (worst {result['worst_f05']}), mean false alarms "
            f"{result['mean_false_alarm_rate']:.2%}, worst {result['worst_false_alarm_rate']:.1%}; "
            f"false alarms by conversation {result['false_alarms_by_conversation']}"
        )
        print(f"  round 12: {result['heldout_r12']}", flush=True)


def measure(name: str, dev, options: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    traces = trace_all(dev)
    rows, false_alarms = [], Counter()
    for seed in seeds:
        report = cross_validation(dev, traces, seed, options)
        false_alarms.update(report["false_alarms"])
        rows.append(
            {
                "seed": seed,
                "f05": round(report["conversation"]["f05"], 3),
                "false_alarm_rate": round(report["conversation"]["false_alarm_rate"], 3),
                "median_delay": report["alert_delay"]["median"],
                "technique_f1": round(report["techniques"]["micro"]["f1"], 3),
            }
        )
    return {
        "variant": name,
        "seeds": rows,
        "mean_f05": round(statistics.mean(r["f05"] for r in rows), 3),
        "worst_f05": min(r["f05"] for r in rows),
        "mean_false_alarm_rate": round(statistics.mean(r["false_alarm_rate"] for r in rows), 4),
        "worst_false_alarm_rate": max(r["false_alarm_rate"] for r in rows),
        "false_alarms_by_conversation": dict(sorted(false_alarms.items())),
        "heldout_r12": heldout(traces, options),
    }


if __name__ == "__main__":
    main()
