"""Fixtures for the service tests: every test runs against SQLite and against a real
PostgreSQL started on loopback (skipped with a reason when PostgreSQL is not
installed, except under CI=true, where that fails)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from postgres_server import PostgresServer, find_postgres_bin
from service_testkit import Service, close_service, make_service, need


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_postgres_bin()
    need(
        bin_dir is not None,
        "PostgreSQL is not installed (/usr/lib/postgresql/*/bin); "
        "run scripts/install-system-deps.sh",
    )
    assert bin_dir is not None
    server = PostgresServer(bin_dir).start()
    try:
        template = server.create_database("cosea_template")
        from cosea.storage import connect

        engine = connect(server.url(template))
        engine.dispose()
        server.template = template  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, cosea_home: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{cosea_home / 'service.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=server.template)  # type: ignore[attr-defined]
    url = server.url(name)
    try:
        yield url
    finally:
        from cosea.storage.database import _engine_for

        _engine_for(url).dispose()
        server.drop_database(name)


@pytest.fixture
def service(database_url: str, tmp_path: Path) -> Iterator[Service]:
    built = make_service(database_url, tmp_path)
    yield built
    close_service(built)


@pytest.fixture
def service_factory(database_url: str, tmp_path: Path) -> Any:
    """Build more apps on the same database (a restart, a second worker)."""
    made: list[Service] = []

    def build(**config: Any) -> Service:
        built = make_service(database_url, tmp_path, **config)
        made.append(built)
        return built

    yield build
    for built in made:
        close_service(built)
