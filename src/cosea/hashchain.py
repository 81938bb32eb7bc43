"""Hash chains for append-only logs (the service audit log, a triage case's custody log).

Each entry carries the SHA-256 of the entry before it, computed over a canonical
JSON form (sorted keys, no whitespace), so changing, removing or reordering any
entry breaks every link after it, and verification can say exactly where.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(record: Mapping[str, Any]) -> bytes:
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def entry_hash(previous_hash: str, record: Mapping[str, Any]) -> str:
    """The hash of one entry: SHA-256 over the previous hash and the record's canonical JSON."""
    digest = hashlib.sha256()
    digest.update(previous_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical_json(record))
    return digest.hexdigest()


@dataclass(slots=True, frozen=True)
class ChainProblem:
    position: int  # 0-based index of the entry where the chain breaks
    entry_id: Any
    problem: str

    def __str__(self) -> str:
        return f"entry {self.entry_id} (position {self.position}): {self.problem}"


def verify_chain(entries: Iterable[tuple[Any, Mapping[str, Any], str, str]]) -> list[ChainProblem]:
    """Check ``(entry_id, record, previous_hash, hash)`` tuples in log order.

    Returns every problem found (an empty list means the chain is intact).
    """
    problems: list[ChainProblem] = []
    expected_previous = GENESIS
    for position, (entry_id, record, previous_hash, stored_hash) in enumerate(entries):
        if previous_hash != expected_previous:
            problems.append(
                ChainProblem(
                    position,
                    entry_id,
                    "link to the previous entry is broken (an entry was removed, "
                    "inserted or reordered before it)",
                )
            )
        recomputed = entry_hash(previous_hash, record)
        if recomputed != stored_hash:
            problems.append(
                ChainProblem(position, entry_id, "content does not match its hash (altered)")
            )
        expected_previous = stored_hash
    return problems
