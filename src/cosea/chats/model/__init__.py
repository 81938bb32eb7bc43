"""The conversation risk model: a small calibrated logistic model stored as JSON.

Inference is plain Python over the JSON numbers (no scikit-learn, no pickle), so
the analyser's hot path stays a handful of multiplications per message. The
file holds everything that decides an alert: coefficients with the feature names
and scaling they apply to, the calibration map from score to probability, the
class model (sextortion versus grooming), the alert threshold and the
re-arming margin after a reviewer clears an alert, the confidence from which a
technique is reported, and metadata on how the model was fitted.

Fit one with ``cosea chats train`` (:func:`cosea.chats.model.training.fit_model`).
"""

from __future__ import annotations

import hashlib
import json
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cosea.chats.model.features import FEATURE_NAMES
from cosea.errors import InputError
from cosea.types import ConversationClass

MODEL_FORMAT = "cosea.chats.risk-model/1"
DEFAULT_MODEL_RESOURCE = "default_model.json"


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@dataclass(slots=True)
class Calibration:
    """Score-to-probability map: Platt ``sigmoid(slope * score + offset)`` or isotonic points."""

    method: str = "sigmoid"
    slope: float = 1.0
    offset: float = 0.0
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)

    def __call__(self, score: float) -> float:
        if self.method == "sigmoid":
            return _sigmoid(self.slope * score + self.offset)
        if not self.xs:
            return _sigmoid(score)
        if score <= self.xs[0]:
            return self.ys[0]
        if score >= self.xs[-1]:
            return self.ys[-1]
        i = bisect_right(self.xs, score)
        x0, x1, y0, y1 = self.xs[i - 1], self.xs[i], self.ys[i - 1], self.ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (score - x0) / (x1 - x0)

    def to_dict(self) -> dict[str, Any]:
        if self.method == "sigmoid":
            return {"method": "sigmoid", "slope": self.slope, "offset": self.offset}
        return {"method": "isotonic", "x": list(self.xs), "y": list(self.ys)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        method = data.get("method", "sigmoid")
        if method == "sigmoid":
            return cls("sigmoid", float(data["slope"]), float(data["offset"]))
        if method == "isotonic":
            xs = [float(v) for v in data["x"]]
            ys = [float(v) for v in data["y"]]
            if len(xs) != len(ys) or xs != sorted(xs):
                raise ValueError("isotonic calibration needs as many sorted x as y values")
            return cls("isotonic", xs=xs, ys=ys)
        raise ValueError(f"unknown calibration method {method!r} (sigmoid or isotonic)")


@dataclass(slots=True)
class LinearPart:
    """``intercept + sum(coef * (x - mean) / scale)`` over named features."""

    features: list[str]
    coefficients: list[float]
    intercept: float
    means: list[float]
    scales: list[float]
    _index: list[int] = field(default_factory=list, repr=False)
    _terms: tuple[Any, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.coefficients) == len(self.means) == len(self.scales) == n):
            raise ValueError("features, coefficients, means and scales differ in length")
        unknown = [f for f in self.features if f not in FEATURE_NAMES]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; known: {list(FEATURE_NAMES)}")
        if any(s <= 0 for s in self.scales):
            raise ValueError("scales must be positive")
        self._index = [FEATURE_NAMES.index(f) for f in self.features]

    def score(self, vector: list[float]) -> float:
        terms = self._terms
        if (
            terms is None
            or terms[0] is not self.coefficients
            or terms[1] is not self.means
            or terms[2] is not self.scales
        ):
            # zipped once (per set of lists) instead of on every call
            terms = self._terms = (
                self.coefficients,
                self.means,
                self.scales,
                tuple(zip(self._index, self.coefficients, self.means, self.scales, strict=True)),
            )
        total = self.intercept
        for i, coef, mean, scale in terms[3]:
            total += coef * (vector[i] - mean) / scale
        return total

    def weight_of(self, feature: str) -> float:
        """The coefficient on ``feature`` (0 when the model does not use it)."""
        try:
            return self.coefficients[self.features.index(feature)]
        except ValueError:
            return 0.0

    def contributions(self, vector: list[float]) -> dict[str, float]:
        return {
            name: coef * (vector[i] - mean) / scale
            for name, i, coef, mean, scale in zip(
                self.features, self._index, self.coefficients, self.means, self.scales, strict=True
            )
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "coefficients": list(self.coefficients),
            "intercept": self.intercept,
            "means": list(self.means),
            "scales": list(self.scales),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearPart:
        return cls(
            features=[str(f) for f in data["features"]],
            coefficients=[float(c) for c in data["coefficients"]],
            intercept=float(data["intercept"]),
            means=[float(m) for m in data.get("means") or [0.0] * len(data["features"])],
            scales=[float(s) for s in data.get("scales") or [1.0] * len(data["features"])],
        )


@dataclass(slots=True)
class RiskModel:
    """Risk, class and alert decisions from a feature vector (see :mod:`.features`)."""

    risk: LinearPart
    calibration: Calibration
    sextortion: LinearPart
    alert_threshold: float = 0.5
    rearm_margin: float = 0.1
    technique_threshold: float = 0.5
    recency_half_life: float = 8.0
    metadata: dict[str, Any] = field(default_factory=dict)
    # Risk before any technique, per (ages, context) situation: analysers start there
    # for every conversation (see ConversationAnalyzer._recompute). Never serialised.
    prior_cache: dict[tuple[Any, ...], tuple[list[float], float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not 0.0 < self.alert_threshold < 1.0:
            raise ValueError("alert_threshold must lie strictly between 0 and 1")
        if self.recency_half_life <= 0:
            raise ValueError("recency_half_life must be positive")

    # -- inference -------------------------------------------------------------------
    def probability(self, vector: list[float]) -> float:
        """Calibrated probability that the conversation so far is risky."""
        return self.calibration(self.risk.score(vector))

    def risky_class(self, vector: list[float]) -> ConversationClass:
        """Grooming or sextortion, for a conversation already judged risky."""
        if _sigmoid(self.sextortion.score(vector)) >= 0.5:
            return ConversationClass.SEXTORTION
        return ConversationClass.GROOMING

    def explain(self, vector: list[float]) -> dict[str, float]:
        """Each feature's share of the risk score (log-odds), for reviewers."""
        return self.risk.contributions(vector)

    # -- files -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "risk": self.risk.to_dict(),
            "calibration": self.calibration.to_dict(),
            "class_model": {"positive": "sextortion", "otherwise": "grooming"}
            | self.sextortion.to_dict(),
            "alert_threshold": self.alert_threshold,
            "rearm_margin": self.rearm_margin,
            "technique_threshold": self.technique_threshold,
            "recency_half_life": self.recency_half_life,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | Path | None = None) -> RiskModel:
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise InputError(
                source, f"not a cosea risk model (format {found!r}, want {MODEL_FORMAT})"
            )
        try:
            return cls(
                risk=LinearPart.from_dict(data["risk"]),
                calibration=Calibration.from_dict(data["calibration"]),
                sextortion=LinearPart.from_dict(data["class_model"]),
                alert_threshold=float(data["alert_threshold"]),
                rearm_margin=float(data.get("rearm_margin", 0.1)),
                technique_threshold=float(data.get("technique_threshold", 0.5)),
                recency_half_life=float(data.get("recency_half_life", 8.0)),
                metadata=dict(data.get("metadata") or {}),
            )
        except (KeyError, TypeError, ValueError) as error:
            what = f"missing field {error}" if isinstance(error, KeyError) else str(error)
            raise InputError(source, f"invalid risk model: {what}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)
        return path

    @property
    def model_id(self) -> str:
        """A short fingerprint of the decision-relevant numbers (not the metadata)."""
        body = self.to_dict()
        body.pop("metadata")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        return digest[:12]


def load_model(path: str | Path) -> RiskModel:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "model file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(path, f"model file is not JSON ({error})") from None
    return RiskModel.from_dict(data, source=path)


@cache
def default_model() -> RiskModel:
    """The model shipped in the package, fitted on the shared development set."""
    resource = resources.files("cosea.chats.data").joinpath(DEFAULT_MODEL_RESOURCE)
    try:
        text = resource.read_text("utf-8")
    except FileNotFoundError:
        raise InputError(
            "cosea/chats/data/default_model.json",
            "the default risk model is missing; fit one with `cosea chats train`",
        ) from None
    return RiskModel.from_dict(json.loads(text), source="cosea/chats/data/default_model.json")


def resolve_model(model: RiskModel | str | Path | None) -> RiskModel:
    if model is None:
        return default_model()
    if isinstance(model, RiskModel):
        return model
    return load_model(model)


__all__ = [
    "MODEL_FORMAT",
    "Calibration",
    "LinearPart",
    "RiskModel",
    "default_model",
    "load_model",
    "resolve_model",
]
