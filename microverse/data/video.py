"""Reading videos with PyAV: probe facts, a sequential frame stream, and seeking samplers.

Why by hand: PyAV is the decoder; what no library gives is *frame-index* addressing that
stays exact with seeking (a clip is a frame range), and the rule that sampling a few
frames must seek to the nearest keyframe instead of decoding the whole file.
Frames come out upright (display rotation applied) as RGB uint8 arrays.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ts", ".flv", ".wmv"}


class VideoError(Exception):
    """A file that cannot be used as a video; the message becomes the manifest's reason."""


@dataclasses.dataclass(frozen=True)
class Probe:
    """What the pipeline needs to know about a video before touching its frames."""

    width: int  # upright (after rotation)
    height: int
    fps: float
    frames: int
    duration: float
    rotation: int  # degrees counter-clockwise the stored frames are turned for display
    codec: str
    pix_fmt: str
    bit_depth: int
    vfr: bool
    has_audio: bool

    def notes(self) -> list[str]:
        """Facts that change how frames are read but do not disqualify the file."""
        out = []
        if self.rotation:
            out.append(f"rotated {self.rotation} degrees (frames turned upright on decode)")
        if self.bit_depth > 8:
            out.append(f"{self.bit_depth}-bit {self.pix_fmt} (decoded to 8-bit RGB)")
        return out


