"""From per-task scores to the paper's tables: means per level and per dimension, with intervals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from microverse.bench.models import DIMENSIONS, LEVELS, Dimension, Level
from microverse.bench.scoring import ModelScores
from microverse.bench.uncertainty import Comparison, Estimate, bootstrap_mean, holm_adjust, paired_comparison

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0


@dataclass
class ModelSummary:
    """One model's Table 1 / Table 2 row with intervals and coverage."""

    scores: ModelScores
    average: Estimate
    levels: dict[Level, Estimate]
    dimensions: dict[Dimension, Estimate]
    dimension_status: dict[Dimension, Counter] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.scores.model


def summarise(scores: ModelScores, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
              confidence: float = 0.95) -> ModelSummary:
    """Means with bootstrap intervals; the same seed gives the same intervals."""
    rng = np.random.default_rng(seed)

    def estimate(pairs: list[tuple[int, float]]) -> Estimate:
        return bootstrap_mean([v for _, v in pairs], rng, resamples, confidence)

    return ModelSummary(
        scores=scores,
        average=estimate(scores.totals()),
        levels={level: estimate(scores.totals(level)) for level in LEVELS},
        dimensions={dim: estimate(scores.dimension_scores(dim)) for dim in DIMENSIONS},
        dimension_status={dim: Counter(t.dimensions[dim].status for t in scores.tasks) for dim in DIMENSIONS},
    )


ROWS: tuple[str, ...] = ("average", *(lv.value for lv in LEVELS), *(d.value for d in DIMENSIONS))


def compare_models(a: ModelScores, b: ModelScores, *, resamples: int = 10000,
                   seed: int = DEFAULT_SEED) -> dict[str, Comparison]:
    """Paired comparison of A and B on the average, each level and each dimension (Holm-adjusted)."""
    rng = np.random.default_rng(seed)
    pairs = {"average": (a.totals(), b.totals())}
    for level in LEVELS:
        pairs[level.value] = (a.totals(level), b.totals(level))
    for dim in DIMENSIONS:
        pairs[dim.value] = (a.dimension_scores(dim), b.dimension_scores(dim))
    results = {name: paired_comparison(dict(xa), dict(xb), rng, resamples) for name, (xa, xb) in pairs.items()}
    adjusted = holm_adjust([c.p_value for c in results.values()])
    for comparison, p in zip(results.values(), adjusted):
        comparison.p_adjusted = p
    return results
