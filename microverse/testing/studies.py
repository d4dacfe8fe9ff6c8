"""Synthetic inputs for human studies and benchmark builds: a small benchmark, video folders,
real tiny videos and a build database with drafted rubrics.

Why in the package: the tests of human/, web/ and build/ and ``benchmarks/human_study.py``
all need the same inputs, and a benchmark script must not import from tests/. Nothing here
is used by the toolkit itself. Texts deliberately carry HTML (``<script>``, ``<b>``) so
every screen that shows them is checked for escaping.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from microverse.bench.models import Benchmark, Criterion, Dimension, Level, Task

LEVELS = [Level.ORGAN, Level.ORGAN, Level.CELLULAR, Level.CELLULAR, Level.SUBCELLULAR, Level.SUBCELLULAR]
# A drafted rubric as an LLM writes it (Appendix G keys): criterion 1 has an empty polarity,
# criterion 2 a weight out of range, so both are flagged.
DRAFT_RUBRIC = json.dumps({"a1": "Scientific Fidelity", "d1": "Spindle <b>forms</b>", "s1": "", "w1": "1.0",
                           "a2": "Visual Quality", "d2": "Sharp", "s2": "+1", "w2": "1.5"})


def make_benchmark(n: int = 6) -> Benchmark:
    """``n`` tasks cycling through the three levels, four criteria each (one penalty)."""
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
    """``root/videos/<model>/<task>.mp4`` for every model and task, all holding ``payload``."""
    folders = {}
    for model in models:
        folder = root / "videos" / model
        folder.mkdir(parents=True)
        for t in tasks:
            (folder / f"{t}.mp4").write_bytes(payload)
        folders[model] = folder
    return folders


def video_bytes(frames: int = 16, fps: int = 8, *, container: str = "webm", codec: str = "libvpx-vp9",
                pts: list[int] | None = None) -> bytes:
    """A tiny real video (64x64, brightness rising each frame) that browsers play.

    ``pts`` (in units of 1/fps) places frames at irregular times: a variable frame rate.
    """
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 15 % 256, dtype=np.uint8), format="rgb24")
            if pts is not None:
                frame.pts = pts[i]
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


def make_build(db: Path, tasks: int = 2) -> Path:
    """A build database with ``tasks`` sourced, classified tasks and a drafted rubric each
    (:data:`DRAFT_RUBRIC`), ready for ``build review-study``."""
    from microverse.build.parse_rubric import parse_rubric
    from microverse.build.prompts import load_template
    from microverse.store import builds

    def answer(stage: str, item: str, parsed, raw: str = "raw") -> builds.StoredAnswer:
        template = load_template(stage)
        return builds.StoredAnswer(stage, item, template.name, template.sha256, "m", "ok", raw, parsed, None)

    conn = builds.open_build(db)
    numbers = range(1, tasks + 1)
    builds.add_sources(conn, [(f"v{i}", {"title": f"Video {i} <script>x</script>", "url": f"https://x/{i}"})
                              for i in numbers])
    for i in numbers:
        builds.save_answer(conn, answer("tasks", f"v{i}", {"prompt": f"Task {i} <script>alert(2)</script>",
                                                         "requirement": f"Requirement {i}"}))
        builds.save_answer(conn, answer("classify", str(i), {"level": "Cellular-level"}))
        builds.save_answer(conn, answer("rubrics", str(i), [c.to_json() for c in parse_rubric(DRAFT_RUBRIC)],
                                        DRAFT_RUBRIC))
    conn.close()
    return db
