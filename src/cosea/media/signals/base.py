"""The signal-type interface and its registry.

A signal type is one way of fingerprinting content (an exact digest such as
SHA-256, or a perceptual hash such as PDQ). Each is registered by name, as in
python-threatexchange's ``SignalType``, so lists, the matcher and the CLI can
refer to ``"pdq"`` or ``"sha256"`` without knowing the code behind them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

CONTENT_KINDS = ("any", "image", "video")


class SignalType(ABC):
    """One kind of hash: how to compute it, check it and compare two of them."""

    name: ClassVar[str]
    applies_to: ClassVar[str]  # one of CONTENT_KINDS
    default_threshold: ClassVar[int] = 0  # largest distance that still counts as a match
    exact: ClassVar[bool] = True  # exact digests match by set lookup, others by distance

    @abstractmethod
    def hash_file(self, path: str | Path) -> str:
        """The hash of a file's content, as the string lists store."""

    @abstractmethod
    def hash_bytes(self, data: bytes) -> str:
        """The hash of in-memory content (an archive member, an upload)."""

    @abstractmethod
    def validate(self, hash_str: str) -> str:
        """The normalised form of ``hash_str``; ``ValueError`` saying why when malformed."""

    def distance(self, a: str, b: str) -> int:
        """0 when equal; exact signals have no notion of "near", so 1 otherwise."""
        return 0 if self.validate(a) == self.validate(b) else 1

    def matches(self, a: str, b: str, threshold: int | None = None) -> bool:
        limit = self.default_threshold if threshold is None else threshold
        return self.distance(a, b) <= limit

    def __repr__(self) -> str:
        return f"<signal {self.name} ({self.applies_to})>"


_REGISTRY: dict[str, SignalType] = {}


def register_signal(signal: SignalType, *, replace: bool = False) -> SignalType:
    """Make ``signal`` available by its name; refuses to silently replace another."""
    if signal.applies_to not in CONTENT_KINDS:
        raise ValueError(f"signal {signal.name!r}: applies_to must be one of {CONTENT_KINDS}")
    if signal.name in _REGISTRY and not replace:
        raise ValueError(f"signal type {signal.name!r} is already registered")
    _REGISTRY[signal.name] = signal
    return signal


def get_signal(name: str) -> SignalType:
    try:
        return _REGISTRY[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown signal type {name!r} (known: {known})") from None


def signal_names() -> list[str]:
    return sorted(_REGISTRY)
