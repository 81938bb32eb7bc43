"""Connecting to a Dask cluster: an existing scheduler, a scheduler file, or a local one.

``--scheduler ADDRESS`` (or ``COSEA_DASK_SCHEDULER``) takes:

* ``tcp://host:8786`` (any address ``distributed.Client`` accepts): an existing
  cluster, e.g. one run by the Dask Kubernetes operator, the Dask Helm chart,
  dask-yarn, dask-jobqueue or ``dask scheduler`` / ``dask worker`` by hand;
* a path to a scheduler file (``.json``, as written by ``dask scheduler
  --scheduler-file``);
* ``local`` or ``local:N``: a ``LocalCluster`` of N worker processes on this machine
  (default: one per core), started for the command and stopped after it.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cosea.errors import CoseaError

SCHEDULER_ENV = "COSEA_DASK_SCHEDULER"


def scheduler_address(option: str | None = None) -> str | None:
    """The scheduler to use: the option when given, else ``COSEA_DASK_SCHEDULER``, else None."""
    value = option if option is not None else os.environ.get(SCHEDULER_ENV)
    value = (value or "").strip()
    return value or None


def _local_workers(address: str) -> int | None:
    if address == "local":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if address.startswith("local:"):
        count = address.split(":", 1)[1]
        if not count.isdigit() or int(count) < 1:
            raise CoseaError(f"--scheduler {address!r}: write local:N with N at least 1")
        return int(count)
    return None


@contextmanager
def connect(scheduler: Any, *, timeout: float = 60.0) -> Iterator[Any]:
    """A ``distributed.Client`` for ``scheduler`` (an address, ``local[:N]`` or a Client).

    A client passed in is used as it is and left open; one made here is closed after.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - the dask extra is not installed
        raise CoseaError(
            "distributed runs need Dask: pip install 'cosea[dask]' (dask[distributed], s3fs)"
        ) from None
    if isinstance(scheduler, Client):
        yield scheduler
        return
    address = str(scheduler).strip()
    if address == "local" or address.startswith("local:"):
        workers = _local_workers(address) or 1
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        if address.endswith(".json") and Path(address).is_file():
            client = Client(scheduler_file=address, timeout=timeout)
        else:
            client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as error:
        raise CoseaError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    try:
        yield client
    finally:
        client.close()


def worker_count(client: Any, *, wait: float = 60.0) -> int:
    """Workers connected now (waiting up to ``wait`` seconds for the first)."""
    try:
        client.wait_for_workers(1, timeout=wait)
    except TimeoutError:
        raise CoseaError(
            f"the Dask scheduler {client.scheduler.address} has no workers (waited {wait:g} s)"
        ) from None
    return max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))


_GC_LOCK = threading.Lock()
_GC_PAUSES = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run a task without Python's cyclic garbage collector, and restore it after.

    A conversation task holds a whole shard's messages while it analyses them, and every
    collection would walk all of them (and the worker's own large heap) again: measured,
    a worker spent a third more CPU per message than a single process streaming the same
    file. The task's objects are acyclic and die with it; cycles made meanwhile are
    collected once the collector is back. Nested and concurrent tasks share one pause.
    """
    global _GC_PAUSES
    with _GC_LOCK:
        _GC_PAUSES += 1
        if _GC_PAUSES == 1:
            _GC_WAS_ENABLED[0] = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES -= 1
            if _GC_PAUSES == 0 and _GC_WAS_ENABLED[0]:
                gc.enable()


_GC_WAS_ENABLED = [True]
_TUNED = False
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_worker_process() -> None:
    """Let glibc reuse large buffers in a Dask worker (once per process; Linux only).

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_`` set, which also pins
    glibc's mmap threshold at 128 KiB: every MiB-sized read buffer then becomes a fresh
    mmap of zeroed pages and an munmap. Triage and hashing read files in such chunks;
    measured, a worker spent 2.3x the CPU per file of the same code in a plain process.
    Raising both thresholds restores buffer reuse; a worker then keeps up to 64 MiB of
    freed heap instead of returning it at once.
    """
    global _TUNED
    if _TUNED:
        return
    _TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 64 << 20)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return


def _hostname() -> str:
    return socket.gethostname()


def workers_on_this_host(client: Any) -> bool:
    """Whether every worker runs on this machine (so it shares files and SQLite with us)."""
    names = set(client.run(_hostname).values())
    return names <= {socket.gethostname()}


def describe(client: Any) -> str:
    return str(client.scheduler.address)


def check_database_reachable(client: Any, database_url: str) -> None:
    """A SQLite file on this machine cannot take writes from workers elsewhere."""
    if database_url.startswith("sqlite") and not workers_on_this_host(client):
        raise CoseaError(
            "the Dask workers run on other machines and cannot write this machine's SQLite "
            "database; set COSEA_DATABASE_URL to a PostgreSQL database that the workers "
            "and this machine can both reach"
        )
