"""A self-contained HTML report: tables, charts, and a per-task drill-down of every criterion.

Everything that came from a judge or a file (reasoning, criterion text, model names) is
escaped by Jinja2's autoescape; only our own SVG charts are inserted as markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from microverse.bench.aggregate import ModelSummary
from microverse.bench.models import DIMENSIONS, LEVELS, Benchmark
from microverse.bench.scoring import CORRECTIONS
from microverse.report.markdown import cell
from microverse.report.paper_reference import reference_rows
from microverse.report.plots import grouped_bars


@dataclass
class _CriterionRow:
    position: int
    polarity: str
    weight: float
    description: str
    hits: list[str]


def _task_views(benchmark: Benchmark, summaries: list[ModelSummary]) -> list[dict]:
    by_model = [{t.index: t for t in s.scores.tasks} for s in summaries]
    views = []
    for task in benchmark.tasks:
        scores = [m.get(task.index) for m in by_model]
        dims = []
        for dim in DIMENSIONS:
            rows = []
            for position, criterion in enumerate(task.criteria(dim)):
                marks = []
                for score in scores:
                    d = score.dimensions.get(dim) if score else None
                    if d is None or d.hits is None or position >= len(d.hits):
                        marks.append("—")
                    else:
                        marks.append("hit" if d.hits[position] else "miss")
                rows.append(_CriterionRow(position + 1, "+" if criterion.polarity > 0 else "−",
                                          criterion.weight_from(summaries[0].scores.weights) if summaries
                                          else criterion.weight, criterion.description, marks))
            judged = []
            for summary, score in zip(summaries, scores):
                d = score.dimensions.get(dim) if score else None
                judged.append({"model": summary.model,
                               "score": "n/a" if d is None or d.score is None else f"{d.score:.1f}",
                               "status": d.status if d else "missing", "reason": d.reason if d else None,
                               "reasoning": d.reasoning if d else None})
            dims.append({"title": dim.title, "rows": rows, "judged": judged})
        totals = ["n/a" if s is None or s.total is None else f"{s.total:.1f}" for s in scores]
        views.append({"index": task.index, "level": task.level.value if task.level else "unlabelled",
                      "prompt": task.prompt, "dims": dims, "totals": totals})
    return views


def html_report(summaries: list[ModelSummary], benchmark: Benchmark, *, policy: str, weights: str,
                resamples: int, reference: bool = False, title: str = "MicroWorldBench results",
                agreement: dict[str, dict[str, dict]] | None = None) -> str:
    env = Environment(loader=PackageLoader("microverse.report", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    ranked = sorted(summaries, key=lambda s: (s.average.mean is None, -(s.average.mean or 0.0), s.model))
    level_chart = dimension_chart = None
    if ranked:
        level_chart = Markup(grouped_bars(
            ranked, [("Average", lambda s: s.average)] + [(lv.value, lambda s, lv=lv: s.levels[lv]) for lv in LEVELS],
            "Table 1: average and per-level scores (95% CI)"))
        dimension_chart = Markup(grouped_bars(
            ranked, [(d.title, lambda s, d=d: s.dimensions[d]) for d in DIMENSIONS],
            "Table 2: per-dimension scores (95% CI)"))
    rows = [{"model": s.model, "average": cell(s.average), "levels": [cell(s.levels[lv]) for lv in LEVELS],
             "dims": [cell(s.dimensions[d]) for d in DIMENSIONS], "valid": s.scores.valid_tasks,
             "total": s.scores.benchmark_tasks, "missing": s.scores.missing_tasks(), "notes": s.scores.notes,
             "dropped": s.scores.dropped} for s in ranked]
    return env.get_template("report.html.j2").render(
        title=title, policy=policy, weights=weights, resamples=resamples, rows=rows,
        levels=[lv.value for lv in LEVELS], dimensions=[d.title for d in DIMENSIONS],
        dimension_keys=[d.value for d in DIMENSIONS], models=[s.model for s in ranked],
        reference=reference_rows() if reference else {}, corrections=CORRECTIONS if policy == "corrected" else {},
        level_chart=level_chart, dimension_chart=dimension_chart, tasks=_task_views(benchmark, ranked),
        agreement=agreement or {})


__all__ = ["html_report"]
