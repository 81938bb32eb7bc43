"""Pseudonymised identifiers (keyed HMAC-SHA256) for everything that leaves the service.

The same account on the same platform always gets the same pseudonym, so webhook
receivers and analysts can follow one account across alerts, but nobody without
the installation's key can turn a pseudonym back into the account.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("pseudonym key must be at least 16 bytes")
        self._key = key

    def __call__(self, kind: str, platform: str | None, value: str | None) -> str | None:
        if value is None:
            return None
        message = f"{kind}\x1f{platform or ''}\x1f{value}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return "ps_" + base64.b32encode(digest[:15]).decode("ascii").lower()

    def participant(self, platform: str | None, value: str | None) -> str | None:
        return self("participant", platform, value)

    def conversation(self, platform: str | None, value: str | None) -> str | None:
        return self("conversation", platform, value)
