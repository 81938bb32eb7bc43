"""Who may do what: roles, API-key scopes, password and key hashing, tokens.

Console users authenticate with a password (argon2id via ``argon2-cffi``) and get
a session cookie; platforms authenticate with API keys. A key has 256 bits of
randomness, so a single SHA-256 is enough to store it safely and keeps the check
cheap on every request (a slow password hash would cap the API's throughput);
passwords, which people choose, get argon2.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Permissions. API keys carry a subset of SCOPES; console roles map to ROLE_PERMISSIONS.
SCOPES = {
    "messages:write": "send messages to POST /v1/conversations/{id}/messages",
    "conversations:analyze": "analyse whole conversations (POST /v1/conversations:analyze)",
    "media:match": "match media files or hashes (POST /v1/media:match)",
    "lists:read": "list hash lists and their entries",
    "lists:write": "create lists, import entries, disable entries",
    "alerts:read": "read alerts of the key's platform (assessment and evidence)",
    "messages:read": "read stored message text of the key's platform",
    "alerts:decide": "record decisions on alerts of the key's platform",
    "webhooks:manage": "register webhooks and read their delivery log",
}
PLATFORM_DEFAULT_SCOPES = (
    "messages:write",
    "conversations:analyze",
    "media:match",
    "alerts:read",
    "webhooks:manage",
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # Reviewers work the queue: they read content and decide.
    "reviewer": frozenset(
        {
            "alerts:read",
            "messages:read",
            "media:read",
            "alerts:decide",
            "alerts:hold",
            "lists:read",
            "matrix:read",
            "stats:read",
        }
    ),
    # Analysts study patterns: alerts, techniques and statistics, never content,
    # with pseudonymised identifiers.
    "analyst": frozenset({"alerts:read", "lists:read", "matrix:read", "stats:read"}),
    # Auditors check who did what: the audit log, nothing else.
    "auditor": frozenset({"audit:read", "matrix:read"}),
    # Admins run the installation: people, keys, lists, webhooks, retention; no content.
    "admin": frozenset(
        {
            "users:manage",
            "keys:manage",
            "lists:read",
            "lists:write",
            "webhooks:manage",
            "retention:purge",
            "matrix:read",
            "stats:read",
        }
    ),
}

_password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _password_hasher.check_needs_rehash(password_hash)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


KEY_PREFIX = "csk"


@dataclass(slots=True, frozen=True)
class NewApiKey:
    prefix: str
    secret: str  # the whole key, shown once

    @property
    def key_hash(self) -> str:
        return sha256_hex(self.secret)


def generate_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(prefix=prefix, secret=secret)


def split_api_key(key: str) -> str | None:
    """The lookup prefix of a presented key, or None when it is not shaped like one."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def key_matches(stored_hash: str, presented: str) -> bool:
    return hmac.compare_digest(stored_hash, sha256_hex(presented))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def generate_password() -> str:
    """A readable random password (about 100 bits) for generated logins."""
    words = [secrets.token_urlsafe(6) for _ in range(3)]
    return "-".join(words)


@dataclass(slots=True)
class Principal:
    """Whoever makes a request: a console user or a platform's API key."""

    kind: str  # user | apikey
    id: int
    name: str  # username or key name
    role: str  # console role, or "platform" for keys
    permissions: frozenset[str]
    platform: str | None = None  # keys are confined to their platform
    csrf_token: str | None = None  # console sessions only
    session_id: int | None = None
    wellness: str = "reveal_greyscale"
    rate_per_second: float | None = None
    burst: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"{'user' if self.kind == 'user' else 'apikey'}:{self.name}"

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def sees_pseudonyms_only(self) -> bool:
        """Analysts read alerts with pseudonymised participant identifiers."""
        return self.kind == "user" and self.role == "analyst"
