from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from cosea import __version__
from cosea.cli import app
from cosea.storage import connect


def test_cli_lists_every_capability() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("matrix", "chats", "media", "lists", "triage", "report", "serve", "demo"):
        assert group in result.output


def test_version_command() -> None:
    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


def test_default_database_is_migrated_sqlite_in_wal_mode(cosea_home) -> None:
    engine = connect()
    assert str(engine.url).startswith("sqlite:///")
    assert str(cosea_home) in str(engine.url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        heads = connection.execute(sa.text("select version_num from alembic_version")).scalars()
        assert list(heads)
