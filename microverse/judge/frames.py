"""Frames a judge sees: N frames at the centres of N equal segments, decoded by seeking.

The paper protocol (and the official evaluator) shows the judge 8 frames; we take frame
``int(i*step + step/2)`` with ``step = frames/N`` — the centre of segment *i* — so we
pick the same frames as the official code. Unlike it we (a) seek instead of reading the
container through OpenCV, (b) decode only up to the last target, (c) convert only the
chosen frames, and (d) resize and JPEG-encode each frame once per video: the three
dimension calls share one :class:`FrameSet`.

Problems with a file are raised as :class:`BadVideo` (a reason per file), never as a crash,
so a run goes on with the other videos.
"""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from microverse.judge.providers.base import ImageURLs, decode_data_url, jpeg_data_url

#: A video whose frames stop before this share of its declared length is called truncated.
TRUNCATED_SHARE = 0.9


class BadVideo(Exception):
    """A video that cannot be judged, with the reason (unreadable, empty, truncated, no video stream)."""


@dataclass(frozen=True)
class FrameSettings:
    """How frames are taken; part of a judgment's settings, so runs with other settings never mix."""

    count: int = 8
    max_side: int = 1024
    """Longest side in pixels after resizing (never upscaled); 0 keeps the native size."""
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        if not 1 <= self.count <= 64:
            raise ValueError("frame count must be between 1 and 64")
        if self.max_side < 0 or 0 < self.max_side < 32:
            raise ValueError("frame size must be 0 (native) or at least 32 pixels")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError("JPEG quality must be between 1 and 100")

    def describe(self) -> dict[str, int]:
        return {"frames": self.count, "max_side": self.max_side, "jpeg_quality": self.jpeg_quality}


