"""Hand-made benchmark and video folders shared by the human-study and web tests."""

from __future__ import annotations

from pathlib import Path

from microverse.bench.models import Benchmark, Criterion, Dimension, Level, Task

LEVELS = [Level.ORGAN, Level.ORGAN, Level.CELLULAR, Level.CELLULAR, Level.SUBCELLULAR, Level.SUBCELLULAR]


def make_benchmark(n: int = 6) -> Benchmark:
    tasks = []
    for i in range(n):
        rubrics = {
            Dimension.SCIENTIFIC: [Criterion(description=f"task {i}: membranes <b>fuse</b> correctly", polarity=1,
                                             weight=1.0),
                                   Criterion(description=f"task {i}: organelles vanish", polarity=-1, weight=0.5)],
            Dimension.VISUAL: [Criterion(description="sharp rendering", polarity=1, weight=0.5)],
            Dimension.INSTRUCTION: [Criterion(description="shows the requested process", polarity=1, weight=1.0)],
        }
        tasks.append(Task(index=i, prompt=f"Simulate process {i} <script>alert(1)</script>",
                          requirement=f"Requirement {i}", level=LEVELS[i % len(LEVELS)], rubrics=rubrics))
    return Benchmark(tasks=tasks)


def make_videos(root: Path, models: list[str], tasks: range, payload: bytes = b"not really a video") -> dict[str, Path]:
    folders = {}
    for model in models:
        folder = root / "videos" / model
        folder.mkdir(parents=True)
        for t in tasks:
            (folder / f"{t}.mp4").write_bytes(payload)
        folders[model] = folder
    return folders
