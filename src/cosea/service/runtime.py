"""What one worker process of the service holds: the database, the analyser engine,
caches, rate-limit buckets, the pseudonymiser and the webhook dispatcher.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows; SQLite's own locking still applies
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cosea.service import audit
from cosea.service.analysis import AnalyzerEngine
from cosea.service.config import ServiceConfig
from cosea.service.conversations import AnalyzerCache, ConversationTurns, WriteBatcher
from cosea.service.models import ApiKey, ServiceSetting
from cosea.service.pseudonyms import Pseudonymizer
from cosea.service.ratelimit import TokenBuckets
from cosea.service.security import ROLE_PERMISSIONS, Principal, key_matches, split_api_key
from cosea.service.timeutil import utcnow
from cosea.storage import connect, session_factory

_settings = ServiceSetting.__table__
_keys = ApiKey.__table__


def get_setting(engine: Engine, key: str, default: Any = None) -> Any:
    with engine.connect() as connection:
        row = connection.execute(select(_settings.c.value).where(_settings.c.key == key)).first()
    return default if row is None else row[0]


def set_setting(engine: Engine, key: str, value: Any) -> None:
    with engine.begin() as connection:
        changed = connection.execute(
            update(_settings).where(_settings.c.key == key).values(value=value)
        ).rowcount
        if not changed:
            connection.execute(insert(_settings).values(key=key, value=value))


def setting_once(engine: Engine, key: str, make: Any) -> Any:
    """A setting created on first use (e.g. a secret); concurrent starts agree on one value."""
    value = get_setting(engine, key)
    if value is not None:
        return value
    try:
        with engine.begin() as connection:
            connection.execute(insert(_settings).values(key=key, value=make()))
    except IntegrityError:
        pass
    return get_setting(engine, key)


@dataclass(slots=True)
class _CachedKey:
    key_id: int
    key_hash: str
    name: str
    platform: str
    scopes: frozenset[str]
    revoked: bool
    rate_per_second: float | None
    burst: int | None
    fetched: float


class WriteGate:
    """Serialises the hot path's write transactions across worker processes on SQLite.

    SQLite lets one writer in at a time; a writer that finds the database locked
    sleeps in steps of milliseconds before trying again, which wastes most of the
    lock's capacity when transactions last a fraction of a millisecond. Waiting on
    an advisory file lock instead hands the database over the moment it is free.
    PostgreSQL has row locks and needs none of this.
    """

    def __init__(self, engine: Engine) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if database and database != ":memory:" and fcntl is not None:
            self._fd = os.open(f"{database}.write-lock", os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if self._fd is None:
            yield
            return
        with self._thread_lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


class ReadConnections:
    """A few connections kept open for the hot path's reads.

    A pool check-out pings the database and a read in a transaction costs a BEGIN
    and a ROLLBACK; on PostgreSQL those are three round trips per request. These
    connections stay checked out, and on PostgreSQL run in autocommit, so a read is
    just its statements. A connection that raised a database error is discarded.
    """

    def __init__(self, engine: Engine, keep: int = 8) -> None:
        self.engine = engine
        self.keep = keep
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    def _open(self) -> Connection:
        connection = self.engine.connect()
        if connection.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            driver.rollback()
            driver.autocommit = True
        return connection

    def _discard(self, connection: Connection) -> None:
        with contextlib.suppress(Exception):
            if connection.dialect.name == "postgresql":
                connection.connection.driver_connection.autocommit = False
            connection.close()

    @contextmanager
    def __call__(self) -> Iterator[Connection]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None or connection.closed or connection.invalidated:
            connection = self._open()
        try:
            yield connection
        except DBAPIError:
            with contextlib.suppress(Exception):
                connection.invalidate()
            self._discard(connection)
            raise
        except BaseException:
            self._put_back(connection)
            raise
        else:
            self._put_back(connection)

    def _put_back(self, connection: Connection) -> None:
        with self._lock:
            if len(self._idle) < self.keep:
                self._idle.append(connection)
                return
        self._discard(connection)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection)


class ServiceRuntime:
    def __init__(self, config: ServiceConfig, *, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine or connect(config.resolved_database_url())
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        audit.ensure_head(self.engine)
        key = setting_once(self.engine, "pseudonym_key", lambda: secrets.token_hex(32))
        self.pseudonymize = Pseudonymizer(bytes.fromhex(key))
        self.analyzers = AnalyzerEngine()
        self.analyzer_cache = AnalyzerCache()
        self.buckets = TokenBuckets()
        self._keys: dict[str, _CachedKey] = {}
        self._keys_lock = threading.Lock()
        self._last_used_written: dict[int, float] = {}
        self.matchers: Any = None  # set by cosea.service.media on first use
        self.dispatcher: Any = None
        self.write_gate = WriteGate(self.engine)
        self.writer = WriteBatcher(self)
        self.readers = ReadConnections(self.engine)
        self.conversation_turns = ConversationTurns()

    # -- settings an admin may change at run time ----------------------------------
    def retention_days(self) -> float:
        return float(get_setting(self.engine, "retention_days", self.config.retention_days))

    def media_storage_allowed(self) -> bool:
        return bool(
            get_setting(self.engine, "allow_media_storage", self.config.allow_media_storage)
        )

    # -- API keys ------------------------------------------------------------------
    def forget_key(self, prefix: str | None = None) -> None:
        with self._keys_lock:
            if prefix is None:
                self._keys.clear()
            else:
                self._keys.pop(prefix, None)

    def _load_key(self, prefix: str) -> _CachedKey | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(_keys).where(_keys.c.prefix == prefix)).first()
        if row is None:
            return None
        return _CachedKey(
            key_id=row.id,
            key_hash=row.key_hash,
            name=row.name,
            platform=row.platform,
            scopes=frozenset(row.scopes or ()),
            revoked=row.revoked_at is not None,
            rate_per_second=row.rate_per_second,
            burst=row.burst,
            fetched=time.monotonic(),
        )

    def authenticate_key(self, presented: str) -> Principal | None:
        prefix = split_api_key(presented)
        if prefix is None:
            return None
        now = time.monotonic()
        with self._keys_lock:
            cached = self._keys.get(prefix)
        if cached is None or now - cached.fetched > self.config.key_cache_seconds:
            cached = self._load_key(prefix)
            if cached is None:
                return None
            with self._keys_lock:
                self._keys[prefix] = cached
        if cached.revoked or not key_matches(cached.key_hash, presented):
            return None
        self._touch_key(cached.key_id, now)
        return Principal(
            kind="apikey",
            id=cached.key_id,
            name=cached.name,
            role="platform",
            permissions=cached.scopes,
            platform=cached.platform,
            rate_per_second=cached.rate_per_second,
            burst=cached.burst,
        )

    def _touch_key(self, key_id: int, now: float) -> None:
        # last_used_at is for people auditing keys; minute precision keeps writes rare.
        if now - self._last_used_written.get(key_id, -1e9) < 60:
            return
        self._last_used_written[key_id] = now
        with self.engine.begin() as connection:
            connection.execute(
                update(_keys).where(_keys.c.id == key_id).values(last_used_at=utcnow())
            )

    def rate_limit(self, principal: Principal) -> float:
        workers = max(1, self.config.workers)
        rate = (principal.rate_per_second or self.config.rate_per_second) / workers
        burst = max(1, int((principal.burst or self.config.burst) / workers))
        return self.buckets.take(f"{principal.kind}:{principal.id}", rate, burst)


def user_principal(
    user_id: int,
    username: str,
    role: str,
    *,
    session_id: int | None = None,
    csrf_token: str | None = None,
    wellness: str = "reveal_greyscale",
) -> Principal:
    return Principal(
        kind="user",
        id=user_id,
        name=username,
        role=role,
        permissions=ROLE_PERMISSIONS.get(role, frozenset()),
        session_id=session_id,
        csrf_token=csrf_token,
        wellness=wellness,
    )
