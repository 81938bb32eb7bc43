"""Checking and normalising hash strings for list entries.

The signal types themselves live in ``cosea.media.signals`` (``get_signal(name)``
with ``.validate(hash)``); lists ask them where they are installed, and fall back
to the fixed hex lengths of the built-in signals otherwise, so the store works on
its own as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HEX = re.compile(r"[0-9a-f]+")
_SIGNAL_ALIASES = {
    "sha-1": "sha1",
    "sha-256": "sha256",
    "sha_256": "sha256",
    "sha_1": "sha1",
    "x-pdq": "pdq",
    "x_pdq": "pdq",
}


class HashProblem(ValueError):
    """A hash string that is not valid for its signal; the message says why."""


def canonical_signal(name: str) -> str:
    key = name.strip().lower()
    return _SIGNAL_ALIASES.get(key, key)


def infer_signal(hash_text: str) -> str:
    """The signal a bare hex hash must be, from its length; raises where it is ambiguous."""
    text = hash_text.strip().lower()
    if not _HEX.fullmatch(text):
        raise HashProblem(f"not a hexadecimal hash: {_shorten(hash_text)!r}")
    length = len(text)
    if length == 64:
        raise HashProblem("64 hex digits could be sha256 or pdq: give the signal (--signal)")
    for signal, expected in HEX_LENGTHS.items():
        if expected == length:
            return signal
    raise HashProblem(
        f"{length} hex digits matches no signal (md5 32, sha1 40, sha256/pdq 64): "
        f"{_shorten(hash_text)!r}"
    )


def _hex_validator(signal: str) -> Callable[[str], str]:
    expected = HEX_LENGTHS[signal]
    is_hex = _HEX.fullmatch

    def validate(hash_text: str) -> str:
        text = hash_text.strip().lower()
        if len(text) == expected and is_hex(text):
            return text
        if len(text) != expected:
            raise HashProblem(
                f"{signal} hashes have {expected} hex digits, got {len(text)}: "
                f"{_shorten(hash_text)!r}"
            )
        if not _HEX.fullmatch(text):
            raise HashProblem(f"not a hexadecimal {signal} hash: {_shorten(hash_text)!r}")
        return text

    return validate


@cache
def validator(signal: str) -> Callable[[str], str]:
    """A function that returns the normalised hash or raises :class:`HashProblem`.

    The fixed-length hex signals (md5, sha1, sha256, pdq) are checked here, which is
    all their signal types check too; any other signal is asked to validate itself.
    """
    if signal in HEX_LENGTHS:
        return _hex_validator(signal)
    signal_type = _registered_signal(signal)
    if signal_type is None:
        raise HashProblem(f"unknown signal {signal!r}; known: {', '.join(known_signals())}")

    def validate(hash_text: str) -> str:
        text = hash_text.strip()
        try:
            verdict = signal_type.validate(text)
        except (ValueError, TypeError) as error:
            raise HashProblem(f"not a valid {signal} hash: {error}") from None
        if verdict is False:
            raise HashProblem(f"not a valid {signal} hash: {_shorten(hash_text)!r}")
        return verdict if isinstance(verdict, str) else text

    return validate


def _registered_signal(signal: str) -> object | None:
    try:
        from cosea.media.signals import get_signal  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return get_signal(signal)
    except Exception:
        return None


def known_signals() -> list[str]:
    names = set(HEX_LENGTHS)
    try:
        from cosea.media import signals

        names.update(getattr(signals, "signal_names", lambda: [])())
    except ImportError:
        pass
    return sorted(names)


def normalize(signal: str, hash_text: str) -> str:
    return validator(signal)(hash_text)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
