"""Rater agreement that states its design: complete (every rater, every item) or incomplete
(each item rated by k of n raters, as an assigned study gives).

The three statistics of :func:`microverse.bench.agreement.agreement_summary` all stay valid
on an incomplete design, each on its own items, which this summary says explicitly:

- Cohen's kappa per pair uses only the items both raters rated (its ``n_items``); a pair
  with no shared item has no kappa (``null``), and the mean leaves it out;
- Krippendorff's alpha uses every item with at least two ratings (it is built for missing
  data);
- Fleiss' kappa needs the same number of ratings on every item, not the same raters
  (Fleiss 1971: raters may differ between items). The generic summary uses the items every
  rater rated, which an incomplete design has none of; here it uses the items with exactly
  k ratings instead: the study's k when known, otherwise the most common count of ratings
  per item (at least 2; a tie goes to the larger count).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from microverse.bench.agreement import Rating, RatingMatrix, agreement_summary, fleiss_kappa_from_counts


def design_agreement(ratings: Iterable[Rating], *, ratings_per_item: int | None = None,
                     source: str | None = None) -> dict[str, Any]:
    """:func:`agreement_summary` plus a ``design`` entry, with Fleiss' kappa on the k-rating items
    where no item was rated by every rater (or where ``ratings_per_item`` says the design is k of n)."""
    ratings = list(ratings)
    summary = agreement_summary(ratings, source=source)
    matrix = RatingMatrix.from_ratings(ratings, source=source)
    per_item = (matrix.codes >= 0).sum(axis=0)
    counts = Counter(int(c) for c in per_item)
    complete = counts.get(len(matrix.raters), 0) == len(matrix.items)
    summary["fleiss_kappa"]["ratings_per_item"] = len(matrix.raters)
    k = ratings_per_item if ratings_per_item is not None and ratings_per_item < len(matrix.raters) else None
    if k is None and summary["fleiss_kappa"]["n_items"] == 0:
        usable = [(n, c) for c, n in counts.items() if c >= 2]
        k = max(usable)[1] if usable else None
    if k is not None:
        chosen = per_item == k
        kappa = fleiss_kappa_from_counts(matrix.category_counts()[chosen]) if k >= 2 and chosen.any() else math.nan
        summary["fleiss_kappa"] = {"kappa": None if math.isnan(kappa) else round(float(kappa), 6),
                                   "n_items": int(chosen.sum()), "n_raters": len(matrix.raters),
                                   "n_items_dropped": int(len(matrix.items) - chosen.sum()), "ratings_per_item": k}
    no_overlap = [p for p in summary["cohen_kappa_pairwise"] if p["n_items"] == 0]
    summary["design"] = {
        "complete": complete,
        "items_by_ratings": {str(c): n for c, n in sorted(counts.items())},
        "pairs_without_shared_items": len(no_overlap),
        "note": None if complete else (
            "incomplete design: each Cohen's kappa uses only the items both raters rated (n_items), "
            f"{len(no_overlap)} pair(s) share none; Fleiss' kappa uses the items with exactly "
            f"{summary['fleiss_kappa']['ratings_per_item']} ratings (raters may differ between items); "
            "Krippendorff's alpha uses every item with 2 or more ratings"),
    }
    return summary

