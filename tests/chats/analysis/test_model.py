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

from cosea.chats.analysis import FEATURE_NAMES, analyze_conversation
from cosea.chats.model import MODEL_FORMAT, RiskModel, load_model
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
