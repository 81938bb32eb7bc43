"""The default text pipeline: normalisation, then the registered recognizers.

Recognizers are stateless (per-conversation state lives in the recognizer
context's scratch), so one default registry is built once and shared by every
analyser of a process: building it compiles many patterns.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from cosea.chats.recognizers._memo import DEFAULT_LIMIT, TextMemo
from cosea.chats.recognizers.base import NormalizedText, RecognizerRegistry

Normalizer = Callable[[str], NormalizedText]


def plain_normalize(text: str) -> NormalizedText:
    """Lower-casing only; used when the full normaliser is not installed."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters change length when lowered
        lowered = text
    return NormalizedText(original=text, text=lowered, offsets=[*range(len(text)), len(text)])


def memo_normalizer(limit: int = DEFAULT_LIMIT) -> Normalizer:
    """``NormalizedText(text)``, the same object again for a text seen recently.

    A ``NormalizedText`` depends on the text alone and computes its later stages
    once, on first use, so a repeated message ("ok", "lol", a pasted script)
    reuses the words, the folded and the normalised text of its first sighting
    (see :class:`~cosea.chats.recognizers._memo.TextMemo`)."""
    memo: TextMemo[NormalizedText] = TextMemo(limit)
    get, put = memo.get, memo.put

    def normalize(text: str) -> NormalizedText:
        # the young generation first, inline: one call less on most messages
        found = memo.young.get(text)
        if found is None:
            found = get(text)
            if found is None:
                found = NormalizedText(text)
                put(text, found)
        return found

    return normalize


@cache
def default_normalizer() -> Normalizer:
    try:
        from cosea.chats.normalize import normalize  # noqa: F401
    except ImportError:
        return plain_normalize
    # ``normalize(text)`` is ``NormalizedText(text)`` (lazy), remembered per text.
    return memo_normalizer()


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
