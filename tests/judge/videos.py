"""Tiny videos made with PyAV for the tests and the throughput benchmark.

Frame *i* is a flat grey of level ``level(i)`` so a test can tell from a decoded JPEG which
frame the extractor picked.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def level(i: int) -> int:
    return (i * 37) % 200 + 20


def make_video(path: Path, *, width: int = 64, height: int = 64, frames: int = 16, fps: int = 8,
               codec: str = "libx264", noise: bool = False, options: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = options or {}
        for i in range(frames):
            array = np.full((height, width, 3), level(i), dtype=np.uint8)
            if noise:
                array = (array + rng.integers(0, 40, size=array.shape, dtype=np.uint8)).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_truncated(path: Path, **kw) -> Path:
    make_video(path, **kw)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path
