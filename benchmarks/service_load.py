"""Load benchmark for the service: ``cosea serve --workers 2`` on loopback, driven by an
async HTTP/1.1 load generator, one run.

Prints requests/s and p50/p99 latency for single-message POSTs to
``/v1/conversations/{id}/messages`` beside a trivial endpoint of the same app
(``/healthz``) as the baseline, on SQLite, and on PostgreSQL when it is installed.
Goals (issue 6): >= 1,000 requests/s and p99 <= 50 ms for single-message requests.

    .venv/bin/python benchmarks/service_load.py [--requests 20000] [--connections 32]

Bounded: a fixed number of requests per scenario, loopback only, and the server it
starts is stopped at the end. The load generator shares the machine's cores with
the server, so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "service"))

CHATTER = [
    "gg that was close",
    "lol ty",
    "did you finish the maths homework",
    "brb dinner",
    "that boss fight was insane",
    "see you at practice tomorrow",
    "who is bringing snacks for the party",
    "my brother is so annoying today",
]
# Short, non-graphic warning-sign phrases (the project's content rules), now and then.
WARNING_SIGNS = [
    "how old r u",
    "are you alone right now",
    "dont tell your parents about me",
    "lets talk on another app",
    "send me a private pic",
]


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    server_cpu: float = 0.0  # CPU seconds the server's processes used for the run
    client_cpu: float = 0.0  # CPU seconds the load generator used

    @property
    def cpu_per_request_ms(self) -> float:
        return (self.server_cpu + self.client_cpu) / self.requests * 1000

    @property
    def capacity(self) -> float:
        """Requests/s the two cores would carry if nothing else ran on them."""
        return 2 * self.requests / (self.server_cpu + self.client_cpu)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<40} {self.rate:>7.0f} req/s  p50 {self.percentile(0.5):6.2f} ms  "
            f"p99 {self.percentile(0.99):7.2f} ms  errors {self.errors}  "
            f"CPU {self.server_cpu / self.requests * 1000:.2f}+"
            f"{self.client_cpu / self.requests * 1000:.2f} ms/req  "
            f"(idle-2-core capacity {self.capacity:.0f} req/s)"
        )


def _request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _run(
    port: int, requests: list[bytes], connections: int
) -> tuple[float, list[float], int]:
    queue = list(reversed(requests))
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                payload = queue.pop()
                started = time.perf_counter()
                writer.write(payload)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return time.perf_counter() - started, latencies, errors


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and all its children (the uvicorn workers)."""
    import psutil

    total = 0.0
    try:
        parent = psutil.Process(pid)
        for process in [parent, *parent.children(recursive=True)]:
            times = process.cpu_times()
            total += times.user + times.system
    except psutil.Error:
        pass
    return total


def drive(name: str, port: int, requests: list[bytes], connections: int, server_pid: int) -> Result:
    server_before = _cpu_seconds(server_pid)
    client_before = time.process_time()
    seconds, latencies, errors = asyncio.run(_run(port, requests, connections))
    result = Result(name, len(requests), seconds, latencies, errors)
    result.server_cpu = _cpu_seconds(server_pid) - server_before
    result.client_cpu = time.process_time() - client_before
    return result


def message_requests(key: str, count: int, conversations: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {key}"}
    out = []
    for number in range(count):
        # The same conversations in warm-up and measurement (a steady stream); new
        # message ids each time.
        conversation = f"bench-{rng.randrange(conversations)}"
        text = rng.choice(WARNING_SIGNS) if rng.random() < 0.05 else rng.choice(CHATTER)
        body = json.dumps(
            {"id": f"s{seed}-m{number}", "from": rng.choice(("u1", "u2")), "text": text}
        ).encode()
        out.append(_request("POST", f"/v1/conversations/{conversation}/messages", body, headers))
    return out


def start_server(home: Path, port: int, workers: int, database_url: str | None) -> subprocess.Popen:
    env = dict(os.environ, COSEA_HOME=str(home))
    env.pop("COSEA_DATABASE_URL", None)
    if database_url:
        env["COSEA_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cosea",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "error",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe: a pipe nobody reads fills up and stalls the server.
        stderr=(home / "server.log").open("wb"),
        cwd=REPO,
        start_new_session=True,  # one process group: stopping it stops the workers too
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (home / "server.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"cosea serve exited: {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit("cosea serve did not become ready")


def stop_server(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def make_key(home: Path, database_url: str | None) -> str:
    os.environ["COSEA_HOME"] = str(home)
    if database_url:
        os.environ["COSEA_DATABASE_URL"] = database_url
    else:
        os.environ.pop("COSEA_DATABASE_URL", None)
    from cosea.service import accounts
    from cosea.storage import connect

    engine = connect(database_url)
    _key_id, key = accounts.create_api_key(
        engine,
        name="load",
        platform="bench",
        scopes=["messages:write"],
        rate_per_second=1e9,
        burst=10**9,
    )
    engine.dispose()
    return key


def scenario(
    label: str, database_url: str | None, args: argparse.Namespace, seed: int
) -> list[Result]:
    from postgres_server import free_port

    with tempfile.TemporaryDirectory(prefix="cosea-load-") as folder:
        home = Path(folder)
        key = make_key(home, database_url)
        port = free_port()
        server = start_server(home, port, args.workers, database_url)
        try:
            warm = message_requests(key, min(2000, args.requests // 5), args.conversations, seed)
            drive("warm-up", port, warm, args.connections, server.pid)
            health = [_request("GET", "/healthz", None, {})] * args.requests
            baseline = drive(
                f"{label}: GET /healthz (baseline)", port, health, args.connections, server.pid
            )
            messages = message_requests(key, args.requests, args.conversations, seed + 1)
            posts = drive(
                f"{label}: POST one message", port, messages, args.connections, server.pid
            )
            errors = (home / "server.log").read_text(errors="replace")
            if posts.errors and errors:
                print(f"server log ({label}), last lines:\n{errors[-3000:]}")
            return [baseline, posts]
        finally:
            stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="requests per scenario")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--conversations", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"cosea service load: {args.requests} requests per scenario, {args.connections} "
        f"connections, {args.workers} workers, {os.cpu_count()} CPU cores shared with "
        "the load generator"
    )
    results = scenario("SQLite", None, args, 1)
    if not args.no_postgres:
        from postgres_server import PostgresServer, find_postgres_bin

        bin_dir = find_postgres_bin()
        if bin_dir is None:
            print("PostgreSQL not installed: skipping its figures")
        else:
            server = PostgresServer(bin_dir).start()
            try:
                database = server.create_database("cosea_load")
                results += scenario("PostgreSQL", server.url(database), args, 3)
            finally:
                server.stop()
    for result in results:
        print(result.line())
    for baseline, posts in zip(results[::2], results[1::2], strict=True):
        ok_rate = posts.rate >= 1000
        ok_p99 = posts.percentile(0.99) <= 50
        print(
            f"{posts.name.split(':')[0]}: messages at {posts.rate / baseline.rate:.2f}x the "
            f"baseline's rate; goal >= 1,000 req/s {'met' if ok_rate else 'NOT met'}, "
            f"p99 <= 50 ms {'met' if ok_p99 else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
