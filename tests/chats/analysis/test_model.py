"""The risk model file: JSON round trip, no pickle, clear errors, and fitting."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from analysis_helpers import (
    BENIGN,
    GROOMING,
    hand_model,
    keyword_registry,
    lower,
    make_conversation,
)

from cosea.chats.analysis import FEATURE_NAMES, ConversationAnalyzer, analyze_conversation
from cosea.chats.model import MODEL_FORMAT, RiskModel, default_model, load_model
from cosea.chats.model.features import AGE_GAP_MAX_DECADES, feature_vector
from cosea.chats.model.training import DEFAULT_FEATURES, fit_model
from cosea.errors import CoseaError, InputError
from cosea.types import ConversationClass


def test_json_round_trip_keeps_every_decision(tmp_path: Path):
    model = hand_model()
    path = model.save(tmp_path / "model.json")
    loaded = load_model(path)
    assert loaded.to_dict() == model.to_dict()
    assert loaded.model_id == model.model_id
    vector = [0.5] * len(FEATURE_NAMES)
    assert loaded.probability(vector) == model.probability(vector)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text)["format"] == MODEL_FORMAT
    assert not text.startswith("\x80")  # a pickle stream starts with its protocol byte


def test_model_id_ignores_metadata():
    model = hand_model()
    assert replace(model, metadata={"note": "other"}).model_id == model.model_id
    assert replace(model, alert_threshold=0.7).model_id != model.model_id


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.update(format="pickle"), "not a cosea risk model"),
        (lambda d: d["risk"]["features"].__setitem__(0, "shoe_size"), "unknown feature"),
        (lambda d: d["risk"].update(coefficients=[1.0]), "differ in length"),
        (lambda d: d.pop("calibration"), "missing field"),
        (lambda d: d.update(alert_threshold=1.5), "alert_threshold"),
        (lambda d: d["calibration"].update(method="magic"), "unknown calibration"),
    ],
)
def test_invalid_model_files_are_explained(tmp_path: Path, mutate, problem):
    data = hand_model().to_dict()
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=problem) as caught:
        load_model(path)
    assert str(path) in str(caught.value)


def test_unreadable_model_files(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "missing.json")
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x80\x04\x95 not json")
    with pytest.raises(InputError, match="not JSON"):
        load_model(garbage)


def test_isotonic_calibration_interpolates():
    data = hand_model().to_dict()
    data["calibration"] = {"method": "isotonic", "x": [-1.0, 0.0, 1.0], "y": [0.1, 0.5, 0.9]}
    model = RiskModel.from_dict(data)
    assert model.calibration(-5) == 0.1
    assert model.calibration(0.5) == pytest.approx(0.7)
    assert model.calibration(9) == 0.9


def _labelled(cid: str, lines, cls: str, first: str | None, techniques: dict):
    conversation = make_conversation(cid, lines)
    conversation.label = {
        "class": cls,
        "offender": "u2" if cls != "benign" else None,
        "first_risk_message": first,
        "techniques": techniques,
    }
    return conversation


def synthetic_set() -> list:
    grooming_techniques = {
        "m3": ["T0101"],
        "m5": ["T0301"],
        "m6": ["T0103"],
        "m8": ["T0403", "T0401"],
        "m9": ["T0601"],
    }
    grooming_lines = GROOMING[:10]
    sextortion_techniques = {**grooming_techniques, "m11": ["T0701", "T0702"]}
    benign_secret = [("u1", "dont tell mum about the party"), ("u2", "ok"), ("u1", "ty")]
    data = []
    for i in range(6):
        data.append(_labelled(f"g{i}", grooming_lines, "grooming", "m3", grooming_techniques))
        data.append(_labelled(f"s{i}", GROOMING, "sextortion", "m3", sextortion_techniques))
        data.append(_labelled(f"b{i}", BENIGN, "benign", None, {}))
        data.append(_labelled(f"c{i}", benign_secret, "benign", None, {}))
    return data


def test_fit_produces_a_valid_calibrated_model(tmp_path: Path):
    data = synthetic_set()
    model = fit_model(data, registry=keyword_registry(), normalizer=lower)
    reloaded = load_model(model.save(tmp_path / "fitted.json"))
    assert reloaded.to_dict() == model.to_dict()
    assert 0.0 < model.alert_threshold < 1.0
    assert model.metadata["conversations"] == len(data)
    assert model.metadata["prefixes"] == sum(len(c.messages) for c in data)
    assert list(model.metadata["features"]) == list(DEFAULT_FEATURES) == model.risk.features
    assert set(DEFAULT_FEATURES) <= set(FEATURE_NAMES)
    sextortion = analyze_conversation(data[1], model, keyword_registry(), normalizer=lower)
    assert sextortion.alert and sextortion.cls == ConversationClass.SEXTORTION
    assert sextortion.suspect == "u2"
    grooming = analyze_conversation(data[0], model, keyword_registry(), normalizer=lower)
    assert grooming.cls == ConversationClass.GROOMING
    benign = analyze_conversation(data[3], model, keyword_registry(), normalizer=lower)
    assert benign.cls == ConversationClass.BENIGN and benign.techniques == {}


def test_fit_needs_both_kinds_of_conversation():
    data = [c for c in synthetic_set() if c.label["class"] == "benign"]
    with pytest.raises(CoseaError, match="both benign and risky"):
        fit_model(data, registry=keyword_registry(), normalizer=lower)
    unlabelled = make_conversation("x", BENIGN)
    with pytest.raises(CoseaError, match="no usable label"):
        fit_model([unlabelled], registry=keyword_registry(), normalizer=lower)


# -- sign constraints (monotone risk) ------------------------------------------------------


def _logistic_problem(seed: int = 7):
    """Standardised features where the second one truly lowers the odds."""
    import numpy as np

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(400, 4))
    logits = 1.2 * z[:, 0] - 0.9 * z[:, 1] + 0.4 * z[:, 2] - 0.5
    y = (rng.random(400) < 1 / (1 + np.exp(-logits))).astype(int)
    weights = rng.uniform(0.2, 2.0, size=400)
    return z, y, weights


@pytest.mark.parametrize("c", [0.05, 0.3, 3.0])
def test_the_constrained_fit_without_bounds_is_scikit_learns_logistic_regression(c):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from cosea.chats.model.training import fit_logistic

    z, y, weights = _logistic_problem()
    coef, intercept = fit_logistic(z, y, weights, c)
    reference = LogisticRegression(C=c, class_weight="balanced", tol=1e-12, max_iter=100_000)
    reference.fit(z, y, sample_weight=weights)
    np.testing.assert_allclose(coef, reference.coef_[0], atol=1e-5)
    assert intercept == pytest.approx(float(reference.intercept_[0]), abs=1e-5)


def test_sign_constraints_hold_and_leave_the_free_weights_fitted():
    from cosea.chats.model.training import fit_logistic

    z, y, weights = _logistic_problem()
    free, _ = fit_logistic(z, y, weights, 1.0)
    assert free[1] < -0.5  # the data wants a negative weight here
    signed, _ = fit_logistic(z, y, weights, 1.0, signs=[1, 1, 1, 0])
    assert signed[1] == pytest.approx(0.0, abs=1e-9)  # held on the bound, not pushed past it
    assert all(w >= 0 for w in signed[:3])
    assert signed[0] > 0.5  # the others still carry the signal
    flipped, _ = fit_logistic(z, y, weights, 1.0, signs=[-1, 0, 0, 0])
    assert flipped[0] == pytest.approx(0.0, abs=1e-9)


def test_sign_constraints_are_checked():
    from cosea.chats.model.training import sign_vector

    signs = sign_vector(["evidence", "adults_only", "context"], {"evidence": 1, "adults_only": -1})
    assert signs == [1, -1, 0]
    assert sign_vector(["evidence"], {"tactic_TA04": 1}) == [0]  # a feature the model lacks
    with pytest.raises(CoseaError, match="unknown feature"):
        sign_vector(["evidence"], {"shoe_size": 1})
    with pytest.raises(CoseaError, match="-1, 0 or \\+1"):
        sign_vector(["evidence"], {"evidence": 2})


def test_monotone_fit_records_its_constraints_and_keeps_them():
    from cosea.chats.model.training import DEFAULT_MONOTONE

    data = synthetic_set()
    model = fit_model(
        data, registry=keyword_registry(), normalizer=lower, monotone=DEFAULT_MONOTONE
    )
    constraints = model.metadata["sign_constraints"]
    assert constraints == {f: s for f, s in DEFAULT_MONOTONE.items() if f in model.risk.features}
    for feature, sign in constraints.items():
        assert sign * model.risk.weight_of(feature) >= 0, feature
    assert "sign-constrained" in model.metadata["method"]
    assert "L-BFGS-B" in model.metadata["fitted_with"]
    grooming = analyze_conversation(data[0], model, keyword_registry(), normalizer=lower)
    assert grooming.alert and grooming.cls == ConversationClass.GROOMING

    free = fit_model(data, registry=keyword_registry(), normalizer=lower, monotone=None)
    assert free.metadata["sign_constraints"] == {}
    assert "sign-constrained" not in free.metadata["method"]


def test_a_monotone_model_never_lowers_the_risk_for_a_stronger_sign():
    from cosea.chats.model.training import DEFAULT_MONOTONE

    model = fit_model(
        synthetic_set(), registry=keyword_registry(), normalizer=lower, monotone=DEFAULT_MONOTONE
    )
    base = [0.0] * len(FEATURE_NAMES)
    base[FEATURE_NAMES.index("minor_present")] = 1.0
    for feature, sign in DEFAULT_MONOTONE.items():
        if sign <= 0:
            continue
        stronger = list(base)
        stronger[FEATURE_NAMES.index(feature)] += 1.0
        assert model.probability(stronger) >= model.probability(base), feature


def test_model_files_without_sign_constraints_still_load(tmp_path: Path):
    data = hand_model().to_dict()
    data["metadata"] = {"method": "fitted before sign constraints existed"}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    model = load_model(path)
    assert "sign_constraints" not in model.metadata
    assert model.risk.coefficients == hand_model().risk.coefficients


def test_train_command_fits_a_monotone_model_on_request(tmp_path: Path, dev_conversation_files):
    from typer.testing import CliRunner

    from cosea.cli import app

    out = tmp_path / "monotone.json"
    args = ["chats", "train", "--monotone", "--out", str(out)]
    for path in dev_conversation_files:
        args += ["--data", str(path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    model = load_model(out)
    assert model.metadata["sign_constraints"]["tactic_TA04"] == 1
    negative = [
        f for f, w in zip(model.risk.features, model.risk.coefficients, strict=True) if w < 0
    ]
    assert negative == ["adults_only"]


def test_the_age_gap_feature_stops_at_13_years():
    def gap(years):
        vector = feature_vector(
            evidence=0.0,
            max_confidence=0.0,
            distinct_tactics=0,
            progression=0,
            furthest_rank=0,
            severe=0.0,
            coercion=0.0,
            suspect_share=0.0,
            recent=0.0,
            minor_present=True,
            age_gap_years=years,
            context=0.0,
        )
        return vector[FEATURE_NAMES.index("age_gap")]

    assert gap(None) == 0.0
    assert gap(5) == pytest.approx(0.5)
    assert gap(13) == gap(30) == gap(60) == pytest.approx(AGE_GAP_MAX_DECADES) == 1.3
    assert gap(-40) == -1.0


@pytest.mark.parametrize(
    ("adult_age", "child_age", "lines"),
    [
        (43, 13, ["did you finish your homework", "yes nearly", "dinner is at 7", "ok"]),
        (30, 14, ["practice moved to 5 tomorrow", "ok coach", "bring your water bottle", "ok"]),
    ],
)
def test_an_ordinary_adult_and_child_chat_starts_far_below_the_threshold(
    adult_age, child_age, lines
):
    # the shipped weight on age_gap was fitted on gaps of at most 13 years; a parent and
    # child 30 years apart used to start at 0.66 with a threshold of 0.75
    turns = [("u2" if i % 2 == 0 else "u1", text) for i, text in enumerate(lines)]
    conversation = make_conversation("family", turns, ages=(child_age, adult_age))
    model = default_model()
    analyzer = ConversationAnalyzer(model, conversation=conversation)
    peak = max(analyzer.observe(message).risk for message in conversation.messages)
    assert peak < 0.25 < model.alert_threshold
    assert not analyzer.alert
