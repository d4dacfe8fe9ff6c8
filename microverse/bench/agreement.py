"""Inter-rater agreement on nominal labels: pairwise Cohen's kappa, Fleiss' kappa, Krippendorff's alpha.

Shared by everything that compares raters: human preference studies, expert rubric
revisions (the paper's Table 6), criterion annotations and multi-judge agreement.
Input is always the long format ``(rater, item, label)``; any number of raters and
labels, and a rater may skip items.

Why hand-written: Cohen's and Fleiss' kappa are a few lines of numpy, and the libraries
that have them (scikit-learn, statsmodels) are heavy and only dev dependencies here; the
tests check both against those libraries. Krippendorff's alpha comes from the
``krippendorff`` package (a core dependency), which handles missing ratings.

Conventions where the statistics are undefined (documented in docs/human.md):
- a kappa/alpha whose chance agreement is 1 (every rating the same label) is ``nan``
  (0/0, as scikit-learn and statsmodels give); JSON writes it as ``null``;
- Cohen's kappa for a pair uses the items both raters labelled;
- Fleiss' kappa needs the same number of ratings per item, so it uses the items every
  rater labelled and reports how many those were.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from microverse.errors import MicroverseError

Rating = tuple[Hashable, Hashable, Hashable]  # (rater, item, label)


@dataclass(frozen=True)
class RatingMatrix:
    """Ratings as a raters x items matrix of label codes; -1 marks a missing rating."""

    raters: tuple[Hashable, ...]
    items: tuple[Hashable, ...]
    labels: tuple[Hashable, ...]
    codes: np.ndarray  # int, shape (len(raters), len(items))

    @classmethod
    def from_ratings(cls, ratings: Iterable[Rating], *, source: str | None = None) -> RatingMatrix:
        """Build the matrix; a rater rating the same item twice is an error (which answer counts?)."""
        seen: dict[tuple[Hashable, Hashable], Hashable] = {}
        for row in ratings:
            rater, item, label = row
            if (rater, item) in seen:
                raise MicroverseError(f"rater {rater!r} rated item {item!r} twice", file=source,
                                      fix="keep one rating per rater and item")
            seen[(rater, item)] = label
        raters = tuple(sorted({r for r, _ in seen}, key=str))
        items = tuple(sorted({i for _, i in seen}, key=str))
        labels = tuple(sorted(set(seen.values()), key=str))
        r_index = {r: k for k, r in enumerate(raters)}
        i_index = {i: k for k, i in enumerate(items)}
        l_index = {lab: k for k, lab in enumerate(labels)}
        codes = np.full((len(raters), len(items)), -1, dtype=int)
        for (rater, item), label in seen.items():
            codes[r_index[rater], i_index[item]] = l_index[label]
        return cls(raters, items, labels, codes)

    @property
    def n_ratings(self) -> int:
        return int((self.codes >= 0).sum())

    def category_counts(self) -> np.ndarray:
        """Items x labels: how many raters gave each label to each item."""
        counts = np.zeros((len(self.items), len(self.labels)), dtype=int)
        for r in range(len(self.raters)):
            rated = self.codes[r] >= 0
            np.add.at(counts, (np.nonzero(rated)[0], self.codes[r][rated]), 1)
        return counts


def _kappa(observed: float, expected: float) -> float:
    if math.isclose(expected, 1.0):
        return math.nan
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters who labelled the same items in the same order."""
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    if not a:
        return math.nan
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[label] * cb[label] for label in ca) / (n * n)
    return _kappa(observed, expected)


@dataclass(frozen=True)
class PairKappa:
    rater_a: Hashable
    rater_b: Hashable
    kappa: float
    n_items: int
    percent_agreement: float


def pairwise_cohen_kappa(matrix: RatingMatrix) -> list[PairKappa]:
    """Cohen's kappa for every pair of raters, on the items both labelled."""
    pairs = []
    for i, j in itertools.combinations(range(len(matrix.raters)), 2):
        both = (matrix.codes[i] >= 0) & (matrix.codes[j] >= 0)
        a, b = matrix.codes[i][both].tolist(), matrix.codes[j][both].tolist()
        agree = sum(x == y for x, y in zip(a, b)) / len(a) if a else math.nan
        pairs.append(PairKappa(matrix.raters[i], matrix.raters[j], cohen_kappa(a, b), len(a), agree))
    return pairs


