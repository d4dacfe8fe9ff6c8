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
- Fleiss' kappa needs the same *number* of ratings per item, not the same raters (Fleiss
  1971), so it uses the items every rater labelled; in a k-of-n design (each item rated by k
  of the n raters, as an assigned study gives) it uses the items with exactly k ratings. It
  reports which k and how many items were left out.
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
    ratings_per_item: int


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


def fleiss_kappa(matrix: RatingMatrix, ratings_per_item: int | None = None) -> FleissKappa:
    """Fleiss' kappa over the items with k ratings each.

    k is every rater, unless ``ratings_per_item`` says the design is k of n, or no item was
    rated by every rater: then the most common count of ratings per item (at least 2; a tie
    goes to the larger count).
    """
    n_raters = len(matrix.raters)
    per_item = (matrix.codes >= 0).sum(axis=0)
    k = ratings_per_item if ratings_per_item is not None and ratings_per_item < n_raters else n_raters
    if k == n_raters and not (per_item == n_raters).any():
        common = Counter(int(c) for c in per_item if c >= 2)
        k = max(common.items(), key=lambda count_items: (count_items[1], count_items[0]))[0] if common else n_raters
    chosen = per_item == k
    n_items = int(chosen.sum())
    kappa = fleiss_kappa_from_counts(matrix.category_counts()[chosen]) if k >= 2 and n_items else math.nan
    return FleissKappa(kappa, n_items, n_raters, len(matrix.items) - n_items, k)


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


def agreement_summary(ratings: Iterable[Rating], *, ratings_per_item: int | None = None,
                      source: str | None = None) -> dict:
    """All three statistics as a JSON-ready dict (``nan`` written as ``None``), with a ``design``
    entry that says whether every rater rated every item and, if not, what each statistic used.

    ``ratings_per_item`` is a study's k where each item was assigned to k of the raters.
    """
    matrix = RatingMatrix.from_ratings(ratings, source=source)
    if len(matrix.raters) < 2:
        raise MicroverseError(f"agreement needs at least two raters, found {len(matrix.raters)}",
                              file=source, fix="add ratings from a second rater")
    fleiss = fleiss_kappa(matrix, ratings_per_item)
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
                         "n_raters": fleiss.n_raters, "n_items_dropped": fleiss.n_items_dropped,
                         "ratings_per_item": fleiss.ratings_per_item},
        "krippendorff_alpha": _number(krippendorff_alpha(matrix)),
        "design": _design(matrix, pairs, fleiss),
    }


def _design(matrix: RatingMatrix, pairs: list[PairKappa], fleiss: FleissKappa) -> dict:
    """Complete (every rater, every item) or not, and in words what each statistic then used."""
    counts = Counter(int(c) for c in (matrix.codes >= 0).sum(axis=0))
    complete = counts.get(len(matrix.raters), 0) == len(matrix.items)
    no_overlap = sum(p.n_items == 0 for p in pairs)
    return {
        "complete": complete,
        "items_by_ratings": {str(c): n for c, n in sorted(counts.items())},
        "pairs_without_shared_items": no_overlap,
        "note": None if complete else (
            "incomplete design: each Cohen's kappa uses only the items both raters rated (n_items), "
            f"{no_overlap} pair(s) share none; Fleiss' kappa uses the items with exactly "
            f"{fleiss.ratings_per_item} ratings (raters may differ between items); "
            "Krippendorff's alpha uses every item with 2 or more ratings"),
    }
