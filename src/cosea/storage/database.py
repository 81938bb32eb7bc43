from __future__ import annotations

import threading
from functools import cache
from importlib import resources

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from cosea import settings


class Base(DeclarativeBase):
    """Declarative base shared by every capability's tables."""


_migrate_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@cache
def _engine_for(url: str) -> Engine:
    kwargs: dict = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def connect(url: str | None = None, *, upgrade: bool = True) -> Engine:
    """An engine for ``url`` (default: the configured database), migrated to the latest schema."""
    engine = _engine_for(url or settings.database_url())
    if upgrade:
        migrate(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_migrated: set[str] = set()


def migrate(engine: Engine) -> None:
    """Bring every capability's branch of the schema to its head (idempotent)."""
    from alembic import command
    from alembic.config import Config

    key = engine.url.render_as_string(hide_password=False)
    with _migrate_lock:
        if key in _migrated:
            return
        script_location = str(resources.files("cosea.storage") / "migrations")
        config = Config()
        config.set_main_option("script_location", script_location)
        config.set_main_option("path_separator", "os")
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
        _migrated.add(key)
