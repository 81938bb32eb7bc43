"""Matching files against hash lists: exact digests, PDQ (exact radius search) and vPDQ."""

from cosea.media.match.index import EXACT_SIGNALS, MatchIndex, StaticEntry
from cosea.media.match.matcher import (
    ROBUST_VARIANT_THRESHOLD,
    Matcher,
    SyncReport,
    index_folder,
    index_root,
    match_record,
    open_list_index,
)
from cosea.media.match.pdq_index import PdqIndex, brute_force
from cosea.media.match.robust import (
    VARIANT_NOTE_PREFIX,
    query_variants,
    variant_entries,
    variant_hashes,
    variant_note,
    variant_of,
)

__all__ = [
    "EXACT_SIGNALS",
    "ROBUST_VARIANT_THRESHOLD",
    "VARIANT_NOTE_PREFIX",
    "MatchIndex",
    "Matcher",
    "PdqIndex",
    "StaticEntry",
    "SyncReport",
    "brute_force",
    "index_folder",
    "index_root",
    "match_record",
    "open_list_index",
    "query_variants",
    "variant_entries",
    "variant_hashes",
    "variant_note",
    "variant_of",
]
