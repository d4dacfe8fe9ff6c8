"""Reading a video's frame rate for the player's frame stepping."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

from microverse.human.videos import PROBE_PACKETS, frame_rate
from microverse.testing.studies import video_bytes

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize("kwargs,expected", [
    ({"fps": 8}, 8.0),
    ({"fps": 12, "suffix": ".mp4", "codec": "libx264"}, 12.0),
    ({"fps": 25, "suffix": ".mp4", "codec": "libx264"}, 25.0),
    # WebM stores milliseconds: frames 33 and 34 ms apart are still one constant rate
    ({"fps": NTSC}, float(NTSC)),
    ({"fps": NTSC, "suffix": ".mp4", "codec": "libx264"}, float(NTSC)),
    ({"fps": 8, "frames": 1}, 8.0),
])
def test_reads_the_real_rate(tmp_path, kwargs, expected):
    path = tmp_path / "v.bin"
    path.write_bytes(video_bytes(**{"frames": 12, **kwargs}))
    assert frame_rate(path) == expected


def test_a_long_video_with_b_frames_is_read_from_its_first_packets(tmp_path):
    path = tmp_path / "long.mp4"
    path.write_bytes(video_bytes(frames=PROBE_PACKETS + 60, fps=24, suffix=".mp4", codec="libx264"))
    assert frame_rate(path) == 24.0


@pytest.mark.parametrize("suffix,codec", [(".mp4", "libx264"), (".webm", "libvpx-vp9")])
def test_variable_rate_is_none_whatever_the_container_states(tmp_path, suffix, codec):
    path = tmp_path / f"vfr{suffix}"
    path.write_bytes(video_bytes(frames=12, fps=8, suffix=suffix, codec=codec, vfr=True))  # 20 / 60 ms frames
    assert frame_rate(path) is None


def test_unreadable_is_none(tmp_path):
    garbage = tmp_path / "0.mp4"
    garbage.write_bytes(b"not a video")
    assert frame_rate(garbage) is None
    assert frame_rate(tmp_path / "missing.mp4") is None


def test_cache_follows_the_file(tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(video_bytes(frames=4, fps=8, suffix=".mp4", codec="libx264"))
    assert frame_rate(path) == 8.0
    path.write_bytes(video_bytes(frames=4, fps=24, suffix=".mp4", codec="libx264"))
    os.utime(path, ns=(1, 1))  # a new version even where the clock is coarse
    assert frame_rate(path) == 24.0
