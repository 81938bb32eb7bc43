"""Media: hash files, keep lists of known material, match against them.

The public surface: ``hash_file`` / ``hash_stream`` / ``hash_bytes`` / ``hash_paths``
(:class:`FileHashes`), the signal-type registry (``get_signal``, ``register_signal``,
``signal_names``), and :class:`Matcher` (``Matcher.for_lists([...]).match_file(path)``).
Heavy parts (numpy, Pillow, FAISS) load on first use, so importing this package is cheap.
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'cosea.media' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
