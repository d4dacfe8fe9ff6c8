"""The JSON result: stable keys ``policy`` and ``models.<name>.{valid_tasks, average, levels,
dimensions}`` that scripts rely on, plus intervals, counts and coverage."""

from __future__ import annotations

from typing import Any

from microverse.bench.aggregate import ModelSummary
from microverse.bench.models import DIMENSIONS, LEVELS
from microverse.bench.scoring import CORRECTIONS
from microverse.bench.uncertainty import Estimate


def _mean(estimate: Estimate, policy: str) -> float | None:
    # The official script prints 0.0 for a mean over no tasks; corrected says n/a (C8).
    if estimate.mean is None:
        return 0.0 if policy == "official" else None
    return estimate.mean


def _ci(estimate: Estimate) -> list[float] | None:
    return None if estimate.low is None else [estimate.low, estimate.high]


def model_json(summary: ModelSummary) -> dict[str, Any]:
    scores = summary.scores
    policy = scores.policy
    return {
        "valid_tasks": scores.valid_tasks,
        "average": _mean(summary.average, policy),
        "levels": {lv.value: _mean(summary.levels[lv], policy) for lv in LEVELS},
        "dimensions": {d.value: _mean(summary.dimensions[d], policy) for d in DIMENSIONS},
        "ci": {"average": _ci(summary.average),
               "levels": {lv.value: _ci(summary.levels[lv]) for lv in LEVELS},
               "dimensions": {d.value: _ci(summary.dimensions[d]) for d in DIMENSIONS}},
        "n": {"average": summary.average.n,
              "levels": {lv.value: summary.levels[lv].n for lv in LEVELS},
              "dimensions": {d.value: summary.dimensions[d].n for d in DIMENSIONS}},
        "coverage": {
            "benchmark_tasks": scores.benchmark_tasks,
            "valid_tasks": scores.valid_tasks,
            "missing_tasks": scores.missing_tasks(),
            "dimension_status": {d.value: dict(summary.dimension_status[d]) for d in DIMENSIONS},
            "notes": scores.notes,
            "dropped": scores.dropped,
        },
        "weights": scores.weights,
        "source": scores.source,
    }


def tasks_json(summary: ModelSummary) -> list[dict[str, Any]]:
    """Every benchmark task with its total and per-dimension score, status and reason."""
    return [{"index": t.index, "level": t.level.value if t.level else None, "total": t.total, "reason": t.reason,
             "dimensions": {d.value: {"score": t.dimensions[d].score, "status": t.dimensions[d].status,
                                      "reason": t.dimensions[d].reason, "hits": t.dimensions[d].hits}
                            for d in DIMENSIONS}}
            for t in summary.scores.tasks]


def results_json(summaries: list[ModelSummary], *, policy: str, weights: str, resamples: int, seed: int,
                 confidence: float = 0.95, per_task: bool = False,
                 agreement: dict[str, dict[str, dict]] | None = None) -> dict[str, Any]:
    models = {s.model: model_json(s) | ({"tasks": tasks_json(s)} if per_task else {}) for s in summaries}
    return {
        "policy": policy,
        "weights": weights,
        "bootstrap": {"resamples": resamples, "seed": seed, "confidence": confidence},
        "corrections": CORRECTIONS if policy == "corrected" else {},
        "models": models,
        "judge_agreement": agreement or {},
    }
