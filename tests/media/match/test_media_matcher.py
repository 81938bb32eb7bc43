"""MatchIndex and Matcher: exact, PDQ and vPDQ matches; following the list store."""

from __future__ import annotations

import json

import numpy as np
import pytest
from imagegen import encoded, flat_picture, has_ffmpeg, make_video, picture
from PIL import ImageEnhance, ImageOps

from cosea.errors import NotFound
from cosea.media.hashing import hash_bytes, hash_file
from cosea.media.match import (
    VARIANT_NOTE_PREFIX,
    Matcher,
    MatchIndex,
    StaticEntry,
    index_root,
    match_record,
    variant_entries,
    variant_hashes,
)


def flipped(hash_hex: str, bits: int) -> str:
    value = int(hash_hex, 16)
    for bit in range(bits):
        value ^= 1 << (bit * 7)
    return format(value, "064x")


@pytest.fixture
def files(tmp_path):
    out = {}
    for number in range(4):
        path = tmp_path / f"picture-{number}.jpg"
        picture(300 + number, (400, 300)).save(path, quality=92)
        out[number] = path
    return out


def entries_for(paths, list_name="known", start=1):
    entries = []
    for number, path in enumerate(paths, start=start):
        hashes = hash_file(path)
        entries.append(StaticEntry(number, list_name, "pdq", hashes.pdq, "known-abuse", "unit"))
        entries.append(StaticEntry(1000 + number, list_name, "sha256", hashes.sha256, "of-concern"))
    return entries


def test_exact_and_pdq_matches(files):
    matcher = Matcher.from_entries(entries_for([files[0], files[1]]))
    exact = matcher.match_file(files[0])
    assert [(m.signal, m.distance, m.category) for m in exact] == [
        ("pdq", 0, "known-abuse"),
        ("sha256", 0, "of-concern"),
    ]
    assert exact[0].entry_id == 1 and exact[0].source == "unit"
    assert matcher.match_file(files[2]) == []
    # An edited copy: PDQ only, with its distance.
    copy = ImageEnhance.Brightness(picture(301, (400, 300))).enhance(1.2)
    result = hash_bytes(encoded(copy, "JPEG", quality=70))
    matches = matcher.match_hashes(result)
    assert [m.signal for m in matches] == ["pdq"] and 0 < matches[0].distance <= 31
    assert matches[0].hash == hash_file(files[1]).pdq


def test_threshold_low_quality_and_md5_sha1():
    base = hash_bytes(encoded(picture(5), "PNG"))
    flat = hash_bytes(encoded(flat_picture(), "PNG"))
    entries = [
        StaticEntry(1, "l", "pdq", flipped(base.pdq, 20)),
        StaticEntry(2, "l", "pdq", flat.pdq),
        StaticEntry(3, "l", "md5", base.md5),
        StaticEntry(4, "l", "sha1", base.sha1),
    ]
    assert {m.entry_id for m in Matcher.from_entries(entries).match_hashes(base)} == {1, 3, 4}
    tight = Matcher.from_entries(entries, threshold=10)
    assert {m.entry_id for m in tight.match_hashes(base)} == {3, 4}
    assert flat.pdq_low_quality
    assert Matcher.from_entries(entries).match_hashes(flat) == []
    loose = Matcher.from_entries(entries, match_low_quality=True)
    assert [m.entry_id for m in loose.match_hashes(flat)] == [2]


def test_disabled_entries_and_set_enabled():
    base = hash_bytes(encoded(picture(6), "PNG"))
    index = MatchIndex()
    index.add_entries(
        [
            StaticEntry(1, "l", "pdq", base.pdq),
            StaticEntry(2, "l", "sha256", base.sha256),
            StaticEntry(3, "l", "sha256", "0" * 64, enabled=False),
        ]
    )
    assert len(index) == 2
    matcher = Matcher([index])
    assert len(matcher.match_hashes(base)) == 2
    assert index.set_enabled([1, 2], False) == 2
    assert matcher.match_hashes(base) == []
    assert index.set_enabled([1], True) == 1
    assert [m.entry_id for m in matcher.match_hashes(base)] == [1]


