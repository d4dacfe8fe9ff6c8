"""Means with bootstrap confidence intervals, and paired model comparisons.

The paper reports point means only; a difference of one point between two models on 32
subcellular tasks is noise. Here every mean carries a percentile bootstrap interval over
tasks, and ``compare`` runs a paired test over the tasks both models have.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Estimate:
    """A mean over tasks with its 95% (by default) bootstrap interval."""

    mean: float | None
    low: float | None
    high: float | None
    n: int

    def to_json(self) -> dict:
        return {"mean": self.mean, "ci": [self.low, self.high] if self.low is not None else None, "n": self.n}


def bootstrap_mean(values, rng: np.random.Generator, resamples: int = 1000,
                   confidence: float = 0.95) -> Estimate:
    """Mean of ``values`` with a percentile bootstrap interval (resampling tasks with replacement)."""
    data = np.asarray(list(values), dtype=float)
    n = data.size
    if n == 0:
        return Estimate(None, None, None, 0)
    mean = float(data.mean())
    if n == 1 or resamples <= 0:
        return Estimate(mean, mean if n == 1 else None, mean if n == 1 else None, n)
    picks = rng.integers(0, n, size=(resamples, n))
    means = data[picks].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Estimate(mean, float(low), float(high), n)


@dataclass
class Comparison:
    """A paired comparison of two models on the tasks both have scores for."""

    n: int
    mean_a: float | None
    mean_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    p_adjusted: float | None = None

    def verdict(self, alpha: float = 0.05) -> str:
        if self.n == 0 or self.p_adjusted is None:
            return "no shared tasks"
        if self.p_adjusted >= alpha:
            return "no significant difference"
        return "A better" if self.difference > 0 else "B better"


def paired_comparison(a: dict[int, float], b: dict[int, float], rng: np.random.Generator,
                      resamples: int = 10000, confidence: float = 0.95) -> Comparison:
    """Mean difference A - B over shared tasks: bootstrap interval and a two-sided sign-flip
    permutation p-value (exchangeability of each task's pair under the null of no difference)."""
    shared = sorted(set(a) & set(b))
    if not shared:
        return Comparison(0, None, None, None, None, None, None)
    xa = np.array([a[i] for i in shared])
    xb = np.array([b[i] for i in shared])
    diff = xa - xb
    n = diff.size
    observed = float(diff.mean())
    picks = rng.integers(0, n, size=(resamples, n))
    boot = diff[picks].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, n))
    null = np.abs((signs * diff).mean(axis=1))
    # +1 in numerator and denominator: the observed labelling is one of the permutations.
    p_value = float((np.sum(null >= abs(observed) - 1e-12) + 1) / (resamples + 1))
    return Comparison(n, float(xa.mean()), float(xb.mean()), observed, float(low), float(high), p_value)


def holm_adjust(p_values: list[float | None]) -> list[float | None]:
    """Holm-Bonferroni step-down adjustment (family-wise error over the comparisons of one pair)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
