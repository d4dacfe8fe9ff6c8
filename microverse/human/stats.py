"""Results of human studies: preference ratios with intervals, rater agreement, judge-vs-human.

Preference ratios (the paper's Figure 6) are shares of all votes; their 95% interval is a
percentile bootstrap that resamples *items* (all votes of a task move together), because
the raters of one task are not independent draws. Agreement among raters uses
:mod:`microverse.bench.agreement`. A judge "prefers" the model with the higher judge
score on the same dimension (equal scores: a tie), and is compared with the human
majority of each item (items without a majority are left out and counted). In an assigned
study (k of n raters per item) the agreement statistics say how they use the incomplete
design (:func:`microverse.bench.agreement.agreement_summary`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from microverse.bench.agreement import RatingMatrix, agreement_summary, cohen_kappa, majority_labels, pairwise_cohen_kappa
from microverse.human.judges import JudgeView
from microverse.human.study import TIE
from microverse.store.studies import Answer, Item, Study

HUMANS = "humans (majority)"


def _round(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 6)


def _share_interval(counts: np.ndarray, totals: np.ndarray, rng: np.random.Generator,
                    resamples: int) -> tuple[float | None, float | None]:
    """Bootstrap over items of sum(counts) / sum(totals)."""
    n = len(totals)
    if n < 2 or resamples <= 0:
        return None, None
    picks = rng.integers(0, n, size=(resamples, n))
    denominators = totals[picks].sum(axis=1)
    shares = counts[picks].sum(axis=1) / np.where(denominators == 0, 1, denominators)
    low, high = np.quantile(shares, [0.025, 0.975])
    return float(low), float(high)


def _votes(answers: list[Answer], dimension: str) -> list[tuple[str, str, str]]:
    return [(a.rater, a.item_key, a.answer) for a in answers if a.question == dimension]


def preference_results(study: Study, items: list[Item], answers: list[Answer], *,
                       judges: list[JudgeView] = (), seed: int = 0, resamples: int = 2000) -> dict[str, Any]:
    """Per dimension: vote shares with intervals, rater agreement, and each judge's agreement with humans."""
    rng = np.random.default_rng(seed)
    models = list(study.config["models"])
    task_of = {i.key: i.task_index for i in items}
    result: dict[str, Any] = {"study": study.name, "models": models, "items": len(items),
                              "raters": sorted({a.rater for a in answers}), "dimensions": {}}
    for dim in study.config["dimensions"]:
        votes = _votes(answers, dim)
        keys = sorted({item for _, item, _ in votes})
        per_item = {k: Counter() for k in keys}
        for _, item, label in votes:
            per_item[item][label] += 1
        totals = np.array([sum(per_item[k].values()) for k in keys], dtype=float)
        shares = {}
        for option in [*models, TIE]:
            counts = np.array([per_item[k][option] for k in keys], dtype=float)
            share = counts.sum() / totals.sum() if totals.sum() else None
            low, high = _share_interval(counts, totals, rng, resamples)
            shares[option] = {"votes": int(counts.sum()), "share": _round(share), "ci": [_round(low), _round(high)]}
        entry: dict[str, Any] = {"votes": len(votes), "items_voted": len(keys), "shares": shares}
        raters = {r for r, _, _ in votes}
        entry["agreement"] = (agreement_summary(votes, ratings_per_item=study.raters_per_item)
                              if len(raters) >= 2 else None)
        if judges:
            entry["judges"] = _judge_agreement(votes, judges, models, task_of, dim)
        result["dimensions"][dim] = entry
    return result


def judge_pick(judge: JudgeView, models: list[str], task: int, dimension: str, tolerance: float = 1e-9) -> str | None:
    """The model the judge scored highest on ``dimension`` (``tie`` when the top is shared); None if unscored."""
    scores = [judge.scores.get((m, task, dimension)) for m in models]
    if any(s is None for s in scores):
        return None
    best = max(scores)
    winners = [m for m, s in zip(models, scores) if abs(s - best) <= tolerance]
    return winners[0] if len(winners) == 1 else TIE


