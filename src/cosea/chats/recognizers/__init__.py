"""Recognising techniques: a registry of recognizers that turn messages into evidence.

Recognizers are registered by name in a catalog (in the manner of Presidio's
recognizer registry) and a :class:`RecognizerRegistry` holds the set one
pipeline runs. Each declares the technique IDs it emits; each hit carries the
message id, technique ID, span in the ORIGINAL text, confidence and recognizer
name.

- ``patterns``: technique phrases as YAML data per language (en, es, de, fr, pt),
  speaker-aware, with hard-negative exclusions and a trie prefilter;
- context recognizers: ``declared_age``, ``self_disclosed_age``, ``age_gap``,
  ``age_inconsistency``, ``new_account``, ``persona_photo`` (and ``night_time``,
  not in the default set);
- ``semantic`` (optional, extra ``cosea[ml]``): sentence-embedding similarity to
  exemplar phrases per technique;
- batch level (:mod:`cosea.chats.recognizers.batch`): contact fan-out (T0105)
  and multiple or recycled accounts (T0203) across conversations.

Typical use::

    registry = default_registry()
    context = RecognizerContext(conversation_id, platform, language, participants, index)
    recognition = recognize_message(registry, message, context)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from cosea.chats.recognizers.base import (
    SPEAKER_SIDES,
    NormalizedText,
    PatternHit,
    Recognition,
    Recognizer,
    RecognizerContext,
    RecognizerRegistry,
    catalog,
    register,
)
from cosea.chats.recognizers.context import (
    AgeGapRecognizer,
    AgeInconsistencyRecognizer,
    DeclaredAgeRecognizer,
    NewAccountRecognizer,
    NightTimeRecognizer,
    PersonaPhotoRecognizer,
    SelfDisclosedAgeRecognizer,
)
from cosea.chats.recognizers.lexical import DEFAULT_LANGUAGES, PatternRecognizer, PatternSet
from cosea.errors import CoseaError
from cosea.types import Message

__all__ = [
    "DEFAULT_LANGUAGES",
    "DEFAULT_RECOGNIZERS",
    "SPEAKER_SIDES",
    "NormalizedText",
    "PatternHit",
    "PatternRecognizer",
    "Recognition",
    "Recognizer",
    "RecognizerContext",
    "RecognizerRegistry",
    "available_recognizers",
    "create_recognizer",
    "default_registry",
    "recognize_message",
    "register",
]

# Order matters: the age recognizers share state and the last one resets it.
DEFAULT_RECOGNIZERS = (
    "patterns",
    "declared_age",
    "self_disclosed_age",
    "age_gap",
    "age_inconsistency",
    "new_account",
    "persona_photo",
)


@lru_cache(maxsize=16)
def _shared_pattern_recognizer(
    name: str, languages: tuple[str, ...] | None, extra_files: tuple[str, ...]
) -> PatternRecognizer:
    # Compiling the pattern files takes a moment; recognizers keep no per-message
    # state of their own (that lives in the context), so one instance is shared.
    return PatternRecognizer(languages, extra_files=[Path(p) for p in extra_files], name=name)


def _patterns_factory(language: str | None = None):
    def factory(**options: Any) -> Recognizer:
        languages = options.pop("languages", None) or ([language] if language else None)
        extra = tuple(str(p) for p in options.pop("extra_files", ()))
        if options:
            raise TypeError(f"unknown options for the patterns recognizer: {sorted(options)}")
        name = "patterns" if language is None else f"patterns.{language}"
        return _shared_pattern_recognizer(name, tuple(languages) if languages else None, extra)

    return factory


def _semantic_factory(**options: Any) -> Recognizer:
    from cosea.chats.recognizers.semantic import SemanticRecognizer

    return SemanticRecognizer(**options)


register(_patterns_factory(), "patterns")
for _language in DEFAULT_LANGUAGES:
    register(_patterns_factory(_language), f"patterns.{_language}")
for _recognizer in (
    DeclaredAgeRecognizer,
    SelfDisclosedAgeRecognizer,
    AgeGapRecognizer,
    AgeInconsistencyRecognizer,
    NewAccountRecognizer,
    NightTimeRecognizer,
    PersonaPhotoRecognizer,
):
    register(_recognizer)
register(_semantic_factory, "semantic")


def available_recognizers() -> list[str]:
    """Names of every registered recognizer (built in or added with :func:`register`)."""
    return sorted(catalog())


def create_recognizer(name: str, **options: Any) -> Recognizer:
    """A recognizer from the catalog by name; unknown names get a clear error."""
    factories = catalog()
    if name not in factories:
        raise CoseaError(f"unknown recognizer {name!r}; available: {', '.join(sorted(factories))}")
    return factories[name](**options)


def default_registry(
    *,
    languages: Iterable[str] | None = None,
    semantic: bool = False,
    extra_pattern_files: Iterable[Path | str] = (),
    recognizers: Iterable[str] | None = None,
) -> RecognizerRegistry:
    """The recognizers a default pipeline runs.

    ``languages`` limits the pattern languages (default: all); ``semantic`` adds
    the embedding recognizer (needs ``cosea[ml]``); ``extra_pattern_files`` adds
    an organisation's own pattern YAML; ``recognizers`` replaces the default list
    of names.
    """
    names = list(recognizers) if recognizers is not None else list(DEFAULT_RECOGNIZERS)
    if semantic and "semantic" not in names:
        names.append("semantic")
    registry = RecognizerRegistry()
    for name in names:
        if name == "patterns":
            registry.add(
                create_recognizer(
                    "patterns",
                    languages=list(languages) if languages else None,
                    extra_files=list(extra_pattern_files),
                )
            )
        else:
            registry.add(create_recognizer(name))
    return registry


def recognize_message(
    registry: RecognizerRegistry,
    message: Message,
    context: RecognizerContext,
    text: NormalizedText | None = None,
) -> Recognition:
    """Run every recognizer of ``registry`` on one message (normalised lazily)."""
    return registry.recognize(message, text or NormalizedText.deferred(message.text), context)


def pattern_set(registry: RecognizerRegistry) -> PatternSet | None:
    """The compiled patterns of a registry's pattern recognizer, if it has one."""
    for recognizer in registry:
        if isinstance(recognizer, PatternRecognizer):
            return recognizer.patterns
    return None
