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


def frame_rate(path: str | Path) -> float | None:
    """The constant frame rate of ``path`` in frames per second, or None where it cannot be trusted.

    None means: unreadable file, no video stream, no rate in the container, or a variable
    rate (the average and the container's base rate differ by more than 1%). The player
    then turns frame stepping off instead of guessing a rate, so a frame step never lands
    between frames or skips one. Cached per file version (path, size, mtime): an item page
    is rendered on every click, and a probe opens the file.
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
            average, base = stream.average_rate, stream.guessed_rate or stream.base_rate
    except (av.FFmpegError, OSError, ValueError):
        return None
    rate = average or base
    if not rate or rate <= 0:
        return None
    if average and base and abs(float(average) - float(base)) > 0.01 * float(base):
        return None
    return float(rate)
