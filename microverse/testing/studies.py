"""Synthetic inputs for human studies and benchmark builds: a small benchmark, video folders,
real tiny videos and a build database with drafted rubrics.

Why in the package: the tests of human/, web/ and build/ and ``benchmarks/human_study.py``
all need the same inputs, and a benchmark script must not import from tests/. Nothing here
is used by the toolkit itself. Texts deliberately carry HTML (``<script>``, ``<b>``) so
every screen that shows them is checked for escaping.
"""

from __future__ import annotations

import json
import tempfile
from fractions import Fraction
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


def make_assigned_study(root: Path, tasks: int, raters: list[str], per_item: int, *, seed: int = 0,
                        name: str = "p") -> tuple[Path, dict[str, str]]:
    """A preference study (Sora vs Veo3, :func:`make_benchmark` tasks) in ``root/s.db`` whose every task
    is assigned to ``per_item`` of ``raters``; returns the database and each rater's token."""
    from microverse.bench.canonical import write_canonical
    from microverse.human import study as hs
    from microverse.store import studies as store

    benchmark = make_benchmark(tasks)
    bench = write_canonical(benchmark, root / "bench.json")
    folders = make_videos(root, ["Sora", "Veo3"], range(tasks))
    db = root / "s.db"
    conn = store.open_studies(db)
    try:
        study = hs.create_preference_study(conn, name, benchmark, str(bench), folders, seed=seed)
        return db, hs.add_panel(conn, study, raters, per_item)
    finally:
        conn.close()


def video_bytes(frames: int = 16, fps: int | Fraction = 8, *, suffix: str = ".webm", codec: str = "libvpx-vp9",
                vfr: bool = False) -> bytes:
    """A tiny real 64x64 video that browsers play (VP9 WebM by default), as bytes to copy into
    study folders; ``vfr`` alternates 20 ms and 60 ms frames (:func:`microverse.testing.videos.make_video`)."""
    from microverse.testing.videos import Scene, make_video

    with tempfile.TemporaryDirectory() as tmp:
        path = make_video(Path(tmp) / f"video{suffix}", [Scene(frames, seed=0)], width=64, height=64, fps=fps,
                          codec=codec, vfr=vfr)
        return path.read_bytes()


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
