"""What each judge said about the study's videos: per-(model, task) scores and criterion hits.

Judge results are read from folders in the official evaluator's layout
(``<Model>_result.json``) or from the SQLite store ``microverse eval`` writes, and scored with the corrected
policy of :mod:`microverse.bench.scoring`, so the judge side of a human study is scored
exactly like a leaderboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from microverse.bench.judgments import ModelJudgments
from microverse.bench.models import DIMENSIONS, Benchmark
from microverse.bench.official_results import read_official_results
from microverse.bench.scoring import score_model

OVERALL = "overall"


@dataclass
class JudgeView:
    """One judge: scores[(model, task, dimension or 'overall')] and hits[(model, task, dimension)]."""

    name: str
    scores: dict[tuple[str, int, str], float] = field(default_factory=dict)
    hits: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)


def load_judge(name: str, source: Path, benchmark: Benchmark) -> JudgeView:
    """A judge from a results folder (official layout) or a ``microverse eval`` database (judge = ``name``)."""
    source = Path(source)
    if source.is_file():
        from microverse.store.judgments import load_model_judgments

        return judge_view(name, load_model_judgments(source, judge=name), benchmark)
    return judge_view(name, read_official_results(source), benchmark)


def judge_view(name: str, models: list[ModelJudgments], benchmark: Benchmark) -> JudgeView:
    view = JudgeView(name)
    for judgments in models:
        scored = score_model(benchmark, judgments, "corrected")
        for task in scored.tasks:
            if task.total is not None:
                view.scores[(judgments.model, task.index, OVERALL)] = task.total
            for dim in DIMENSIONS:
                result = task.dimensions[dim]
                if result.score is not None:
                    view.scores[(judgments.model, task.index, dim.value)] = result.score
                if result.hits is not None:
                    view.hits[(judgments.model, task.index, dim.value)] = result.hits
    return view
