"""Fixtures for the scale-out tests: one real LocalCluster of worker processes for the
session, an in-process S3 server (moto) on loopback, and PostgreSQL on loopback through
the service tests' helper (skipped with a reason when PostgreSQL is not installed,
except under CI=true, where that fails)."""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "service"))  # postgres_server, shared with the service

from postgres_server import PostgresServer, find_postgres_bin  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true requires it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 on 127.0.0.1; the AWS variables are set before the cluster starts, so
    every worker process reaches it too."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {
        k: os.environ.get(k)
        for k in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
        )
    }
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
    )
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def dask_client(s3_endpoint: str) -> Iterator[Any]:
    """Two worker processes, one thread each (the machine has two cores)."""
    from distributed import Client, LocalCluster

    home = tempfile.mkdtemp(prefix="cosea-scale-workers-")
    saved = {k: os.environ.get(k) for k in ("COSEA_HOME", "PYTHONPATH")}
    os.environ["COSEA_HOME"] = home  # workers never use it; keep them off ~/.cosea anyway
    # Workers import the test plugin (scale_helpers) like the tests do.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), saved["PYTHONPATH"]]))
    try:
        with (
            LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            ) as cluster,
            Client(cluster) as client,
        ):
            from scale_helpers import warm_all

            warm_all(client)
            yield client
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def client(dask_client: Any) -> Any:
    """The session's client, with both workers back (a test may have killed one)."""
    dask_client.wait_for_workers(2, timeout=120)
    return dask_client


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = find_postgres_bin()
    need(
        bin_dir is not None,
        "PostgreSQL is not installed (/usr/lib/postgresql/*/bin); "
        "run scripts/install-system-deps.sh",
    )
    assert bin_dir is not None
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    name = postgres.create_database()
    url = postgres.url(name)
    try:
        yield url
    finally:
        from cosea.storage.database import _engine_for

        _engine_for(url).dispose()
        postgres.drop_database(name)


@pytest.fixture
def kill_once(client: Any, tmp_path: Path) -> Iterator[Any]:
    """Register a plugin that kills one worker once (see scale_helpers.KillWorkerOnce)."""
    from scale_helpers import KillWorkerOnce

    registered: list[str] = []

    def arm(key_part: str, when: str = "finished") -> Path:
        marker = tmp_path / f"killed-{len(registered)}"
        plugin = KillWorkerOnce(str(marker), key_part, when)
        client.register_plugin(plugin, name=f"{KillWorkerOnce.name}-{len(registered)}")
        registered.append(f"{KillWorkerOnce.name}-{len(registered)}")
        return marker

    yield arm
    for name in registered:
        client.unregister_worker_plugin(name)
    if registered:
        from scale_helpers import warm_all

        client.wait_for_workers(2, timeout=120)
        warm_all(client)  # the restarted worker starts cold
