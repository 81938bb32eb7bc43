"""A throw-away PostgreSQL server on loopback, for tests that need the real thing.

Uses the Debian packages' ``initdb`` and ``pg_ctl`` (``/usr/lib/postgresql/*/bin``).
When the tests run as root the server runs as the ``postgres`` system user
(PostgreSQL refuses to run as root). The data folder lives in a temporary folder
and is removed by :meth:`PostgresServer.stop`.

Other capabilities may import it::

    from tests.service.postgres_server import PostgresServer, find_postgres_bin
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path


def find_postgres_bin() -> Path | None:
    """The newest installed ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl."""
    candidates = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        folder = Path(initdb).parent
        if (folder / "pg_ctl").exists():
            version = folder.parent.name
            candidates.append((float(version) if version.replace(".", "").isdigit() else 0, folder))
    if not candidates:
        return None
    return max(candidates)[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """Start with :meth:`start`, get URLs with :meth:`url`, stop with :meth:`stop`."""

    user = "cosea"

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="cosea-pg-"))
        self.data_dir = self.base / "data"
        self.socket_dir = self.base / "sock"
        self.log_file = self.base / "server.log"
        self.port = free_port()
        self._run_as: str | None = None

    def _command(self, *args: str) -> list[str]:
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *args]
        return list(args)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            self._run_as = "postgres"
            pwd.getpwnam("postgres")  # raises KeyError when the system user is missing
            os.chmod(self.base, 0o755)
        self.socket_dir.mkdir()
        if self._run_as:
            shutil.chown(self.base, user=self._run_as)
            shutil.chown(self.socket_dir, user=self._run_as)
        subprocess.run(
            self._command(
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        # Durability is not what these tests measure; fsync off keeps them fast.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        subprocess.run(
            self._command(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-o",
                options,
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
        )
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template}" if template else ""
        self._admin(f'CREATE DATABASE "{name}"{clause}')
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.data_dir.exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                subprocess.run(
                    self._command(
                        str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"
                    ),
                    check=True,
                    capture_output=True,
                    timeout=60,
                )
        for _ in range(20):
            try:
                shutil.rmtree(self.base)
                break
            except OSError:
                time.sleep(0.1)
