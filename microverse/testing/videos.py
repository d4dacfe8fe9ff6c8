"""Synthetic videos with known ground truth: scene cuts, letterbox bars, burned-in text, stills.

Each scene is a smooth textured colour field (a random 6x6 colour grid, bilinearly upscaled,
plus mid-frequency texture) that drifts a few pixels per frame: adjacent frames of one scene are nearly identical, frames of
different scenes are not, so the right cut positions are known exactly. Use them to dry-run a
data pipeline (``microverse data ingest/split/filter``) offline, or as test inputs::

    make_video(Path("demo.mp4"), [Scene(48, seed=1), Scene(48, seed=2, text="SUBTITLE")], bars=(12, 12, 0, 0))

PyAV, NumPy and Pillow are imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path


@dataclasses.dataclass
class Scene:
    frames: int
    seed: int
    static: bool = False  # no motion at all (a still / slideshow frame)
    text: str | None = None  # burned-in subtitle


def _field(seed: int, width: int, height: int):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    grid = rng.integers(50, 206, size=(6, 6, 3), dtype=np.uint8)
    big = np.asarray(Image.fromarray(grid).resize((width * 2, height * 2), Image.BILINEAR), dtype=np.int16)
    # mid-frequency texture: optical flow needs some (a pure gradient has no measurable motion)
    fine = rng.integers(0, 256, size=(max(2, height // 6), max(2, width // 6)), dtype=np.uint8)
    texture = np.asarray(Image.fromarray(fine).resize((width * 2, height * 2), Image.BICUBIC), dtype=np.int16)
    return np.clip(big + (texture[:, :, None] - 128) // 3, 0, 255).astype(np.uint8)


def _font(size: int):
    from PIL import ImageFont

    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def render(scene: Scene, t: int, width: int, height: int, field):
    """Frame ``t`` of ``scene`` (RGB uint8, height x width) cut from its ``field``."""
    import numpy as np
    from PIL import Image, ImageDraw

    shift = 0 if scene.static else 3 * t
    x = shift % width
    y = (shift // 2) % height
    img = field[y:y + height, x:x + width]
    if scene.text:
        pil = Image.fromarray(np.ascontiguousarray(img))
        draw = ImageDraw.Draw(pil)
        size = max(12, height // 9)
        font = _font(size)
        box = draw.textbbox((0, 0), scene.text, font=font)
        tw, th = box[2] - box[0], box[3] - box[1]
        pos = ((width - tw) // 2, height - th - height // 8)
        draw.rectangle((pos[0] - 6, pos[1] - 4, pos[0] + tw + 6, pos[1] + th + 10), fill=(0, 0, 0))
        draw.text(pos, scene.text, fill=(255, 255, 255), font=font)
        img = np.asarray(pil)
    return img


def _encode(container, stream, frames: Iterable) -> None:
    """Encode every frame, flush the encoder, close the file."""
    for frame in frames:
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


def make_video(path: Path, scenes: list[Scene], *, width: int = 160, height: int = 96, fps: int = 24,
               bars: tuple[int, int, int, int] = (0, 0, 0, 0), codec: str = "libx264",
               pix_fmt: str = "yuv420p", rotation: int = 0, vfr: bool = False, gop: int = 12) -> Path:
    """Write the scenes back to back; ``bars`` = black (top, bottom, left, right) pixels around the picture.

    ``rotation`` sets the display-matrix rotation, ``vfr`` alternates 20 ms and 60 ms frame
    intervals, ``codec="libx265", pix_fmt="yuv420p10le"`` makes a 10-bit file.
    """
    import av
    import numpy as np

    top, bottom, left, right = bars
    inner_w, inner_h = width - left - right, height - top - bottom
    container = av.open(str(path), "w")
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
    if codec == "libx265":
        stream.options = {"x265-params": "log-level=error"}
    else:
        stream.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"}
    if vfr:
        stream.codec_context.time_base = Fraction(1, 1000)
    if rotation:
        stream.set_display_rotation(rotation)

    def frames():
        index = clock_ms = 0
        for scene in scenes:
            field = _field(scene.seed, inner_w, inner_h)
            for t in range(scene.frames):
                canvas = np.zeros((height, width, 3), dtype=np.uint8)
                canvas[top:top + inner_h, left:left + inner_w] = render(scene, t, inner_w, inner_h, field)
                frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
                if pix_fmt != "yuv420p":
                    frame = frame.reformat(format=pix_fmt)
                if vfr:  # alternate short and long frame intervals
                    frame.pts = clock_ms
                    frame.time_base = Fraction(1, 1000)
                    clock_ms += 20 if index % 2 == 0 else 60
                else:
                    frame.pts = index
                yield frame
                index += 1

    _encode(container, stream, frames())
    return path


def make_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC file with no video stream (a thing users drop into video folders)."""
    import av
    import numpy as np

    container = av.open(str(path), "w")
    stream = container.add_stream("aac", rate=16000)
    samples, chunk = int(16000 * seconds), 1024

    def frames():
        for start in range(0, samples, chunk):
            data = (0.1 * np.sin(np.arange(start, start + chunk) / 10)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="mono")
            frame.sample_rate = 16000
            frame.pts = start
            yield frame

    _encode(container, stream, frames())
    return path


def make_tinted(path: Path, color: tuple[int, int, int], *, frames: int = 8, size: int = 32, fps: int = 8,
                seed: int = 0) -> Path:
    """A small clip of one colour with a little noise (two such colours make an easy labelled set)."""
    import av
    import numpy as np

    rng = np.random.default_rng(seed)
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width = stream.height = size
    stream.pix_fmt = "yuv420p"

    def noisy():
        for index in range(frames):
            noise = rng.integers(-20, 21, size=(size, size, 3))
            img = np.clip(np.asarray(color)[None, None, :] + noise, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = index
            yield frame

    _encode(container, stream, noisy())
    return path