def content_hash(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file bytes, streamed (memory stays flat on large files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _open(path: Path):
    import av

    if path.stat().st_size == 0:
        raise VideoError("empty file (0 bytes)")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise VideoError(f"unreadable file ({exc.__class__.__name__}: {exc.strerror or exc})") from None
    if not container.streams.video:
        kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
        container.close()
        raise VideoError(f"no video stream (audio-only? streams: {kinds})")
    return container


def _is_vfr(container, stream, limit: int = 600) -> bool:
    """Demux (no decode) the first packets and look for uneven frame spacing."""
    pts = []
    for packet in container.demux(stream):
        if packet.pts is not None:
            pts.append(packet.pts)
        if len(pts) >= limit:
            break
    container.seek(0)
    if len(pts) < 3:
        return False
    steps = np.diff(np.sort(np.asarray(pts, dtype=np.int64)))
    steps = steps[steps > 0]
    if steps.size < 2:
        return False
    median = float(np.median(steps))
    # Variable rate means many uneven steps; one or two odd steps are a glitch (a damaged packet,
    # an edit point), which the decoder handles and which does not move frame numbers much.
    uneven = np.abs(steps - median) > 0.25 * median
    return bool(uneven.mean() > 0.1)


def probe(path: Path) -> Probe:
    """Open, demux a little and decode one frame: enough to trust the file or say why not."""
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise VideoError("no frame rate in the stream")
        vfr = _is_vfr(container, stream)
        try:
            first = next(container.decode(stream))
        except (StopIteration, av.error.FFmpegError) as exc:
            raise VideoError(f"no decodable frame ({exc.__class__.__name__})") from None
        rotation = int(round(first.rotation or 0)) % 360
        if stream.duration is not None and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        else:
            duration = 0.0
        frames = stream.frames or int(round(duration * float(rate)))
        if frames <= 0:
            raise VideoError("video stream has no frames")
        duration = duration or frames / float(rate)
        pix_fmt = ctx.pix_fmt or first.format.name
        bit_depth = max(c.bits for c in av.VideoFormat(pix_fmt).components)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        return Probe(width=width, height=height, fps=float(rate), frames=int(frames), duration=round(duration, 6),
                     rotation=rotation, codec=ctx.name, pix_fmt=pix_fmt, bit_depth=int(bit_depth), vfr=vfr,
                     has_audio=bool(container.streams.audio))
    except av.error.FFmpegError as exc:
        raise VideoError(f"decoder error ({exc.__class__.__name__}: {exc})") from None
    finally:
        container.close()


def _upright(array: np.ndarray, rotation: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(array, k=rotation // 90)) if rotation else array


def _index(frame, stream, start_pts: int, fps: Fraction) -> int:
    """Frame number from the timestamp, so seeking and sequential decoding agree exactly."""
    if frame.pts is None:
        return -1
    return int(round((frame.pts - start_pts) * stream.time_base * fps))


def _convert(frame, width: int | None, fmt: str, interpolation: str | None = None) -> np.ndarray:
    """Upright array of ``frame``, scaled in swscale so that the *upright* width is ``width``."""
    rotation = int(round(frame.rotation or 0)) % 360
    w = h = None
    if width is not None:
        across = frame.height if rotation in (90, 270) else frame.width  # stored side that ends up horizontal
        scale = width / across
        w = max(2, int(round(frame.width * scale / 2)) * 2)
        h = max(2, int(round(frame.height * scale / 2)) * 2)
    return _upright(frame.to_ndarray(format=fmt, width=w, height=h, interpolation=interpolation), rotation)


def _plane(plane) -> np.ndarray:
    """A zero-copy view of one 8-bit picture plane (rows padded to ``line_size``)."""
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]


def _fast_bgr(frame, width: int) -> np.ndarray:
    """Small BGR image for analysis straight from the 4:2:0 planes.

    Why by hand: swscale converts the whole 720p picture to RGB before shrinking it, which costs
    more than decoding; resizing the three planes first (OpenCV, bilinear, as PySceneDetect's own
    ``downscale`` does) and converting the small image is ~2.5x cheaper. Other pixel formats
    (10-bit, 4:2:2, ...) take the swscale path.
    """
    import cv2

    height = max(2, int(round(frame.height * width / frame.width / 2)) * 2)
    y, u, v = (cv2.resize(_plane(p), (width, height), interpolation=cv2.INTER_LINEAR) for p in frame.planes[:3])
    return cv2.cvtColor(cv2.merge([y, u, v]), cv2.COLOR_YUV2BGR)


def _seek(container, stream, frame_index: int, fps: Fraction) -> None:
    start_pts = stream.start_time or 0
    container.seek(start_pts + int(Fraction(frame_index) / fps / stream.time_base), stream=stream, backward=True)


def iter_frames(path: Path, *, width: int | None = None, fmt: str = "rgb24", start: int = 0,
                end: int | None = None, threads: bool = True, fast: bool = False) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, array)`` for every frame in ``[start, end)``, downscaled in swscale.

    Downscaling in the decoder's converter (not numpy) is what makes full-speed splitting
    possible: the colour conversion of a 720p frame costs more than the detector. ``fast``
    is for analysis at a small ``width`` in BGR: the H.264/HEVC deblocking filter is skipped and
    4:2:0 frames are shrunk plane by plane (:func:`_fast_bgr`); together ~2x on 720p. The
    blocking this leaves is invisible at that scale, so cuts do not move (the tests check exact
    cuts with it on).
    """
    import av

    container = _open(path)
    try:
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        if fast:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        interpolation = "FAST_BILINEAR" if fast else None
        fps = Fraction(stream.average_rate or stream.guessed_rate)
        start_pts = stream.start_time or 0
        if start > 0:
            _seek(container, stream, start, fps)
        counter = start - 1
        for frame in container.decode(stream):
            idx = _index(frame, stream, start_pts, fps)
            counter = idx if idx >= 0 else counter + 1  # no timestamps: count
            if counter < start:
                continue
            if end is not None and counter >= end:
                break
            if fast and width and fmt == "bgr24" and frame.format.name in ("yuv420p", "yuvj420p"):
                rotation = int(round(frame.rotation or 0)) % 360
                stored = width if rotation in (0, 180) else max(2, int(round(frame.width * width / frame.height)))
                yield counter, _upright(_fast_bgr(frame, stored), rotation)
            else:
                yield counter, _convert(frame, width, fmt, interpolation)
    except av.error.FFmpegError as exc:
        raise VideoError(f"decoder error while reading frames ({exc.__class__.__name__}: {exc})") from None
    finally:
        container.close()


def sample_frames(path: Path, indices: Sequence[int], *, width: int | None = None, fmt: str = "rgb24",
                  pairs: bool = False) -> list[np.ndarray]:
    """Decode only the frames at ``indices``, seeking to the keyframe before each far one.

    With ``pairs`` each index also yields its successor (for optical flow): the result holds
    ``2 * len(indices)`` arrays. Sequential decoding continues when the next wanted frame is
    under two seconds ahead (cheaper than a seek back to its keyframe). Past the last frame
    the last decoded frame stands in (container frame counts can overstate by one or two).
    """
    import av

    order = sorted(set(int(i) for i in indices))
    wanted = sorted({j for i in order for j in ((i, i + 1) if pairs else (i,))})
    out: dict[int, np.ndarray] = {}
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate or stream.guessed_rate)
        start_pts = stream.start_time or 0
        gap = max(1, int(2 * fps))
        frames = None
        pos, current = -1, None  # last decoded frame index and its array
        for target in wanted:
            if current is not None and pos >= target:  # timestamps overshot: reuse
                out[target] = current
                continue
            if frames is None or target - pos > gap:
                _seek(container, stream, target, fps)
                frames = container.decode(stream)
            for frame in frames:
                idx = _index(frame, stream, start_pts, fps)
                pos = idx if idx >= 0 else pos + 1
                if pos >= target:
                    current = _convert(frame, width, fmt)
                    break
            else:
                frames = None
                if current is None:
                    raise VideoError(f"frame {target} could not be decoded")
            out[target] = current
    except av.error.FFmpegError as exc:
        raise VideoError(f"decoder error while sampling ({exc.__class__.__name__}: {exc})") from None
    finally:
        container.close()
    return [out[j] for i in order for j in ((i, i + 1) if pairs else (i,))]


def even_indices(start: int, end: int, n: int) -> list[int]:
    """``n`` frame indices spread evenly over ``[start, end)``, centred in their slots."""
    length = max(1, end - start)
    n = max(1, min(n, length))
    return [start + int((k + 0.5) * length / n) for k in range(n)]
