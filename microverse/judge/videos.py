"""Match a folder of videos to benchmark tasks by file name (``17.mp4`` is task 17).

Everything that does not match is reported, file by file — stray names, unknown task
indices, two files for one task — and the run goes on with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from microverse.bench.models import Benchmark
from microverse.errors import MicroverseError

#: Containers PyAV/FFmpeg reads that generators write; anything else is reported as stray.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".gif", ".flv", ".wmv",
                            ".mpg", ".mpeg", ".ts", ".mts", ".ogv", ".3gp"})


@dataclass
class VideoScan:
    directory: Path
    videos: dict[int, Path] = field(default_factory=dict)
    stray: list[tuple[str, str]] = field(default_factory=list)
    """(file name, why it was not used)."""
    missing: list[int] = field(default_factory=list)
    """Benchmark task indices with no video."""


def scan_videos(directory: Path, benchmark: Benchmark) -> VideoScan:
    if not directory.is_dir():
        raise MicroverseError("not a folder of videos", file=str(directory),
                              fix="pass the folder holding 1.mp4 … 459.mp4")
    known = {task.index for task in benchmark.tasks}
    scan = VideoScan(directory)
    for path in sorted(directory.iterdir(), key=lambda p: p.name):
        if path.name.startswith("."):
            continue
        if not path.is_file():
            scan.stray.append((path.name, "not a file"))
        elif path.suffix.lower() not in VIDEO_SUFFIXES:
            scan.stray.append((path.name, f"not a video file name ({path.suffix or 'no extension'})"))
        elif not path.stem.isdigit():
            scan.stray.append((path.name, "name is not a task index (expected e.g. 17.mp4)"))
        elif int(path.stem) not in known:
            scan.stray.append((path.name, f"the benchmark has no task {int(path.stem)}"))
        elif int(path.stem) in scan.videos:
            scan.stray.append((path.name, f"task {int(path.stem)} already has {scan.videos[int(path.stem)].name}"))
        else:
            scan.videos[int(path.stem)] = path
    scan.missing = sorted(known - scan.videos.keys())
    if not scan.videos:
        raise MicroverseError("no video named by a task index", file=str(directory),
                              fix="name videos by task index: 1.mp4 … 459.mp4")
    return scan


def parse_tasks(spec: str) -> set[int]:
    """``"1-20,33"`` -> {1..20, 33}: the tasks a trial run judges."""
    chosen: set[int] = set()
    for part in (p.strip() for p in spec.split(",")):
        low, dash, high = part.partition("-")
        if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
            raise MicroverseError(f"cannot read task range {part!r}", item="--tasks",
                                  fix="give indices and ranges like 1-20,33")
        first, last = int(low), int(high) if dash else int(low)
        if last < first:
            raise MicroverseError(f"empty task range {part!r}", item="--tasks", fix="write the smaller index first")
        chosen.update(range(first, last + 1))
    return chosen


def restrict(scan: VideoScan, tasks: set[int]) -> VideoScan:
    """Only the chosen tasks (a trial run); the others are neither judged nor reported missing."""
    videos = {index: path for index, path in scan.videos.items() if index in tasks}
    if not videos:
        raise MicroverseError("none of the chosen tasks has a video", item="--tasks", file=str(scan.directory))
    return VideoScan(scan.directory, videos, scan.stray, [i for i in scan.missing if i in tasks])
