"""Small benchmarks and results written by the tests themselves (no ../shared needed)."""

from __future__ import annotations

import json
from pathlib import Path

from microverse.bench.models import Benchmark, Criterion, Dimension, Level, Task

# The paper's Appendix I rubric (cell mitosis), in the paper's order.
MITOSIS = {
    Dimension.SCIENTIFIC: [(1, 1.0), (1, 1.0), (1, 1.0), (1, 1.0), (1, 0.5)],
    Dimension.VISUAL: [(1, 0.5), (1, 0.2), (1, 0.2)],
    Dimension.INSTRUCTION: [(1, 0.5), (1, 0.5), (1, 0.2), (1, 0.2), (-1, 0.5)],
}


def make_task(index: int, rubric: dict, level: Level | None = Level.CELLULAR) -> Task:
    return Task(index=index, prompt=f"task {index}", requirement=f"requirement {index}", level=level,
                rubrics={dim: [Criterion(description=f"{dim.value} point {i + 1}", polarity=s, weight=w)
                               for i, (s, w) in enumerate(points)] for dim, points in rubric.items()})


def mitosis_benchmark() -> Benchmark:
    return Benchmark(tasks=[make_task(1, MITOSIS)])


def official_files(directory: Path, tasks: list[dict]) -> Path:
    """Write a minimal official-layout benchmark. Each task dict: index, level, rubrics{dim: [(d,s,w)]}
    where keys may be overridden with 'numbers'."""
    raw, norm, meta = [], [], []
    for t in tasks:
        r = {"index": t["index"], "task": f"task {t['index']}", "requirement": "req"}
        n = {"index": t["index"], "任务": f"task {t['index']}", "具体要求": "req"}
        for dim, points in t["rubrics"].items():
            numbers = t.get("numbers", {}).get(dim, list(range(1, len(points) + 1)))
            rb, nb = {}, {}
            for num, (s, w) in zip(numbers, points):
                rb.update({f"d{num}": f"{dim} point {num}", f"s{num}": s, f"w{num}": str(w)})
                nb.update({f"d{num}": f"{dim} point {num}", f"s{num}": s, f"w{num}": w})
            r[f"rubrics_{dim}"] = rb
            n[f"rubrics_{dim}"] = nb
        raw.append(r)
        norm.append(n)
        meta.append({"index": t["index"], "任务": f"task {t['index']}", "具体要求": "req",
                     "final_label": t.get("level", "Cellular-level")})
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in (("MWBenchRubrics.json", raw), ("MWBenchRubrics_norm.json", norm), ("finaltasks.json", meta)):
        (directory / name).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return directory


def result_item(index, sci=None, vis=None, ins=None, reasoning="ok") -> dict:
    item = {"index": index, "video_path": f"m/{index}.mp4"}
    for key, scores in (("scientific_eval", sci), ("visual_eval", vis), ("instruction_eval", ins)):
        if scores is not None:
            parsed = scores if scores == "UNPARSED" else {"scores": scores, "reasoning": reasoning}
            item[key] = {"raw_response": "...", "parsed_result": None if parsed == "UNPARSED" else parsed}
    return item


def write_results(directory: Path, model: str, items: list[dict]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{model}_result.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path
