"""The project database: one SQLAlchemy metadata, migrated with Alembic.

Each capability declares its tables on :class:`Base` in its own module and adds
its migrations as its own Alembic branch (``branch_labels``) on top of the
``root0000`` revision, so capabilities evolve their schemas independently;
:func:`migrate` upgrades every branch head.

SQLite (the default) runs in WAL mode with foreign keys on; PostgreSQL is used
when ``COSEA_DATABASE_URL`` names it.
"""

from __future__ import annotations

from cosea.storage.database import Base, connect, migrate, session_factory

__all__ = ["Base", "connect", "migrate", "session_factory"]
