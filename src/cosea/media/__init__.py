"""Media: hash files, keep lists of known material, match against them.

The public surface: ``hash_file`` / ``hash_stream`` / ``hash_bytes`` / ``hash_paths``
(:class:`FileHashes`), the signal-type registry (``get_signal``, ``register_signal``,
``signal_names``), and :class:`Matcher` (``Matcher.for_lists([...]).match_file(path)``).
Heavy parts (numpy, Pillow, FAISS) load on first use, so importing this package is cheap.
"""

from __future__ import annotations

from cosea._exports import lazy_getattr

_EXPORTS = {
    "FileHashes": "cosea.media.hashing",
    "hash_file": "cosea.media.hashing",
    "hash_stream": "cosea.media.hashing",
    "hash_bytes": "cosea.media.hashing",
    "hash_paths": "cosea.media.hashing",
    "DEFAULT_SIGNALS": "cosea.media.hashing",
    "SignalType": "cosea.media.signals",
    "get_signal": "cosea.media.signals",
    "register_signal": "cosea.media.signals",
    "signal_names": "cosea.media.signals",
    "crypto_hashes": "cosea.media.signals",
    "Matcher": "cosea.media.match",
    "MatchIndex": "cosea.media.match",
    "StaticEntry": "cosea.media.match",
    "variant_hashes": "cosea.media.match",
    "decode_image": "cosea.media.images",
    "ImageDecodeError": "cosea.media.images",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())