def _judge_agreement(votes: list[tuple[str, str, str]], judges: list[JudgeView], models: list[str],
                     task_of: dict[str, int], dim: str) -> dict[str, Any]:
    """Each judge against the human majority, plus the full consistency matrix (judges x humans)."""
    majority = majority_labels(RatingMatrix.from_ratings(votes))
    combined = list(votes) + [(HUMANS, item, label) for item, label in majority.items() if label is not None]
    per_judge = {}
    for judge in judges:
        picks = {item: judge_pick(judge, models, task_of[item], dim) for item in majority}
        paired = [(majority[i], picks[i]) for i in majority if majority[i] is not None and picks[i] is not None]
        agree = sum(h == j for h, j in paired)
        per_judge[judge.name] = {
            "items": len(paired),
            "no_human_majority": sum(1 for v in majority.values() if v is None),
            "unscored_by_judge": sum(1 for v in picks.values() if v is None),
            "agreement": _round(agree / len(paired)) if paired else None,
            "cohen_kappa": _round(cohen_kappa([h for h, _ in paired], [j for _, j in paired])) if paired else None,
        }
        combined += [(f"judge:{judge.name}", item, pick) for item, pick in picks.items() if pick is not None]
    matrix = RatingMatrix.from_ratings(combined)
    consistency = [{"a": str(p.rater_a), "b": str(p.rater_b), "items": p.n_items,
                    "agreement": _round(p.percent_agreement), "cohen_kappa": _round(p.kappa)}
                   for p in pairwise_cohen_kappa(matrix)]
    return {"vs_human_majority": per_judge, "consistency": consistency}


# ---------------------------------------------------------------- criterion annotation

def annotation_results(study: Study, items: list[Item], answers: list[Answer], *,
                       judges: list[JudgeView] = ()) -> dict[str, Any]:
    """Expert agreement on criterion marks, and each judge's accuracy against the expert majority."""
    by_key = {i.key: i for i in items}
    marks = [(a.rater, f"{a.item_key}|{a.question}", a.answer) for a in answers]
    result: dict[str, Any] = {"study": study.name, "items": len(items), "marks": len(marks),
                              "raters": sorted({a.rater for a in answers})}
    result["agreement"] = (agreement_summary(marks, ratings_per_item=study.raters_per_item)
                           if len(result["raters"]) >= 2 else None)
    majority = majority_labels(RatingMatrix.from_ratings(marks)) if marks else {}
    result["no_expert_majority"] = sum(1 for v in majority.values() if v is None)
    result["judges"] = {}
    for judge in judges:
        per_dim: dict[str, list[bool]] = defaultdict(list)
        per_criterion: dict[tuple[int, str], list[bool]] = defaultdict(list)
        unjudged = 0
        for key, expert in majority.items():
            if expert is None:
                continue
            item_key, criterion = key.split("|", 1)
            item = by_key[item_key]
            dim, number = criterion.split(":")
            hits = judge.hits.get((item.payload["model"], item.task_index, dim))
            if hits is None or int(number) >= len(hits):
                unjudged += 1
                continue
            correct = str(hits[int(number)]) == expert
            per_dim[dim].append(correct)
            per_criterion[(item.task_index, criterion)].append(correct)
        everything = [c for v in per_dim.values() for c in v]
        result["judges"][judge.name] = {
            "accuracy": _round(sum(everything) / len(everything)) if everything else None,
            "marks_compared": len(everything),
            "not_judged": unjudged,
            "per_dimension": {d: {"accuracy": _round(sum(v) / len(v)), "marks": len(v)}
                              for d, v in sorted(per_dim.items())},
            "per_criterion": [{"task": task, "criterion": crit, "accuracy": _round(sum(v) / len(v)),
                               "videos": len(v)} for (task, crit), v in sorted(per_criterion.items())],
        }
    return result
