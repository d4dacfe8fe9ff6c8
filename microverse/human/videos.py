"""Find a model's video for a task, and refuse any path outside the configured video folders.

Videos are looked up the way the rest of the toolkit writes them, ``<folder>/<index>.mp4``
(any common video suffix; ``task_<index>`` and zero padding accepted). The web server
never takes a path from a request: it takes an item key, looks the path up in the study,
and checks it with :func:`inside_folders` before serving, so a tampered database cannot
make it serve ``/etc/passwd`` either.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from microverse.errors import MicroverseError

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".m4v", ".avi", ".gif")
_STEM = re.compile(r"^(?:task[_-]?)?0*(\d+)$", re.IGNORECASE)


def index_videos(folder: Path) -> dict[int, Path]:
    """Task index -> video path for every video named by its task index in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MicroverseError("video folder not found", file=str(folder),
                              fix="pass MODEL=FOLDER where FOLDER holds <task index>.mp4 files")
    found: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        match = _STEM.match(path.stem)
        if match and path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
            found.setdefault(int(match.group(1)), path.resolve())
    return found


def inside_folders(path: str | Path, folders: list[str | Path]) -> Path | None:
    """The resolved file if it lies inside one of ``folders`` (symlinks resolved), else None."""
    try:
        resolved = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    for folder in folders:
        root = Path(folder).resolve()
        if resolved.is_relative_to(root) and resolved.is_file():
            return resolved
    return None


PROBE_PACKETS = 400  # timestamps read per file: a 16 fps Wan video has 81 frames; long videos need no more
REORDER_DEPTH = 16


def frame_rate(path: str | Path) -> float | None:
    """The constant frame rate of ``path`` in frames per second, or None where it cannot be trusted.

    The container's stated rate is checked against the frames' own timestamps (the first
    :data:`PROBE_PACKETS` packets, demuxed, not decoded): a WebM states its nominal rate even
    when its frames come at irregular times. None means: unreadable file, no video stream,
    no rate, or a variable rate (frame intervals differing by more than a timestamp tick and
    1%, or a stated rate more than 1% off the measured one). The player then turns frame
    stepping off instead of guessing, so a step never lands between frames or skips one.
    Cached per file version (path, size, mtime): an item page is rendered on every click.
    """
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return _probe_rate(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _probe_rate(path: str, size: int, mtime_ns: int) -> float | None:
    import av  # core dependency; lazy so importing the study code stays cheap

    try:
        with av.open(path) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            stated = stream.average_rate or stream.guessed_rate or stream.base_rate
            tick = float(stream.time_base) if stream.time_base else 0.0
            times = []
            for packet in container.demux(stream):
                if packet.pts is not None:
                    times.append(float(packet.pts * packet.time_base))
                if len(times) >= PROBE_PACKETS:
                    break
    except (av.FFmpegError, OSError, ValueError):
        return None
    times.sort()  # packets come in decoding order; B-frames make it differ from display order
    if len(times) >= PROBE_PACKETS:
        # cut off mid-stream: the last few frames in display order may not be decoded yet
        # (reordering reaches at most 16 frames in H.264/HEVC), which would look like a gap
        times = times[:-REORDER_DEPTH]
    steps = [b - a for a, b in zip(times, times[1:])]
    if not steps:
        return float(stated) if stated and stated > 0 else None
    measured = len(steps) / (times[-1] - times[0]) if times[-1] > times[0] else None
    if measured is None or max(steps) - min(steps) > tick + 0.01 / measured:
        return None
    if stated and abs(float(stated) - measured) <= 0.01 * measured:
        return float(stated)   # the container's exact rate (30000/1001, not 29.97002...)
    return None