@dataclass(frozen=True)
class FleissKappa:
    kappa: float
    n_items: int
    n_raters: int
    n_items_dropped: int


def fleiss_kappa_from_counts(counts: np.ndarray) -> float:
    """Fleiss' kappa from an items x labels count table with equal row sums."""
    counts = np.asarray(counts, dtype=float)
    if counts.size == 0:
        return math.nan
    n = counts.sum(axis=1)
    if not np.all(n == n[0]) or n[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings for every item")
    per_item = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    p_label = counts.sum(axis=0) / counts.sum()
    return _kappa(float(per_item.mean()), float((p_label ** 2).sum()))


def fleiss_kappa(matrix: RatingMatrix) -> FleissKappa:
    """Fleiss' kappa over the items that every rater labelled."""
    complete = np.all(matrix.codes >= 0, axis=0)
    n_items = int(complete.sum())
    if len(matrix.raters) < 2 or n_items == 0:
        return FleissKappa(math.nan, n_items, len(matrix.raters), len(matrix.items) - n_items)
    kappa = fleiss_kappa_from_counts(matrix.category_counts()[complete])
    return FleissKappa(kappa, n_items, len(matrix.raters), len(matrix.items) - n_items)


def krippendorff_alpha(matrix: RatingMatrix) -> float:
    """Krippendorff's alpha for nominal data; missing ratings allowed."""
    import krippendorff  # core dependency; imported here to keep module import cheap

    pairable = ((matrix.codes >= 0).sum(axis=0) >= 2).sum()
    if pairable == 0 or len(matrix.labels) < 2:
        # the library raises on a single label; alpha is 0/0 there
        return math.nan
    data = np.where(matrix.codes >= 0, matrix.codes, np.nan).astype(float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal",
                                    value_domain=list(range(len(matrix.labels)))))


def majority_labels(matrix: RatingMatrix) -> dict[Hashable, Hashable | None]:
    """Each item's most frequent label; ``None`` where the top labels tie (no majority)."""
    counts = matrix.category_counts()
    result: dict[Hashable, Hashable | None] = {}
    for k, item in enumerate(matrix.items):
        row = counts[k]
        top = row.max()
        winners = np.nonzero(row == top)[0]
        result[item] = matrix.labels[winners[0]] if top > 0 and len(winners) == 1 else None
    return result


def _number(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def agreement_summary(ratings: Iterable[Rating], *, source: str | None = None) -> dict:
    """All three statistics as a JSON-ready dict (``nan`` written as ``None``)."""
    matrix = RatingMatrix.from_ratings(ratings, source=source)
    if len(matrix.raters) < 2:
        raise MicroverseError(f"agreement needs at least two raters, found {len(matrix.raters)}",
                              file=source, fix="add ratings from a second rater")
    fleiss = fleiss_kappa(matrix)
    pairs = pairwise_cohen_kappa(matrix)
    kappas = [p.kappa for p in pairs if not math.isnan(p.kappa)]
    return {
        "n_raters": len(matrix.raters),
        "n_items": len(matrix.items),
        "n_ratings": matrix.n_ratings,
        "labels": [str(label) for label in matrix.labels],
        "cohen_kappa_pairwise": [
            {"rater_a": str(p.rater_a), "rater_b": str(p.rater_b), "kappa": _number(p.kappa),
             "n_items": p.n_items, "percent_agreement": _number(p.percent_agreement)}
            for p in pairs],
        "cohen_kappa_mean": _number(sum(kappas) / len(kappas)) if kappas else None,
        "fleiss_kappa": {"kappa": _number(fleiss.kappa), "n_items": fleiss.n_items,
                         "n_raters": fleiss.n_raters, "n_items_dropped": fleiss.n_items_dropped},
        "krippendorff_alpha": _number(krippendorff_alpha(matrix)),
    }