def test_match_index_save_load_round_trip(tmp_path, files):
    index = MatchIndex("known")
    index.add_entries(entries_for(files.values()))
    index.synced_seq = 42
    index.set_enabled([2], False)
    folder = tmp_path / "index"
    version = index.save(folder)
    assert (folder / "current").read_text() == version.name
    names = [p.name for p in version.rglob("*") if p.is_file()]
    assert all(n.endswith((".npy", ".json")) for n in names)
    loaded = MatchIndex.load(folder)
    assert loaded.synced_seq == 42 and len(loaded) == len(index)
    for path in files.values():
        hashes = hash_file(path)
        assert Matcher([loaded]).match_hashes(hashes) == Matcher([index]).match_hashes(hashes)
    loaded.add_entries([StaticEntry(77, "known", "md5", "a" * 32)])
    second = loaded.save(folder)
    assert second != version and not version.exists()
    assert len(MatchIndex.load(folder)) == len(index) + 1


# ---- following the list store ----------------------------------------------------------


@pytest.fixture
def store():
    from cosea.media.lists import ListStore

    return ListStore()


def add(store, name, path, category="known-abuse", **extra):
    hashes = hash_file(path)
    store.add_entries(
        name,
        [
            {"signal": "pdq", "hash": hashes.pdq, "category": category, **extra},
            {"signal": "sha256", "hash": hashes.sha256, "category": category, **extra},
        ],
    )
    return hashes


def test_matcher_for_lists_builds_saves_and_follows_changes(store, files):
    store.create_list("hotline")
    first = add(store, "hotline", files[0])
    matcher = Matcher.for_lists(["hotline"])
    report = matcher.reports[0]
    assert report.built and report.entries == 2
    assert report.folder.parent == index_root() and (report.folder / "current").exists()
    assert {m.signal for m in matcher.match_file(files[0])} == {"pdq", "sha256"}

    # Reopened without changes: loaded, nothing rebuilt.
    again = Matcher.for_lists(["hotline"])
    assert not again.reports[0].built and again.reports[0].added == 0

    # Disable one entry: the next matcher catches up in place.
    store.disable_entries("hotline", [first.sha256])
    after = Matcher.for_lists(["hotline"])
    assert not after.reports[0].built and after.reports[0].disabled == 1
    assert [m.signal for m in after.match_file(files[0])] == ["pdq"]

    # Add entries: added without a rebuild.
    add(store, "hotline", files[1])
    grown = Matcher.for_lists(["hotline"])
    assert not grown.reports[0].built and grown.reports[0].added == 2
    assert grown.match_file(files[1])
    store.enable_entries("hotline", [first.sha256])
    assert Matcher.for_lists(["hotline"]).reports[0].enabled == 1

    # The whole list disabled: nothing matches.
    store.disable_list("hotline")
    assert Matcher.for_lists(["hotline"]).match_file(files[0]) == []
    store.enable_list("hotline")
    assert Matcher.for_lists(["hotline"]).match_file(files[0])


def test_deleted_and_recreated_list_is_rebuilt(store, files):
    store.create_list("bank")
    add(store, "bank", files[0])
    Matcher.for_lists(["bank"])
    store.delete_list("bank")
    with pytest.raises(NotFound):
        Matcher.for_lists(["bank"])
    store.create_list("bank")
    add(store, "bank", files[1])
    matcher = Matcher.for_lists(["bank"])
    assert matcher.reports[0].built
    assert matcher.match_file(files[0]) == [] and matcher.match_file(files[1])


def test_several_lists_and_record(store, files):
    store.create_list("a")
    store.create_list("b", scheme="caid")
    add(store, "a", files[0])
    add(store, "b", files[0], category="A")
    matcher = Matcher.for_lists(["a", "b"])
    record = match_record(*matcher.match_file_detailed(files[0]))
    assert set(record) >= {"path", "sha256", "pdq", "matches"}
    assert {(m["list"], m["category"]) for m in record["matches"]} == {
        ("a", "known-abuse"),
        ("b", "A"),
    }
    assert all(
        set(m) >= {"list", "signal", "hash", "distance", "category"} for m in record["matches"]
    )
    json.dumps(record)
    assert len(Matcher.for_lists(None).indexes) == 2


