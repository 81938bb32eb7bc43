"""Scale-out: run conversation analysis, media hashing and matching, and triage on Dask.

    from cosea.scale import analyze_chats, hash_media, match_media, scan_on_cluster
    run = analyze_chats(["s3://bucket/chats/"], scheduler="tcp://scheduler:8786",
                        out="predictions.jsonl")          # also stored in the database
    run = hash_media(["/evidence"], scheduler="local:4", out="hashes.jsonl")
    run = match_media(["/evidence"], lists=["hotline-a"], scheduler=client)

``scheduler`` is an address, ``local[:N]`` (a LocalCluster here) or a
``distributed.Client``; :func:`scheduler_address` reads ``--scheduler`` or
``COSEA_DASK_SCHEDULER``. Results go to the configured database (PostgreSQL for
clusters) in idempotent batches keyed by ``(run_id, position)``. Heavy modules load
on first use, so the CLI stays quick to start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cosea._exports import lazy_getattr

if TYPE_CHECKING:
    from cosea.scale.chats import ChatsRun, analyze_chats
    from cosea.scale.cluster import SCHEDULER_ENV, connect, scheduler_address
    from cosea.scale.inputs import any_url, is_url, restore_url
    from cosea.scale.media import MediaRun, hash_media, match_media
    from cosea.scale.results import count_results, iter_results, run_info
    from cosea.scale.triage import scan_on_cluster

_EXPORTS = {
    "ChatsRun": "cosea.scale.chats",
    "analyze_chats": "cosea.scale.chats",
    "SCHEDULER_ENV": "cosea.scale.cluster",
    "connect": "cosea.scale.cluster",
    "scheduler_address": "cosea.scale.cluster",
    "any_url": "cosea.scale.inputs",
    "is_url": "cosea.scale.inputs",
    "restore_url": "cosea.scale.inputs",
    "MediaRun": "cosea.scale.media",
    "hash_media": "cosea.scale.media",
    "match_media": "cosea.scale.media",
    "count_results": "cosea.scale.results",
    "iter_results": "cosea.scale.results",
    "run_info": "cosea.scale.results",
    "scan_on_cluster": "cosea.scale.triage",
}

__all__ = [
    "SCHEDULER_ENV",
    "ChatsRun",
    "MediaRun",
    "analyze_chats",
    "any_url",
    "connect",
    "count_results",
    "hash_media",
    "is_url",
    "iter_results",
    "match_media",
    "restore_url",
    "run_info",
    "scan_on_cluster",
    "scheduler_address",
    "wants_cluster",
]


def wants_cluster(scheduler: str | None, inputs: Any = ()) -> bool:
    """Whether a command should run distributed: a scheduler is named, or an input is a URL.

    Cheap (no Dask import), so commands can ask it before doing anything else.
    """
    from cosea.scale.cluster import scheduler_address
    from cosea.scale.inputs import any_url

    return scheduler_address(scheduler) is not None or any_url(inputs)


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
