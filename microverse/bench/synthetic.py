"""Synthetic judge results in the official evaluator's layout, for demos, tests and benchmarks.

A model is simulated by a per-dimension hit probability; optional quirks reproduce what real
official result files contain (unparseable answers, short score lists, string scores,
duplicates), so the scoring policies can be exercised without any judge.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from microverse.bench.models import DIMENSIONS, Benchmark


def synthetic_results(benchmark: Benchmark, model: str, *, seed: int = 0, quality: float = 0.5,
                      quirk_rate: float = 0.0) -> list[dict]:
    """One model's ``<Model>_result.json`` content; ``quality`` is the chance a positive point is hit."""
    rng = np.random.default_rng(seed)
    items = []
    for task in benchmark.tasks:
        item: dict = {"index": task.index, "video_path": f"{model}/{task.index}.mp4"}
        for dim in DIMENSIONS:
            criteria = task.criteria(dim)
            scores = [int(rng.random() < (quality if c.polarity > 0 else 1 - quality)) for c in criteria]
            parsed: dict | None = {"scores": scores, "reasoning": f"synthetic judgment of task {task.index}"}
            if quirk_rate and rng.random() < quirk_rate:
                quirk = rng.integers(0, 4)
                if quirk == 0:
                    parsed = None                                   # unparseable answer
                elif quirk == 1:
                    parsed["scores"] = scores[:-1]                  # one score short
                elif quirk == 2:
                    parsed["scores"] = [str(s) for s in scores]     # scores as strings
                else:
                    parsed["scores"] = scores + [1]                 # one score too many
            item[f"{dim.value}_eval"] = {"raw_response": json.dumps(parsed), "parsed_result": parsed}
        items.append(item)
    if quirk_rate and items:
        items.append(dict(items[0]))                                # a duplicate entry
    return items


def write_synthetic_results(benchmark: Benchmark, directory: Path, models: dict[str, float], *, seed: int = 0,
                            quirk_rate: float = 0.0) -> list[Path]:
    """Write ``<Model>_result.json`` for each model name -> quality."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for offset, (model, quality) in enumerate(models.items()):
        path = directory / f"{model}_result.json"
        path.write_text(json.dumps(synthetic_results(benchmark, model, seed=seed + offset, quality=quality,
                                                     quirk_rate=quirk_rate)), encoding="utf-8")
        paths.append(path)
    return paths
