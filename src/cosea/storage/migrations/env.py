"""Alembic environment: always run with a connection handed in by cosea.storage.migrate."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - cosea never runs alembic without a connection
    raise RuntimeError("cosea migrations run through cosea.storage.migrate(engine)")

context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
