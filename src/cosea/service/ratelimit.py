"""Token-bucket rate limits per API key (and per console user), kept in each worker process.

Each worker holds its own buckets; with N workers a key can reach at most N times
its rate in total, which ``cosea serve`` compensates for by dividing the
configured rate by the number of workers.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    def __init__(self, max_buckets: int = 100_000) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._max = max_buckets

    def take(self, key: str, rate: float, burst: int, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; returns 0 when allowed, else seconds until it would be."""
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self._max:
                    self._buckets.clear()
                bucket = self._buckets[key] = _Bucket(float(burst), now)
            else:
                bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
                bucket.updated = now
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / rate if rate > 0 else 60.0
