"""Reading a video's frame rate for the player's frame stepping."""

from __future__ import annotations

import os

import pytest

from microverse.human.videos import frame_rate
from microverse.testing.studies import video_bytes


@pytest.mark.parametrize("kwargs,expected", [
    ({"fps": 8}, 8.0),
    ({"fps": 12, "suffix": ".mp4", "codec": "libx264"}, 12.0),
    ({"fps": 25, "suffix": ".mp4", "codec": "libx264"}, 25.0),
])
def test_reads_the_real_rate(tmp_path, kwargs, expected):
    path = tmp_path / "v.bin"
    path.write_bytes(video_bytes(frames=6, **kwargs))
    assert frame_rate(path) == expected


def test_unreadable_or_variable_rate_is_none(tmp_path):
    garbage = tmp_path / "0.mp4"
    garbage.write_bytes(b"not a video")
    assert frame_rate(garbage) is None
    assert frame_rate(tmp_path / "missing.mp4") is None
    variable = tmp_path / "vfr.mp4"
    variable.write_bytes(video_bytes(frames=8, fps=8, suffix=".mp4", codec="libx264", vfr=True))  # 20/60 ms frames
    assert frame_rate(variable) is None


def test_cache_follows_the_file(tmp_path):
    path = tmp_path / "v.mp4"
    path.write_bytes(video_bytes(frames=4, fps=8, suffix=".mp4", codec="libx264"))
    assert frame_rate(path) == 8.0
    path.write_bytes(video_bytes(frames=4, fps=24, suffix=".mp4", codec="libx264"))
    os.utime(path, ns=(1, 1))  # a new version even where the clock is coarse
    assert frame_rate(path) == 24.0
