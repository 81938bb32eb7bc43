"""Signal types: the kinds of hash cosea computes and matches, registered by name."""

from cosea.media.signals.base import (
    CONTENT_KINDS,
    SignalType,
    get_signal,
    register_signal,
    signal_names,
)
from cosea.media.signals.crypto import CRYPTO_ALGORITHMS, crypto_hashes
from cosea.media.signals.pdq import (
    PDQ_QUALITY_THRESHOLD,
    PDQ_THRESHOLD,
    PdqHash,
    dihedral_hashes,
    hamming,
    pdq_from_decoded,
    pdq_from_pixels,
)
from cosea.media.signals.vpdq import VideoFrameHash, ffmpeg_path, vpdq_hash_file

__all__ = [
    "CONTENT_KINDS",
    "CRYPTO_ALGORITHMS",
    "PDQ_QUALITY_THRESHOLD",
    "PDQ_THRESHOLD",
    "PdqHash",
    "SignalType",
    "VideoFrameHash",
    "crypto_hashes",
    "dihedral_hashes",
    "ffmpeg_path",
    "get_signal",
    "hamming",
    "pdq_from_decoded",
    "pdq_from_pixels",
    "register_signal",
    "signal_names",
    "vpdq_hash_file",
]
