"""Helpers for the hash-list tests.

Every hash here is computed from short benign byte strings ("benign-sample-N")
or is random hex: no list entry stands for any real picture.
"""

from __future__ import annotations

import hashlib

from cosea.media.lists import ListStore


def md5_of(index: int) -> str:
    return hashlib.md5(f"benign-sample-{index}".encode()).hexdigest()


def sha1_of(index: int) -> str:
    return hashlib.sha1(f"benign-sample-{index}".encode()).hexdigest()


def sha256_of(index: int) -> str:
    return hashlib.sha256(f"benign-sample-{index}".encode()).hexdigest()


def pdq_of(index: int) -> str:
    # Any 256-bit value is a well-formed PDQ hash; these stand for no picture.
    return hashlib.sha256(f"benign-pdq-{index}".encode()).hexdigest()


def snapshot(store: ListStore, name: str) -> list[tuple]:
    """Everything about a list's entries that an import could change."""
    return sorted(
        (e.signal, e.hash, e.category, e.source, e.enabled, e.series, e.notes, e.updated_seq)
        for e in store.iter_entries(name, enabled_only=False)
    )
