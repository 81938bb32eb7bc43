"""The match index of one hash list: exact digests, PDQ and vPDQ, kept in step with the store.

Entries are held column-wise in numpy arrays (id, list, category, source, variant,
enabled), so ten million entries cost tens of megabytes, not gigabytes of Python
objects. Exact digests are sorted fixed-width byte arrays searched by bisection;
PDQ hashes live in a :class:`~cosea.media.match.pdq_index.PdqIndex`; vPDQ videos
put each frame hash in a second ``PdqIndex`` pointing back at its video.

Changes (entries added, disabled, enabled) are applied in place: new hashes join
the index's delta, disabled ones are filtered. The index remembers the store's
change sequence it has seen (``synced_seq``) and saves itself under
``COSEA_HOME/indexes/`` as ``.npy`` arrays plus a JSON sidecar, never pickle.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cosea.media.match.pdq_index import PdqIndex
from cosea.media.match.robust import variant_of
from cosea.media.signals.pdq import PDQ_QUALITY_THRESHOLD, PDQ_THRESHOLD, hashes_to_array
from cosea.media.signals.vpdq import (
    COMPARED_MATCH_PERCENT,
    QUERY_MATCH_PERCENT,
    VideoFrameHash,
    frames_from_json,
)
from cosea.types import HashMatch

EXACT_SIGNALS = {"md5": 16, "sha1": 20, "sha256": 32}
_FORMAT = "cosea-match-index/1"
_PENDING_FOLD = 50_000  # exact digests kept in a dict until this many, then merged


class EntryLike(Protocol):
    """What the index needs of a list entry (``cosea.media.lists.HashEntry`` fits)."""

    id: int
    list_name: str
    signal: str
    hash: str
    category: str | None
    source: str | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class StaticEntry:
    """A list entry held outside the database (demo, tests, benchmarks)."""

    id: int
    list_name: str
    signal: str
    hash: str
    category: str | None = None
    source: str | None = None
    enabled: bool = True
    notes: str | None = None
    updated_seq: int = 0


class _Strings:
    """Interned strings (list names, categories, sources, variants) by small integer."""

    def __init__(self, values: Sequence[str] = ()) -> None:
        self.values: list[str] = list(values)
        self._index = {v: i for i, v in enumerate(self.values)}

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found

    def get(self, code: int) -> str | None:
        return self.values[code] if code >= 0 else None


class _Column:
    """A growable numpy column (amortised appends); a loaded one stays memory-mapped
    until it is first written."""

    def __init__(self, dtype: Any, data: np.ndarray | None = None) -> None:
        self.data = np.zeros(0, dtype=dtype) if data is None else data
        self.size = len(self.data)

    def writable(self) -> np.ndarray:
        if not self.data.flags.writeable:
            self.data = np.array(self.data)
        return self.data[: self.size]

    def extend(self, values: Sequence[Any] | np.ndarray) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        if not len(values):
            return
        needed = self.size + len(values)
        if needed > len(self.data):
            grown = np.zeros(max(needed, int(len(self.data) * 1.25) + 1024), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : needed] = values
        self.size = needed

    @property
    def view(self) -> np.ndarray:
        return self.data[: self.size]


class _ExactSet:
    """Digests of one exact signal: sorted array searched by bisection, plus recent additions."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.digests = np.zeros(0, dtype=f"S{width}")
        self.slots = np.zeros(0, dtype=np.int64)
        self.pending: dict[bytes, list[int]] = {}

    def __len__(self) -> int:
        return len(self.digests) + sum(len(v) for v in self.pending.values())

    def add(self, digests: list[bytes], slots: list[int]) -> None:
        if len(digests) > _PENDING_FOLD or len(self.pending) + len(digests) > _PENDING_FOLD:
            self._merge(np.array(digests, dtype=f"S{self.width}"), np.asarray(slots, np.int64))
            return
        for digest, slot in zip(digests, slots, strict=True):
            self.pending.setdefault(digest, []).append(slot)

    def _merge(self, digests: np.ndarray, slots: np.ndarray) -> None:
        if self.pending:
            extra = [(d, s) for d, ss in self.pending.items() for s in ss]
            digests = np.concatenate([digests, np.array([d for d, _ in extra], f"S{self.width}")])
            slots = np.concatenate([slots, np.array([s for _, s in extra], np.int64)])
            self.pending = {}
        all_digests = np.concatenate([self.digests, digests])
        all_slots = np.concatenate([self.slots, slots])
        order = np.argsort(all_digests, kind="stable")
        self.digests, self.slots = all_digests[order], all_slots[order]

    def lookup(self, digest: bytes) -> list[int]:
        found = list(self.pending.get(digest, ()))
        if len(self.digests):
            key = np.array([digest], dtype=f"S{self.width}")
            lo = int(np.searchsorted(self.digests, key, "left")[0])
            hi = int(np.searchsorted(self.digests, key, "right")[0])
            found.extend(int(s) for s in self.slots[lo:hi])
        return found

    def flattened(self) -> tuple[np.ndarray, np.ndarray]:
        if self.pending:
            self._merge(np.zeros(0, f"S{self.width}"), np.zeros(0, np.int64))
        return self.digests, self.slots