@dataclass
class FrameSet:
    """One video's encoded frames, shared by all its judge calls."""

    image_urls: ImageURLs
    width: int
    height: int
    times_s: tuple[float, ...]
    _smaller: "FrameSet | None" = field(default=None, repr=False)

    @property
    def payload_bytes(self) -> int:
        return sum(len(url) for url in self.image_urls)

    def smaller(self) -> "FrameSet | None":
        """The frames at half the size and lower quality (for HTTP 413), computed once; None below 128 px."""
        if self._smaller is None:
            if max(self.width, self.height) < 256:
                return None
            from PIL import Image

            width, height = max(1, self.width // 2), max(1, self.height // 2)
            urls = []
            for url in self.image_urls:
                image = Image.open(io.BytesIO(decode_data_url(url)))
                urls.append(_encode(image.resize((width, height), Image.Resampling.BILINEAR), 75))
            self._smaller = FrameSet(ImageURLs(urls), width, height, self.times_s)
        return self._smaller


def target_times(n_frames: int, rate: Fraction | None, duration_s: float, count: int) -> list[float]:
    """Seconds (from the stream start) of the centres of ``count`` equal segments.

    With a frame count and rate we use the official frame indices; otherwise the duration.
    """
    if n_frames > 0 and rate:
        step = n_frames / count
        return [int(i * step + step / 2) / float(rate) for i in range(count)]
    return [(i + 0.5) * duration_s / count for i in range(count)]


def extract_frames(path: str | Path, settings: FrameSettings = FrameSettings()) -> FrameSet:
    """Decode ``settings.count`` frames by seeking, then resize and encode them once."""
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise BadVideo(f"cannot open: {_short(exc)}") from None
    with container:
        if not container.streams.video:
            raise BadVideo("no video stream" + (" (audio only)" if container.streams.audio else ""))
        stream = container.streams.video[0]
        # One thread per video: the engine runs several videos in parallel, and FFmpeg's own
        # threads would only add overhead (and hide their CPU time from per-video accounting).
        stream.thread_type = "NONE"
        rate = stream.average_rate or stream.guessed_rate
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        duration = _duration_s(container, stream)
        n_frames = stream.frames or (round(duration * float(rate)) if rate and duration else 0)
        if n_frames <= 0 and duration <= 0:
            raise BadVideo("empty: no frames and no duration")
        half = 0.5 / float(rate) if rate else 0.0
        targets = target_times(n_frames, rate, duration, settings.count)
        try:
            frames = _decode_targets(container, stream, [start + t for t in targets], half)
        except av.FFmpegError as exc:
            raise BadVideo(f"cannot decode: {_short(exc)}") from None
        if not frames:
            raise BadVideo("empty: no frame could be decoded")
        reached = frames[-1][0] - start
        if reached + 2 * half < TRUNCATED_SHARE * targets[-1]:
            raise BadVideo(f"truncated: frames stop at {reached:.2f} s of a declared {duration:.2f} s")
        return _encode_all(frames, settings)


def _duration_s(container, stream) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def _decode_targets(container, stream, targets: list[float], half: float) -> list[tuple[float, object]]:
    """(time, frame) for each target time, decoding as little as the codec allows.

    A demux-only pass (no decoding) lists every packet's timestamp and keyframe flag, so
    each target maps to an exact frame. Decoding then starts at the keyframe before a
    target (seeking only when that keyframe lies beyond what was already decoded) and
    skips non-reference frames that are not targets (``skip_frame=NONREF``, switched per
    packet), which is exact — reference frames are always decoded — and roughly halves the
    work on B-frame streams. FFmpeg offers these pieces but no "decode these frames"
    call, hence this loop.
    """
    time_base = stream.time_base
    index = [(packet.pts, packet.is_keyframe) for packet in container.demux(stream) if packet.pts is not None]
    if not index:
        return []
    all_pts = sorted(pts for pts, _ in index)
    times = [float(pts * time_base) for pts in all_pts]
    keyframes = sorted(pts for pts, key in index if key) or all_pts[:1]
    wanted = [all_pts[min(bisect.bisect_left(times, target - half), len(all_pts) - 1)] for target in targets]
    needed = set(wanted)
    decoded: dict[int, object] = {}
    context = stream.codec_context
    packets = None
    gop_start = None
    for target in sorted(needed):
        if target in decoded:
            continue
        key = keyframes[max(0, bisect.bisect_right(keyframes, target) - 1)]
        if packets is None or gop_start is None or key > gop_start:
            container.seek(key, stream=stream, backward=True, any_frame=False)
            context.flush_buffers()
            packets, gop_start = container.demux(stream), key
        for packet in packets:
            if packet.pts is None and packet.size == 0:
                frames = context.decode(None)  # end of stream: drain the reorder buffer
            else:
                context.skip_frame = "DEFAULT" if packet.pts in needed else "NONREF"
                frames = context.decode(packet)
            for frame in frames:
                if frame.pts in needed:
                    decoded[frame.pts] = frame
            if target in decoded:
                break
        else:
            packets = None
    context.skip_frame = "DEFAULT"
    return [(float(pts * time_base), decoded[pts]) for pts in wanted if pts in decoded]


def _encode_all(frames: list[tuple[float, object]], settings: FrameSettings) -> FrameSet:
    from PIL import Image

    first = frames[0][1]
    width, height = _fit(first.width, first.height, settings.max_side)
    urls, times, cache = [], [], {}
    for time_s, frame in frames:
        key = id(frame)
        if key not in cache:  # the same frame chosen twice (very short video) is encoded once
            if (width, height) != (frame.width, frame.height):
                # Scale in YUV first, then convert the smaller frame: half the cost of swscale's
                # combined scale+convert path on this kind of input.
                frame = frame.reformat(width=width, height=height)
            # to_ndarray + fromarray, not to_image: PyAV's to_image copies row by row (~3 ms per
            # 832×480 frame against 0.3 ms), the largest single cost of extraction before this.
            cache[key] = _encode(Image.fromarray(frame.to_ndarray(format="rgb24")), settings.jpeg_quality)
        urls.append(cache[key])
        times.append(time_s)
    return FrameSet(ImageURLs(urls), width, height, tuple(times))


def _fit(width: int, height: int, max_side: int) -> tuple[int, int]:
    if max_side <= 0 or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    # Even sizes: 4:2:0 chroma needs them, and odd sizes push swscale onto a slow path.
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _encode(image, quality: int) -> str:
    buffer = io.BytesIO()
    (image if image.mode == "RGB" else image.convert("RGB")).save(buffer, format="JPEG", quality=quality)
    return jpeg_data_url(buffer.getvalue())


def _short(exc: BaseException) -> str:
    text = (getattr(exc, "strerror", None) or str(exc)).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


__all__ = ["BadVideo", "FrameSet", "FrameSettings", "extract_frames", "target_times"]