# ---- robust mode -------------------------------------------------------------------------


def test_robust_mode_finds_mirrored_copy_from_hashes_only(files, tmp_path):
    matcher = Matcher.from_entries(entries_for([files[0]]))
    mirrored = tmp_path / "mirrored.jpg"
    ImageOps.mirror(picture(300, (400, 300))).save(mirrored, quality=92)
    assert matcher.match_file(mirrored) == []
    robust = Matcher.from_entries(entries_for([files[0]]), robust=True)
    matches = robust.match_file(mirrored)
    assert [(m.signal, m.variant) for m in matches] == [("pdq", "mirror")]
    assert matches[0].distance <= 28


def test_robust_mode_with_index_side_variants_finds_rotated_and_cropped_copies(tmp_path):
    original = picture(321, (400, 300))
    entries = [
        StaticEntry(number, "bank", e["signal"], e["hash"], "known-abuse", notes=e.get("notes"))
        for number, e in enumerate(variant_entries(original), start=1)
    ]
    assert entries[0].notes is None
    assert all(e.notes.startswith(VARIANT_NOTE_PREFIX) for e in entries[1:])
    assert len(entries) == len(variant_hashes(original))
    width, height = original.size
    copies = {
        "rotate5": original.rotate(5, resample=3),
        "crop10": original.crop((20, 15, width - 20, height - 15)),
    }
    default = Matcher.from_entries(entries)
    robust = Matcher.from_entries(entries, robust=True)
    for label, copy in copies.items():
        hashes = hash_bytes(encoded(copy, "PNG"), name=f"{label}.png")
        assert default.match_hashes(hashes) == [], label  # variant entries need --robust
        path = tmp_path / f"{label}.png"
        copy.save(path)
        found = robust.match_file(path)
        assert len(found) == 1 and found[0].variant, label
        assert found[0].entry_id != 1  # met a variant entry...
        assert found[0].hash == entries[0].hash  # ...reported as the listed original
    assert [m.variant for m in robust.match_file(_save(original, tmp_path))] == [None]


def _save(image, folder):
    path = folder / "original.png"
    image.save(path)
    return path


def test_robust_mode_keeps_unrelated_pictures_apart(tmp_path):
    entries = []
    for number in range(10):
        for entry in variant_entries(picture(500 + number, (320, 240))):
            entries.append(
                StaticEntry(
                    len(entries) + 1, "bank", "pdq", entry["hash"], notes=entry.get("notes")
                )
            )
    robust = Matcher.from_entries(entries, robust=True)
    for number in range(10):
        path = tmp_path / f"other-{number}.png"
        picture(900 + number, (320, 240)).save(path)
        assert robust.match_file(path) == []


@pytest.mark.skipif(not has_ffmpeg(), reason="ffmpeg is not installed")
def test_video_entries_match_reencoded_copy(tmp_path):
    from cosea.media.signals.vpdq import frames_to_json

    scenes = [picture(700 + i, (320, 240)) for i in range(4)]
    listed = make_video(tmp_path / "listed.mp4", [s for s in scenes for _ in range(2)], fps=1.0)
    frames = hash_file(listed, signals=("vpdq",)).vpdq
    entries = [StaticEntry(1, "videos", "vpdq", frames_to_json(frames), "known-abuse")]
    matcher = Matcher.from_entries(entries)
    copy = make_video(
        tmp_path / "copy.webm",
        [s.resize((256, 192)) for s in scenes for _ in range(2)],
        fps=1.0,
        codec="libvpx",
    )
    matches = matcher.match_file(copy)
    assert [(m.signal, m.list_name) for m in matches] == [("vpdq", "videos")]
    assert matches[0].distance <= 20
    other = make_video(tmp_path / "other.mp4", [picture(800 + i) for i in range(6)], fps=1.0)
    assert matcher.match_file(other) == []


def test_empty_list_argument_is_refused():
    with pytest.raises(NotFound):
        Matcher.for_lists([])


def test_pdq_arrays_are_exposed_for_other_capabilities():
    index = MatchIndex()
    index.add_entries([StaticEntry(1, "l", "pdq", "f" * 64)])
    assert index.pdq.codes(np.array([0]))[0].tobytes().hex() == "f" * 64
