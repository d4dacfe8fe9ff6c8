"""Frame extraction: the official frame indices, encoded once, bad files reported."""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from videos import level, make_truncated, make_video

from microverse.judge.frames import BadVideo, FrameSettings, extract_frames, target_times
from microverse.judge.providers import decode_data_url
from microverse.testing.videos import make_audio_only


def grey(url: str) -> float:
    return float(np.asarray(Image.open(io.BytesIO(decode_data_url(url))).convert("L")).mean())


def test_target_times_are_segment_centres():
    assert target_times(16, Fraction(8), 2.0, 8) == [i / 8 for i in (1, 3, 5, 7, 9, 11, 13, 15)]
    assert target_times(81, Fraction(16), 5.0625, 8) == [int(i * 81 / 8 + 81 / 16) / 16 for i in range(8)]
    assert target_times(0, None, 4.0, 4) == [0.5, 1.5, 2.5, 3.5]


@pytest.mark.parametrize("codec,frames,suffix,options", [
    ("libx264", 16, ".mp4", None),
    ("mpeg4", 40, ".mp4", None),
    ("libx264", 200, ".mp4", {"g": "10", "bf": "3"}),   # many keyframes: the seeking path
    ("libx264", 97, ".mkv", {"g": "7"}),                # odd counts, Matroska timestamps (1 ms)
    ("libvpx-vp9", 24, ".webm", None),
])
def test_picks_the_official_frames(tmp_path, codec, frames, suffix, options):
    video = make_video(tmp_path / f"1{suffix}", frames=frames, codec=codec, options=options)
    result = extract_frames(video)
    step = frames / 8
    expected = [int(i * step + step / 2) for i in range(8)]
    assert [round(t * 8) for t in result.times_s] == expected
    assert [round(grey(u)) for u in result.image_urls] == pytest.approx([level(i) for i in expected], abs=3)
    assert (result.width, result.height) == (64, 64)


def test_resize_and_quality(tmp_path):
    video = make_video(tmp_path / "1.mp4", width=832, height=480, frames=8, noise=True)
    big = extract_frames(video, FrameSettings(count=2, max_side=0, jpeg_quality=95))
    small = extract_frames(video, FrameSettings(count=2, max_side=416, jpeg_quality=50))
    assert (big.width, big.height) == (832, 480) and (small.width, small.height) == (416, 240)
    assert Image.open(io.BytesIO(decode_data_url(small.image_urls[0]))).size == (416, 240)
    assert small.payload_bytes < big.payload_bytes / 4
    half = big.smaller()
    assert (half.width, half.height) == (416, 240) and half.payload_bytes < big.payload_bytes
    assert big.smaller() is half


def test_short_video_reuses_frames(tmp_path):
    result = extract_frames(make_video(tmp_path / "1.mp4", frames=3, fps=8))
    assert len(result.image_urls) == 8 and len(set(result.image_urls)) == 3


@pytest.mark.parametrize("make,reason", [
    (lambda p: p.write_bytes(b""), "cannot open"),
    (lambda p: p.write_bytes(b"\x00garbage" * 200), "cannot open"),
    (make_audio_only, r"no video stream \(audio only\)"),
    (lambda p: make_truncated(p, frames=100, noise=True), "cannot open"),  # mp4 index at the end: lost
    (lambda p: make_truncated(p.with_suffix(".mkv"), frames=100, noise=True).rename(p), "truncated: frames stop"),
])
def test_bad_videos_are_reported(tmp_path, make, reason):
    path = tmp_path / "7.mp4"
    make(path)
    with pytest.raises(BadVideo, match=reason):
        extract_frames(path)


def test_settings_are_validated():
    for bad in (dict(count=0), dict(max_side=10), dict(jpeg_quality=101)):
        with pytest.raises(ValueError):
            FrameSettings(**bad)
