"""vPDQ: frame hashes through ffmpeg, serialisation, video matching (skips without ffmpeg)."""

from __future__ import annotations

import itertools
import json

import pytest
from imagegen import has_ffmpeg, make_video, picture

from cosea.media.hashing import hash_file
from cosea.media.signals import get_signal
from cosea.media.signals.vpdq import (
    VideoFrameHash,
    VideoUnavailable,
    frames_from_json,
    frames_to_json,
    video_match_percent,
    vpdq_hash_file,
)

needs_ffmpeg = pytest.mark.skipif(not has_ffmpeg(), reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def scenes():
    return [picture(40 + i, (320, 240)) for i in range(5)]


@pytest.fixture
def video(tmp_path, scenes):
    # Five scenes, each held two seconds at 2 fps: ten seconds of video.
    frames = [scene for scene in scenes for _ in range(4)]
    return make_video(tmp_path / "clip.mp4", frames, fps=2.0)


@needs_ffmpeg
def test_frames_hashed_with_timestamps_and_still_scenes_deduplicated(video):
    frames = vpdq_hash_file(video)
    # One frame a second for ten seconds, consecutive near-identical frames kept once.
    assert 5 <= len(frames) <= 7
    assert frames[0].timestamp == 0.0
    assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(frames))
    assert all(len(f.pdq) == 64 and 0 <= f.quality <= 100 for f in frames)
    everything = vpdq_hash_file(video, dedupe_distance=-1)
    assert len(everything) == 10


@needs_ffmpeg
def test_reencoded_copy_matches_and_other_video_does_not(tmp_path, video, scenes):
    original = vpdq_hash_file(video)
    copy = make_video(
        tmp_path / "copy.webm",
        [s.resize((240, 180)) for s in scenes for _ in range(4)],
        fps=2.0,
        codec="libvpx",
    )
    copy_frames = vpdq_hash_file(copy)
    query_pct, compared_pct = video_match_percent(copy_frames, original)
    assert query_pct >= 80 and compared_pct >= 80
    other = make_video(tmp_path / "other.mp4", [picture(90 + i) for i in range(8)], fps=1.0)
    query_pct, _ = video_match_percent(vpdq_hash_file(other), original)
    assert query_pct < 20
    signal = get_signal("vpdq")
    assert signal.distance(frames_to_json(copy_frames), frames_to_json(original)) <= 20


@needs_ffmpeg
def test_hash_file_records_vpdq_for_videos(video):
    result = hash_file(video, signals=("sha256", "vpdq"))
    assert result.kind == "video" and result.error is None
    assert result.vpdq and isinstance(result.vpdq[0], VideoFrameHash)
    record = result.to_dict()
    assert record["vpdq"][0].count(",") == 2
    assert json.loads(result.hash_for("vpdq"))[0] == record["vpdq"][0]


@needs_ffmpeg
def test_not_a_video_is_a_clear_error(tmp_path):
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"garbage" * 100)
    with pytest.raises(VideoUnavailable, match=r"fake\.mp4"):
        vpdq_hash_file(path)
    result = hash_file(path, signals=("sha256", "vpdq"))
    assert result.error and "fake.mp4" in result.error and result.sha256


def test_missing_ffmpeg_skips_with_reason(tmp_path, monkeypatch):
    import cosea.media.signals.vpdq as vpdq

    monkeypatch.setattr(vpdq.shutil, "which", lambda name: None)
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    result = hash_file(path, signals=("sha256", "vpdq"))
    assert result.vpdq is None and result.error is None
    assert any("ffmpeg" in note for note in result.notes)
    with pytest.raises(VideoUnavailable, match="ffmpeg"):
        vpdq.vpdq_hash_file(path)


def test_serialisation_is_threatexchange_compatible():
    frames = [VideoFrameHash("a" * 64, 100, 0.0), VideoFrameHash("b" * 64, 73, 1.5)]
    text = frames_to_json(frames)
    assert json.loads(text) == [f"{'a' * 64},100,0.000", f"{'b' * 64},73,1.500"]
    assert frames_from_json(text) == frames
    signal = get_signal("vpdq")
    assert signal.validate(text) == text
    for bad in ("not json", "[]", '["abc,1,0"]', f'["{"a" * 64},101,0"]', f'["{"a" * 64},50,-1"]'):
        with pytest.raises(ValueError):
            signal.validate(bad)
