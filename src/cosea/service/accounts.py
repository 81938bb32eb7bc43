"""Console users, their sessions, and platforms' API keys."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from cosea.errors import CoseaError, NotFound
from cosea.service import audit
from cosea.service.models import ROLES, WELLNESS_MODES, ApiKey, ConsoleSession, ServiceUser
from cosea.service.security import (
    SCOPES,
    generate_api_key,
    hash_password,
    new_token,
    password_needs_rehash,
    sha256_hex,
    verify_password,
)
from cosea.service.timeutil import iso, utcnow

_users = ServiceUser.__table__
_keys = ApiKey.__table__
_sessions = ConsoleSession.__table__
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 12
# Spend the same argon2 time on unknown users as on known ones (no user enumeration by timing).
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def create_user(
    engine: Engine, username: str, password: str, role: str, *, actor: str = "system:cli"
) -> int:
    if role not in ROLES:
        raise CoseaError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if not USERNAME.match(username):
        raise CoseaError("username: 2-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise CoseaError(f"password: at least {MIN_PASSWORD} characters")
    try:
        with engine.begin() as connection:
            user_id = connection.execute(
                insert(_users)
                .values(
                    username=username,
                    password_hash=hash_password(password),
                    role=role,
                    wellness="reveal_greyscale",
                    disabled=False,
                    created_at=utcnow(),
                )
                .returning(_users.c.id)
            ).scalar_one()
            audit.append(
                connection,
                actor=actor,
                actor_role="admin",
                action="user.create",
                target_type="user",
                target_id=username,
                details={"role": role},
            )
    except IntegrityError:
        raise CoseaError(f"a user named {username!r} already exists") from None
    return user_id


def set_password(engine: Engine, username: str, password: str, *, actor: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise CoseaError(f"password: at least {MIN_PASSWORD} characters")
    with engine.begin() as connection:
        changed = connection.execute(
            update(_users)
            .where(_users.c.username == username)
            .values(password_hash=hash_password(password))
        ).rowcount
        if not changed:
            raise NotFound(f"no user named {username!r}")
        user_id = connection.execute(
            select(_users.c.id).where(_users.c.username == username)
        ).scalar_one()
        connection.execute(delete(_sessions).where(_sessions.c.user_id == user_id))
        audit.append(
            connection,
            actor=actor,
            actor_role="admin",
            action="user.password",
            target_type="user",
            target_id=username,
        )


def set_disabled(engine: Engine, username: str, disabled: bool, *, actor: str) -> None:
    with engine.begin() as connection:
        row = connection.execute(select(_users.c.id).where(_users.c.username == username)).first()
        if row is None:
            raise NotFound(f"no user named {username!r}")
        connection.execute(update(_users).where(_users.c.id == row.id).values(disabled=disabled))
        if disabled:
            connection.execute(delete(_sessions).where(_sessions.c.user_id == row.id))
        audit.append(
            connection,
            actor=actor,
            actor_role="admin",
            action="user.disable" if disabled else "user.enable",
            target_type="user",
            target_id=username,
        )


def set_wellness(engine: Engine, user_id: int, mode: str, *, actor: str, role: str) -> None:
    if mode not in WELLNESS_MODES:
        raise CoseaError(f"wellness must be one of {', '.join(WELLNESS_MODES)}")
    with engine.begin() as connection:
        connection.execute(update(_users).where(_users.c.id == user_id).values(wellness=mode))
        audit.append(
            connection,
            actor=actor,
            actor_role=role,
            action="user.wellness",
            target_type="user",
            target_id=actor.split(":", 1)[-1],
            details={"wellness": mode},
        )


def list_users(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            {
                "id": row.id,
                "username": row.username,
                "role": row.role,
                "disabled": row.disabled,
                "wellness": row.wellness,
                "created_at": iso(row.created_at),
                "last_login_at": iso(row.last_login_at),
            }
            for row in connection.execute(select(_users).order_by(_users.c.username))
        ]


@dataclass(slots=True)
class LoginResult:
    user_id: int
    username: str
    role: str
    session_token: str
    csrf_token: str
    wellness: str


def login(
    engine: Engine, username: str, password: str, *, session_hours: float
) -> LoginResult | None:
    """Check a password and open a session; None (after the same work) when it fails."""
    with engine.connect() as connection:
        row = connection.execute(select(_users).where(_users.c.username == username)).first()
    if row is None or row.disabled:
        verify_password(_DUMMY_HASH, password)
        _audit_login(engine, username, ok=False)
        return None
    if not verify_password(row.password_hash, password):
        _audit_login(engine, username, ok=False)
        return None
    token = new_token()
    csrf = secrets.token_hex(32)
    now = utcnow()
    with engine.begin() as connection:
        if password_needs_rehash(row.password_hash):
            connection.execute(
                update(_users)
                .where(_users.c.id == row.id)
                .values(password_hash=hash_password(password))
            )
        connection.execute(update(_users).where(_users.c.id == row.id).values(last_login_at=now))
        connection.execute(
            insert(_sessions).values(
                token_hash=sha256_hex(token),
                user_id=row.id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(hours=session_hours),
                last_seen_at=now,
            )
        )
        audit.append(
            connection,
            actor=f"user:{username}",
            actor_role=row.role,
            action="session.login",
            target_type="user",
            target_id=username,
        )
    return LoginResult(row.id, row.username, row.role, token, csrf, row.wellness)


def _audit_login(engine: Engine, username: str, *, ok: bool) -> None:
    with engine.begin() as connection:
        audit.append(
            connection,
            actor=f"user:{username[:64]}",
            actor_role="unknown",
            action="session.login_failed",
            target_type="user",
            target_id=username[:64],
        )


def session_user(engine: Engine, token: str) -> Any | None:
    """The session and its user for a cookie token, or None when unknown or expired."""
    now = utcnow()
    with engine.connect() as connection:
        row = connection.execute(
            select(
                _sessions.c.id.label("session_id"),
                _sessions.c.csrf_token,
                _sessions.c.expires_at,
                _users.c.id.label("user_id"),
                _users.c.username,
                _users.c.role,
                _users.c.wellness,
                _users.c.disabled,
            )
            .join(_users, _users.c.id == _sessions.c.user_id)
            .where(_sessions.c.token_hash == sha256_hex(token))
        ).first()
    if row is None or row.disabled or row.expires_at < now:
        return None
    return row


def logout(engine: Engine, session_id: int, *, actor: str, role: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(_sessions).where(_sessions.c.id == session_id))
        audit.append(
            connection, actor=actor, actor_role=role, action="session.logout", target_type="user"
        )


# ---- API keys ----------------------------------------------------------------------


def create_api_key(
    engine: Engine,
    *,
    name: str,
    platform: str,
    scopes: list[str],
    rate_per_second: float | None = None,
    burst: int | None = None,
    actor: str = "system:cli",
) -> tuple[int, str]:
    """Create a key; returns its id and the key itself (shown once, stored only hashed)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise CoseaError(
            f"unknown scopes {unknown}; choose among {', '.join(SCOPES)}"
            if unknown
            else "a key needs at least one scope"
        )
    if not platform.strip() or not name.strip():
        raise CoseaError("a key needs a name and a platform")
    key = generate_api_key()
    with engine.begin() as connection:
        key_id = connection.execute(
            insert(_keys)
            .values(
                name=name,
                platform=platform,
                prefix=key.prefix,
                key_hash=key.key_hash,
                scopes=sorted(set(scopes)),
                rate_per_second=rate_per_second,
                burst=burst,
                created_at=utcnow(),
                created_by=actor,
            )
            .returning(_keys.c.id)
        ).scalar_one()
        audit.append(
            connection,
            actor=actor,
            actor_role="admin",
            action="apikey.create",
            target_type="apikey",
            target_id=key_id,
            details={"name": name, "platform": platform, "scopes": sorted(set(scopes))},
        )
    return key_id, key.secret


def revoke_api_key(engine: Engine, key_id: int, *, actor: str = "system:cli") -> str:
    with engine.begin() as connection:
        row = connection.execute(select(_keys).where(_keys.c.id == key_id)).first()
        if row is None:
            raise NotFound(f"no API key with id {key_id}")
        connection.execute(update(_keys).where(_keys.c.id == key_id).values(revoked_at=utcnow()))
        audit.append(
            connection,
            actor=actor,
            actor_role="admin",
            action="apikey.revoke",
            target_type="apikey",
            target_id=key_id,
            details={"name": row.name},
        )
    return row.prefix


def list_api_keys(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            {
                "id": row.id,
                "name": row.name,
                "platform": row.platform,
                "prefix": row.prefix,
                "scopes": list(row.scopes),
                "rate_per_second": row.rate_per_second,
                "created_at": iso(row.created_at),
                "created_by": row.created_by,
                "revoked_at": iso(row.revoked_at),
                "last_used_at": iso(row.last_used_at),
            }
            for row in connection.execute(select(_keys).order_by(_keys.c.id))
        ]