class MatchIndex:
    """Entries of one or more lists, ready to match; see the module docstring."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.synced_seq = 0
        self.list_id: int | None = None
        self.lists = _Strings()
        self.categories = _Strings()
        self.sources = _Strings()
        self.variants = _Strings()
        self.origins = _Strings()  # original PDQ hash of index-side variant entries
        self.entry_id = _Column(np.int64)
        self.list_code = _Column(np.int32)
        self.category_code = _Column(np.int32)
        self.source_code = _Column(np.int32)
        self.variant_code = _Column(np.int32)
        self.origin_code = _Column(np.int32)
        self.signal_code = _Column(np.int8)
        self.enabled = _Column(np.bool_)
        self.exact = {signal: _ExactSet(width) for signal, width in EXACT_SIGNALS.items()}
        self.pdq = PdqIndex()
        self.pdq_row_slot = _Column(np.int64)
        self.vpdq = PdqIndex()
        self.vpdq_row_slot = _Column(np.int64)
        self.vpdq_hashes: dict[int, str] = {}  # slot -> stored vPDQ string (few videos)
        self.vpdq_good_frames: dict[int, int] = {}
        self.other_signals: dict[str, dict[str, list[int]]] = {}  # plug-in signals, exact
        self._id_order: np.ndarray | None = None
        self.changed = False

    _SIGNALS = ("md5", "sha1", "sha256", "pdq", "vpdq")

    # ------------------------------------------------------------------ build
    def __len__(self) -> int:
        return self.entry_id.size

    def counts(self) -> dict[str, int]:
        enabled = self.enabled.view
        codes = self.signal_code.view
        out: dict[str, int] = {}
        for number, signal in enumerate(self._SIGNALS):
            count = int((enabled & (codes == number)).sum())
            if count:
                out[signal] = count
        other = int((enabled & (codes == -1)).sum())
        if other:
            out["other"] = other
        return out

    def add_entries(self, entries: Iterable[EntryLike]) -> int:
        """Add entries (disabled ones are skipped); returns how many were added."""
        batch: list[EntryLike] = []
        added = 0
        for entry in entries:
            if not getattr(entry, "enabled", True):
                continue
            batch.append(entry)
            if len(batch) >= 100_000:
                added += self._add_batch(batch)
                batch = []
        if batch:
            added += self._add_batch(batch)
        return added

    def _add_batch(self, entries: list[EntryLike]) -> int:
        first = len(self)
        slots = range(first, first + len(entries))
        signal_numbers = {s: i for i, s in enumerate(self._SIGNALS)}
        self.entry_id.extend([int(e.id) for e in entries])
        self.list_code.extend([self.lists.code(e.list_name) for e in entries])
        self.category_code.extend([self.categories.code(e.category) for e in entries])
        self.source_code.extend([self.sources.code(e.source) for e in entries])
        marks = [variant_of(getattr(e, "notes", None)) for e in entries]
        self.variant_code.extend([self.variants.code(m[0] if m else None) for m in marks])
        self.origin_code.extend([self.origins.code(m[1] if m else None) for m in marks])
        self.signal_code.extend([signal_numbers.get(e.signal, -1) for e in entries])
        self.enabled.extend(np.ones(len(entries), dtype=bool))
        exact: dict[str, tuple[list[bytes], list[int]]] = {}
        pdq_hashes: list[str] = []
        pdq_slots: list[int] = []
        for slot, entry in zip(slots, entries, strict=True):
            signal = entry.signal
            if signal in EXACT_SIGNALS:
                digests, owners = exact.setdefault(signal, ([], []))
                digests.append(bytes.fromhex(entry.hash))
                owners.append(slot)
            elif signal == "pdq":
                pdq_hashes.append(entry.hash)
                pdq_slots.append(slot)
            elif signal == "vpdq":
                self._add_video(slot, entry.hash)
            else:
                self.other_signals.setdefault(signal, {}).setdefault(entry.hash, []).append(slot)
        for signal, (digests, owners) in exact.items():
            self.exact[signal].add(digests, owners)
        if pdq_hashes:
            self.pdq.add(hashes_to_array(pdq_hashes))
            self.pdq_row_slot.extend(pdq_slots)
        self._id_order = None
        self.changed = True
        return len(entries)

    def _add_video(self, slot: int, stored: str) -> None:
        frames = frames_from_json(stored)
        good = sorted({f.pdq for f in frames if f.quality >= PDQ_QUALITY_THRESHOLD})
        self.vpdq_hashes[slot] = stored
        self.vpdq_good_frames[slot] = len(good)
        if good:
            self.vpdq.add(hashes_to_array(good))
            self.vpdq_row_slot.extend([slot] * len(good))

    # ---------------------------------------------------------------- changes
    def _slots_of(self, entry_ids: np.ndarray) -> np.ndarray:
        """Slot of each entry id, -1 where unknown."""
        ids = self.entry_id.view
        if self._id_order is None:
            self._id_order = np.argsort(ids, kind="stable")
        if not len(ids):
            return np.full(len(entry_ids), -1, dtype=np.int64)
        sorted_ids = ids[self._id_order]
        position = np.searchsorted(sorted_ids, entry_ids)
        position = np.minimum(position, len(ids) - 1)
        found = sorted_ids[position] == entry_ids
        return np.where(found, self._id_order[position], -1)

    def set_enabled(self, entry_ids: Iterable[int], enabled: bool) -> int:
        """Enable or disable entries by id, in place; returns how many changed."""
        ids = np.fromiter((int(i) for i in entry_ids), dtype=np.int64)
        slots = self._slots_of(ids)
        slots = slots[slots >= 0]
        slots = slots[self.enabled.view[slots] != enabled]
        if not len(slots):
            return 0
        self.enabled.writable()[slots] = enabled
        pdq_rows = np.flatnonzero(np.isin(self.pdq_row_slot.view, slots))
        video_rows = np.flatnonzero(np.isin(self.vpdq_row_slot.view, slots))
        if enabled:
            self.pdq.restore(pdq_rows)
            self.vpdq.restore(video_rows)
        else:
            self.pdq.remove(pdq_rows)
            self.vpdq.remove(video_rows)
        self.changed = True
        return len(slots)

    def apply_changes(self, entries: Iterable[EntryLike]) -> dict[str, int]:
        """Catch up with changed entries (``ListStore.changes_since``): add, enable, disable."""
        counts = {"added": 0, "enabled": 0, "disabled": 0}
        batch: list[EntryLike] = []

        def flush() -> None:
            if not batch:
                return
            ids = np.array([int(e.id) for e in batch], dtype=np.int64)
            slots = self._slots_of(ids)
            fresh = [e for e, s in zip(batch, slots, strict=True) if s < 0 and e.enabled]
            # The latest state of each id wins (an entry may change twice in a batch).
            latest = {int(e.id): bool(e.enabled) for e in batch}
            known = {i for i, s in zip(ids.tolist(), slots.tolist(), strict=True) if s >= 0}
            counts["enabled"] += self.set_enabled([i for i in known if latest[i]], True)
            counts["disabled"] += self.set_enabled([i for i in known if not latest[i]], False)
            unique_fresh = {int(e.id): e for e in fresh if latest[int(e.id)]}
            counts["added"] += self.add_entries(unique_fresh.values())
            for entry in batch:
                self.synced_seq = max(self.synced_seq, int(getattr(entry, "updated_seq", 0)))
            batch.clear()

        for entry in entries:
            batch.append(entry)
            if len(batch) >= 50_000:
                flush()
        flush()
        return counts

    def disable_list(self, list_name: str) -> int:
        code = self.lists._index.get(list_name)
        if code is None:
            return 0
        ids = self.entry_id.view[self.list_code.view == code]
        return self.set_enabled(ids, False)

    # ---------------------------------------------------------------- matching
    def _match(self, slot: int, signal: str, hash_value: str, distance: int) -> HashMatch:
        return HashMatch(
            list_name=self.lists.get(int(self.list_code.view[slot])) or "",
            signal=signal,
            hash=hash_value,
            distance=int(distance),
            category=self.categories.get(int(self.category_code.view[slot])),
            entry_id=int(self.entry_id.view[slot]),
            source=self.sources.get(int(self.source_code.view[slot])),
            variant=self.variants.get(int(self.variant_code.view[slot])),
        )

    def match_exact(self, signal: str, hash_value: str) -> list[HashMatch]:
        enabled = self.enabled.view
        if signal in self.exact:
            slots = self.exact[signal].lookup(bytes.fromhex(hash_value))
        else:
            slots = self.other_signals.get(signal, {}).get(hash_value, [])
        return [self._match(s, signal, hash_value, 0) for s in slots if enabled[s]]

    def match_pdq(
        self,
        queries: dict[str, str],
        threshold: int = PDQ_THRESHOLD,
        variant_threshold: int | None = None,
        use_index_variants: bool = False,
    ) -> list[HashMatch]:
        """PDQ matches of one picture's hashes ({"original": hash, "mirror": hash, ...}).

        Each listed picture is reported once, at its smallest distance: an entry and
        the index-side variants of the same original count as one, reported with
        the original hash and the variant that met it. Variant entries count only
        when ``use_index_variants`` is set; every comparison other than original
        against original uses ``variant_threshold``.
        """
        if not queries or not len(self.pdq):
            return []
        names = list(queries)
        codes = hashes_to_array([queries[n] for n in names])
        limit = max(threshold, variant_threshold or 0)
        qidx, rows, dist = self.pdq.search(codes, limit)
        best: dict[str, tuple[int, int, str]] = {}  # listed picture -> (distance, slot, via)
        row_slot = self.pdq_row_slot.view
        variant_codes = self.variant_code.view
        origin_codes = self.origin_code.view
        enabled = self.enabled.view
        for q, row, d in zip(qidx.tolist(), rows.tolist(), dist.tolist(), strict=True):
            slot = int(row_slot[row])
            if not enabled[slot]:
                continue
            entry_variant = self.variants.get(int(variant_codes[slot]))
            if entry_variant is not None and not use_index_variants:
                continue
            plain = names[q] == "original" and entry_variant is None
            if d > (threshold if plain else (variant_threshold or threshold)):
                continue
            origin = self.origins.get(int(origin_codes[slot]))
            key = origin or self.pdq.codes(np.array([row]))[0].tobytes().hex()
            via = "+".join(v for v in (names[q], entry_variant) if v and v != "original")
            if key not in best or (d, not plain) < (best[key][0], bool(best[key][2])):
                best[key] = (d, slot, via)
        out = []
        for key, (d, slot, via) in best.items():
            match = self._match(slot, "pdq", key, d)
            match.variant = via or None
            out.append(match)
        return out

    def match_video(
        self,
        frames: Sequence[VideoFrameHash],
        frame_threshold: int = PDQ_THRESHOLD,
        query_match_percent: float = QUERY_MATCH_PERCENT,
        compared_match_percent: float = COMPARED_MATCH_PERCENT,
    ) -> list[HashMatch]:
        """Listed videos sharing enough frames with ``frames`` (Meta's vPDQ rule)."""
        good = sorted({f.pdq for f in frames if f.quality >= PDQ_QUALITY_THRESHOLD})
        if not good or not len(self.vpdq):
            return []
        qidx, rows, _ = self.vpdq.search(hashes_to_array(good), frame_threshold)
        slots = self.vpdq_row_slot.view[rows]
        enabled = self.enabled.view
        out = []
        for slot in np.unique(slots).tolist():
            if not enabled[slot]:
                continue
            mine = slots == slot
            query_pct = 100.0 * len(np.unique(qidx[mine])) / len(good)
            compared_pct = 100.0 * len(np.unique(rows[mine])) / max(1, self.vpdq_good_frames[slot])
            if query_pct >= query_match_percent and compared_pct >= compared_match_percent:
                out.append(
                    self._match(slot, "vpdq", self.vpdq_hashes[slot], round(100.0 - query_pct))
                )
        return out

    # ------------------------------------------------------------- persistence
    def save(self, folder: Path) -> Path:
        """Write a new version under ``folder`` and point ``folder/current`` at it."""
        folder.mkdir(parents=True, exist_ok=True)
        number = 1 + max(
            (int(p.name[1:]) for p in folder.glob("v*") if p.name[1:].isdigit()), default=0
        )
        target = folder / f"v{number:06d}"
        staging = folder / f".staging-{os.getpid()}-{number}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        columns = {
            "entry_id": self.entry_id.view,
            "list_code": self.list_code.view,
            "category_code": self.category_code.view,
            "source_code": self.source_code.view,
            "variant_code": self.variant_code.view,
            "origin_code": self.origin_code.view,
            "signal_code": self.signal_code.view,
            "enabled": self.enabled.view,
            "pdq_row_slot": self.pdq_row_slot.view,
            "vpdq_row_slot": self.vpdq_row_slot.view,
        }
        for name, values in columns.items():
            np.save(staging / f"{name}.npy", values, allow_pickle=False)
        for signal, exact in self.exact.items():
            digests, slots = exact.flattened()
            np.save(staging / f"exact-{signal}-digests.npy", digests, allow_pickle=False)
            np.save(staging / f"exact-{signal}-slots.npy", slots, allow_pickle=False)
        self.pdq.save(staging / "pdq")
        self.vpdq.save(staging / "vpdq")
        sidecar = {
            "format": _FORMAT,
            "name": self.name,
            "list_id": self.list_id,
            "synced_seq": self.synced_seq,
            "saved_at": datetime.now(UTC).isoformat(),
            "entries": len(self),
            "counts": self.counts(),
            "lists": self.lists.values,
            "categories": self.categories.values,
            "sources": self.sources.values,
            "variants": self.variants.values,
            "origins": self.origins.values,
            "videos": {str(slot): text for slot, text in self.vpdq_hashes.items()},
            "other_signals": self.other_signals,
        }
        (staging / "index.json").write_text(json.dumps(sidecar), encoding="utf-8")
        while True:
            try:
                staging.rename(target)
                break
            except OSError:  # another writer took this version number
                number += 1
                target = folder / f"v{number:06d}"
        pointer = folder / ".current.tmp"
        pointer.write_text(target.name, encoding="utf-8")
        os.replace(pointer, folder / "current")
        for old in folder.glob("v*"):
            older = old.name[1:].isdigit() and int(old.name[1:]) < number
            if older and old.is_dir():
                # Open memory maps of the old version stay valid: unlinking keeps the data.
                shutil.rmtree(old, ignore_errors=True)
        self.changed = False
        return target

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> MatchIndex:
        """Open the current version saved under ``folder`` (``FileNotFoundError`` if none)."""
        current = (folder / "current").read_text(encoding="utf-8").strip()
        version = folder / current
        sidecar = json.loads((version / "index.json").read_text(encoding="utf-8"))
        if sidecar.get("format") != _FORMAT:
            raise ValueError(f"{version}: not a cosea match index ({sidecar.get('format')!r})")
        index = cls(sidecar.get("name"))
        index.list_id = sidecar.get("list_id")
        index.synced_seq = int(sidecar.get("synced_seq", 0))
        index.lists = _Strings(sidecar["lists"])
        index.categories = _Strings(sidecar["categories"])
        index.sources = _Strings(sidecar["sources"])
        index.variants = _Strings(sidecar["variants"])
        index.origins = _Strings(sidecar.get("origins", []))

        mode = "r" if mmap else None

        def column(name: str, dtype: Any) -> _Column:
            data = np.load(version / f"{name}.npy", mmap_mode=mode, allow_pickle=False)
            if data.dtype != np.dtype(dtype):
                raise ValueError(f"{version}: {name} has type {data.dtype}, expected {dtype}")
            return _Column(dtype, data)

        index.entry_id = column("entry_id", np.int64)
        index.list_code = column("list_code", np.int32)
        index.category_code = column("category_code", np.int32)
        index.source_code = column("source_code", np.int32)
        index.variant_code = column("variant_code", np.int32)
        index.origin_code = column("origin_code", np.int32)
        index.signal_code = column("signal_code", np.int8)
        index.enabled = column("enabled", np.bool_)
        index.pdq_row_slot = column("pdq_row_slot", np.int64)
        index.vpdq_row_slot = column("vpdq_row_slot", np.int64)
        for signal, exact in index.exact.items():
            exact.digests = np.load(
                version / f"exact-{signal}-digests.npy", mmap_mode=mode, allow_pickle=False
            )
            exact.slots = np.load(
                version / f"exact-{signal}-slots.npy", mmap_mode=mode, allow_pickle=False
            )
        index.pdq = PdqIndex.load(version / "pdq", mmap=mmap)
        index.vpdq = PdqIndex.load(version / "vpdq", mmap=mmap)
        index.vpdq_hashes = {int(k): v for k, v in sidecar.get("videos", {}).items()}
        for slot, text in index.vpdq_hashes.items():
            frames = frames_from_json(text)
            index.vpdq_good_frames[slot] = len(
                {f.pdq for f in frames if f.quality >= PDQ_QUALITY_THRESHOLD}
            )
        index.other_signals = {
            signal: {h: list(s) for h, s in table.items()}
            for signal, table in sidecar.get("other_signals", {}).items()
        }
        if len(index.entry_id.view) != int(sidecar["entries"]):
            raise ValueError(f"{version}: index files disagree on the number of entries")
        index.changed = False
        return index
