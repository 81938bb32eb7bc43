"""The default text pipeline: normalisation, then the registered recognizers.

Recognizers are stateless (per-conversation state lives in the recognizer
context's scratch), so one default registry is built once and shared by every
analyser of a process: building it compiles many patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from cosea.chats.recognizers.base import NormalizedText, RecognizerRegistry

Normalizer = Callable[[str], NormalizedText]


def plain_normalize(text: str) -> NormalizedText:
    """Lower-casing only; used when the full normaliser is not installed."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lowered
        lowered = text
    return NormalizedText(original=text, text=lowered, offsets=[*range(len(text)), len(text)])


@cache
def default_normalizer() -> Normalizer:
    try:
        from cosea.chats.normalize import normalize  # noqa: F401
    except ImportError:
        return plain_normalize
    # ``normalize(text)`` is ``NormalizedText(text)`` (lazy): call the class directly,
    # one Python call less on every message.
    return NormalizedText


@cache
def shared_default_registry(**options: Any) -> RecognizerRegistry:
    from cosea.chats.recognizers import default_registry

    return default_registry(**options)


def resolve(
    registry: RecognizerRegistry | None, normalizer: Normalizer | None
) -> tuple[RecognizerRegistry, Normalizer]:
    return (
        registry if registry is not None else shared_default_registry(),
        normalizer if normalizer is not None else default_normalizer(),
    )
