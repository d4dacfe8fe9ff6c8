"""Descriptive statistics of a benchmark: what ``microverse bench stats`` prints."""

from __future__ import annotations

from collections import Counter
from typing import Any

from microverse.bench.models import Benchmark, Dimension, Level


def benchmark_stats(benchmark: Benchmark) -> dict[str, Any]:
    """Counts by level, criteria per dimension, and weight / polarity distributions."""
    levels = Counter(t.level.value if t.level else "unlabelled" for t in benchmark.tasks)
    per_dim: dict[str, Any] = {}
    for dim in Dimension:
        sizes = Counter(len(t.criteria(dim)) for t in benchmark.tasks)
        criteria = [c for t in benchmark.tasks for c in t.criteria(dim)]
        per_dim[dim.value] = {
            "criteria": len(criteria),
            "criteria_per_task": {str(k): v for k, v in sorted(sizes.items())},
            "positive": sum(1 for c in criteria if c.polarity > 0),
            "penalty": sum(1 for c in criteria if c.polarity < 0),
            "weights": _distribution(c.weight for c in criteria),
            "raw_weights": _distribution(c.raw_weight for c in criteria if c.raw_weight is not None),
        }
    return {
        "tasks": len(benchmark.tasks),
        "levels": {lv.value: levels.get(lv.value, 0) for lv in Level} | (
            {"unlabelled": levels["unlabelled"]} if levels.get("unlabelled") else {}),
        "dimensions": per_dim,
    }


def _distribution(values) -> dict[str, int]:
    return {f"{w:g}": n for w, n in sorted(Counter(values).items())}
