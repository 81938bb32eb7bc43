"""The hashing API: files, streams, bytes, folders in parallel, records."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from imagegen import encoded, picture

from cosea.media.hashing import (
    FileHashes,
    hash_bytes,
    hash_file,
    hash_paths,
    hash_stream,
    iter_files,
    normalise_signals,
)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "media"
    (root / "sub" / "deeper").mkdir(parents=True)
    picture(1).save(root / "a.jpg", quality=90)
    picture(2).save(root / "sub" / "b.png")
    (root / "sub" / "deeper" / "c.txt").write_text("plain text")
    (root / "sub" / "deeper" / "d.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    return root


def test_hash_file_all_signals(folder):
    path = folder / "a.jpg"
    data = path.read_bytes()
    result = hash_file(path)
    assert result.path == str(path) and result.size == len(data) and result.kind == "image"
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert result.sha1 == hashlib.sha1(data).hexdigest()
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert len(result.pdq) == 64 and 0 <= result.pdq_quality <= 100
    assert result.error is None


def test_signal_selection(folder):
    result = hash_file(folder / "a.jpg", signals=("sha256",))
    assert result.sha256 and result.md5 is None and result.pdq is None
    result = hash_file(folder / "a.jpg", signals="pdq")
    assert result.pdq and result.sha256 is None and result.size is not None
    with pytest.raises(KeyError, match="unknown signal"):
        normalise_signals("pdq,bogus")
    with pytest.raises(ValueError, match="no signal"):
        normalise_signals(" , ")


def test_stream_and_bytes_equal_file(folder):
    path = folder / "sub" / "b.png"
    data = path.read_bytes()
    from_file = hash_file(path)
    from_stream = hash_stream(io.BytesIO(data), name="b.png")
    from_bytes = hash_bytes(data, name="b.png")
    for result in (from_stream, from_bytes):
        assert (result.sha256, result.md5, result.pdq, result.size) == (
            from_file.sha256,
            from_file.md5,
            from_file.pdq,
            from_file.size,
        )
    text = hash_stream(io.BytesIO(b"x" * 3_000_000), name="big.bin")
    assert text.sha256 == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    assert text.size == 3_000_000


def test_unreadable_file_is_recorded(tmp_path):
    result = hash_file(tmp_path / "missing.jpg")
    assert result.error and "missing.jpg" in result.error and "cannot read" in result.error


def test_iter_files_recursive_sorted(folder):
    names = [p.relative_to(folder).as_posix() for p in iter_files([folder])]
    assert names == ["a.jpg", "sub/b.png", "sub/deeper/c.txt", "sub/deeper/d.jpg"]


@pytest.mark.parametrize("workers", [1, 2])
def test_hash_paths_parallel_in_order(folder, workers):
    results = list(hash_paths([folder], workers=workers))
    assert [r.path.rsplit("/", 1)[-1] for r in results] == ["a.jpg", "b.png", "c.txt", "d.jpg"]
    assert results[0].pdq and results[1].pdq
    assert results[2].kind is None and results[2].pdq is None
    assert results[3].error and "d.jpg" in results[3].error
    assert results[0].to_dict() == hash_file(folder / "a.jpg").to_dict()


def test_record_round_trip(folder):
    result = hash_file(folder / "a.jpg")
    record = json.loads(json.dumps(result.to_dict()))
    assert set(record) >= {"path", "size", "kind", "md5", "sha1", "sha256", "pdq", "pdq_quality"}
    assert FileHashes.from_dict(record) == result
    assert result.hash_for("pdq") == result.pdq and result.hash_for("vpdq") is None


def test_png_and_jpeg_bytes_of_same_picture_hash_close():
    from cosea.media.signals.pdq import hamming

    image = picture(9, (400, 300))
    png = hash_bytes(encoded(image, "PNG"))
    jpeg = hash_bytes(encoded(image, "JPEG", quality=80))
    assert hamming(png.pdq, jpeg.pdq) <= 16
