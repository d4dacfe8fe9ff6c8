"""Agreement statistics checked against scikit-learn, statsmodels, krippendorff and textbook values."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from microverse.bench.agreement import (
    RatingMatrix,
    agreement_summary,
    cohen_kappa,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    krippendorff_alpha,
    majority_labels,
    pairwise_cohen_kappa,
)
from microverse.errors import MicroverseError

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn (dev extra) is needed for the reference")
inter_rater = pytest.importorskip("statsmodels.stats.inter_rater", reason="statsmodels (dev extra) is needed")
krippendorff = pytest.importorskip("krippendorff")


def _long(table: dict[str, list]) -> list[tuple]:
    """rater -> labels per item (None = missing) into long-format ratings."""
    return [(rater, item, label) for rater, labels in table.items()
            for item, label in enumerate(labels) if label is not None]


@pytest.mark.parametrize("a,b", [
    ("xxyyxyxx", "xyyyxxxx"),
    ("abcabcab", "abcbbcaa"),
    ("yyyyyyyn", "yyyyyynn"),
    ("1234", "4321"),
])
def test_cohen_matches_sklearn(a, b):
    assert cohen_kappa(list(a), list(b)) == pytest.approx(sklearn_metrics.cohen_kappa_score(list(a), list(b)))


def test_cohen_random_cases_match_sklearn():
    rng = random.Random(7)
    for _ in range(30):
        n, k = rng.randint(3, 40), rng.randint(2, 5)
        a = [rng.randrange(k) for _ in range(n)]
        b = [x if rng.random() < 0.6 else rng.randrange(k) for x in a]
        ref = sklearn_metrics.cohen_kappa_score(a, b)
        ours = cohen_kappa(a, b)
        assert (math.isnan(ours) and math.isnan(ref)) or ours == pytest.approx(ref)


def test_cohen_textbook_value():
    # Cohen (1960)-style 2x2 example from Wikipedia: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no -> 0.4
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_undefined_when_one_label_only():
    assert math.isnan(cohen_kappa(["x", "x"], ["x", "x"]))


def test_pairwise_uses_items_both_rated():
    ratings = _long({"a": ["x", "y", "x", None], "b": ["x", "y", None, "y"], "c": ["y", "y", "x", "x"]})
    pairs = {(p.rater_a, p.rater_b): p for p in pairwise_cohen_kappa(RatingMatrix.from_ratings(ratings))}
    assert pairs[("a", "b")].n_items == 2
    assert pairs[("a", "b")].kappa == pytest.approx(sklearn_metrics.cohen_kappa_score(["x", "y"], ["x", "y"]))
    assert pairs[("a", "c")].kappa == pytest.approx(
        sklearn_metrics.cohen_kappa_score(["x", "y", "x"], ["y", "y", "x"]))


def test_fleiss_wikipedia_example():
    # Fleiss' kappa worked example (Wikipedia): 10 items, 14 raters, 5 categories -> 0.210
    counts = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                       [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert fleiss_kappa_from_counts(counts) == pytest.approx(0.20993, abs=1e-5)
    assert fleiss_kappa_from_counts(counts) == pytest.approx(inter_rater.fleiss_kappa(counts))


def test_fleiss_random_matches_statsmodels_and_drops_incomplete_items():
    rng = np.random.default_rng(3)
    for n_raters in (2, 3, 5):
        codes = rng.integers(0, 3, size=(n_raters, 25))
        codes[1:] = np.where(rng.random((n_raters - 1, 25)) < 0.5, codes[0], codes[1:])
        table = {f"r{r}": [str(c) for c in codes[r]] + [None] for r in range(n_raters)}
        table["r0"][-1] = "0"  # an item only one rater labelled: Fleiss must drop it
        matrix = RatingMatrix.from_ratings(_long(table))
        result = fleiss_kappa(matrix)
        ref_table, _ = inter_rater.aggregate_raters(codes.T)
        assert result.n_items == 25 and result.n_items_dropped == 1
        assert result.kappa == pytest.approx(inter_rater.fleiss_kappa(ref_table))


def test_fleiss_on_a_k_of_n_design_uses_the_items_with_k_ratings():
    """Each item rated by 2 of 4 raters (different pairs): Fleiss needs equal counts, not equal raters."""
    rng = np.random.default_rng(5)
    raters = ["a", "b", "c", "d"]
    pairs = [(i % 4, (i + 1 + i // 4) % 4) for i in range(40)]
    pairs = [(x, y if y != x else (x + 2) % 4) for x, y in pairs]
    labels = rng.integers(0, 2, size=(40, 2))
    ratings = [(raters[r], item, str(labels[item][slot])) for item, pair in enumerate(pairs)
               for slot, r in enumerate(pair)]
    ratings += [(r, 40, "1") for r in raters[:3]]  # one item with 3 ratings: not the common count
    matrix = RatingMatrix.from_ratings(ratings)
    ref_table, _ = inter_rater.aggregate_raters(labels.astype(str))
    for result in (fleiss_kappa(matrix), fleiss_kappa(matrix, ratings_per_item=2)):
        assert (result.ratings_per_item, result.n_items, result.n_items_dropped) == (2, 40, 1)
        assert result.kappa == pytest.approx(inter_rater.fleiss_kappa(ref_table))
    summary = agreement_summary(ratings, ratings_per_item=2)
    assert summary["design"]["complete"] is False and summary["design"]["items_by_ratings"] == {"2": 40, "3": 1}
    assert "exactly 2 ratings" in summary["design"]["note"]
    complete = agreement_summary([(r, i, str((i + len(r)) % 2)) for r in raters for i in range(5)])
    assert complete["design"] == {"complete": True, "items_by_ratings": {"4": 5}, "pairs_without_shared_items": 0,
                                  "note": None}
    assert complete["fleiss_kappa"]["ratings_per_item"] == 4


def test_krippendorff_textbook_value_with_missing():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: alpha = 0.743
    n = None
    table = {"A": [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
             "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
             "C": [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
             "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]}
    assert krippendorff_alpha(RatingMatrix.from_ratings(_long(table))) == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_string_labels_match_library():
    rng = np.random.default_rng(11)
    names = np.array(["best_a", "best_b", "tie"])
    for _ in range(10):
        codes = rng.integers(0, 3, size=(4, 15)).astype(float)
        codes[rng.random(codes.shape) < 0.2] = np.nan
        table = {f"r{r}": [None if np.isnan(c) else names[int(c)] for c in codes[r]] for r in range(4)}
        ours = krippendorff_alpha(RatingMatrix.from_ratings(_long(table)))
        ref = krippendorff.alpha(reliability_data=codes, level_of_measurement="nominal", value_domain=[0, 1, 2])
        assert ours == pytest.approx(ref)


def test_duplicate_rating_is_an_error():
    with pytest.raises(MicroverseError, match="twice"):
        RatingMatrix.from_ratings([("a", 1, "x"), ("a", 1, "y")])


def test_majority_labels_ties_give_none():
    matrix = RatingMatrix.from_ratings(_long({"a": ["x", "x"], "b": ["x", "y"], "c": ["y", None]}))
    assert majority_labels(matrix) == {0: "x", 1: None}


def test_summary_writes_undefined_as_none():
    summary = agreement_summary([("a", 1, "x"), ("b", 1, "x"), ("a", 2, "x"), ("b", 2, "x")])
    assert summary["cohen_kappa_pairwise"][0]["kappa"] is None
    assert summary["krippendorff_alpha"] is None
    assert summary["cohen_kappa_pairwise"][0]["percent_agreement"] == 1.0


def test_summary_needs_two_raters():
    with pytest.raises(MicroverseError, match="two raters"):
        agreement_summary([("a", 1, "x")])
