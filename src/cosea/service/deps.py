"""Authentication, authorisation, CSRF and rate limits as FastAPI dependencies."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request

from cosea.service import accounts
from cosea.service.problems import Problem
from cosea.service.runtime import ServiceRuntime, user_principal
from cosea.service.security import Principal

SESSION_COOKIE = "cosea_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def runtime_dependency(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def runtime_of(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return request.headers.get("x-api-key")


def session_principal(request: Request) -> Principal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    cached = getattr(request.state, "session_principal", None)
    if cached is not None:
        return cached
    row = accounts.session_user(runtime_of(request).engine, token)
    if row is None:
        return None
    principal = user_principal(
        row.user_id,
        row.username,
        row.role,
        session_id=row.session_id,
        csrf_token=row.csrf_token,
        wellness=row.wellness,
    )
    request.state.session_principal = principal
    return principal


def csrf_ok(principal: Principal, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(principal.csrf_token or "", presented or "")


def authenticate(request: Request) -> Principal:
    """The caller, from an API key or a console session; 401 problem when neither."""
    runtime = runtime_of(request)
    key = _presented_key(request)
    if key is not None:
        principal = runtime.authenticate_key(key)
        if principal is None:
            raise Problem(
                401,
                "the API key is not valid or has been revoked",
                slug="unauthenticated",
                headers={"WWW-Authenticate": 'Bearer realm="cosea"'},
            )
    else:
        principal = session_principal(request)
        if principal is None:
            raise Problem(
                401,
                "authenticate with an API key (Authorization: Bearer ...) or log in to the console",
                slug="unauthenticated",
                headers={"WWW-Authenticate": 'Bearer realm="cosea"'},
            )
        # Cookies ride along with cross-site requests; a state change needs the CSRF token too.
        if request.method not in SAFE_METHODS and not csrf_ok(
            principal, request.headers.get(CSRF_HEADER)
        ):
            raise Problem(403, "missing or wrong CSRF token", slug="csrf")
    wait = runtime.rate_limit(principal)
    if wait > 0:
        raise Problem(
            429,
            "rate limit exceeded for this key; slow down",
            slug="rate-limited",
            headers={"Retry-After": str(max(1, round(wait + 0.5)))},
        )
    return principal


def require(*permissions: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that lets the request through only with every one of ``permissions``.

    It is ``async`` so FastAPI runs it on the event loop: a sync dependency costs a
    thread hop per request. Its work is a cache look-up; it reads the database only
    when a key's cache entry expires or for a console session (one indexed row).
    """

    async def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        missing = [p for p in permissions if not principal.can(p)]
        if missing:
            raise Problem(
                403,
                f"{principal.actor} ({principal.role}) may not do this: needs {', '.join(missing)}",
                slug="forbidden",
                required=list(permissions),
            )
        return principal

    dependency.__name__ = "require_" + "_".join(p.replace(":", "_") for p in permissions)
    return dependency
