"""Scores from judgments, exactly as the paper defines them, under two named policies.

Per criterion the judge gives hit in {0, 1}. Per dimension

    S = sum(s_i * w_i * hit_i),    S_norm = S / sum(w_i for s_i = +1) * 100

and the task total is the same ratio over all three dimensions together. Means are taken
per level (the paper's Table 1) and per dimension (Table 2).

``official`` reproduces the official ``calculate_scores.py`` number for number, quirks
included, so published figures can be compared. ``corrected`` (the default) fixes what
that script gets wrong; each fix has a name (C1..C8) documented in docs/scoring.md and
listed in :data:`CORRECTIONS`. Neither policy lets a task vanish silently: every task of
the benchmark appears in the result with a status and a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from microverse.bench.judgments import DimensionJudgment, ModelJudgments
from microverse.bench.models import DIMENSIONS, Benchmark, Criterion, Dimension, Level, Task, WeightSource

Policy = Literal["official", "corrected"]

CORRECTIONS = {
    "C1": "criteria are matched to scores by position, whatever their keys (d11..d55 are not lost)",
    "C2": "a score list whose length differs from the number of criteria is invalid, not truncated",
    "C3": "only 0/1 values count (1, true, '1'); anything else makes the answer invalid instead of a miss",
    "C4": "no clamping at 0: the paper's formula, so heavy penalties stay visible in means",
    "C5": "a dimension with no positive weight is undefined, not 0",
    "C6": "dimension means use every task judged on that dimension; one failed dimension does not drop "
          "the other two",
    "C7": "duplicate task entries are counted once (the last), unknown indices and every missing task are "
          "reported",
    "C8": "a mean over no tasks is undefined (shown as n/a), not 0.0",
}


@dataclass
class DimensionScore:
    """One (task, dimension): its score, or why there is none."""

    status: Literal["ok", "missing", "failed", "invalid", "undefined"]
    score: float | None = None
    raw: float = 0.0
    max_positive: float = 0.0
    hits: list[int] | None = None
    reason: str | None = None
    reasoning: str | None = None


@dataclass
class TaskScore:
    index: int
    level: Level | None
    dimensions: dict[Dimension, DimensionScore]
    total: float | None = None
    reason: str | None = None


@dataclass
class ModelScores:
    """A model's per-task scores under one policy, plus everything needed to trust them."""

    model: str
    policy: Policy
    weights: WeightSource
    tasks: list[TaskScore] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped: str | None = None
    benchmark_tasks: int = 0
    source: str | None = None

    @property
    def valid_tasks(self) -> int:
        return sum(1 for t in self.tasks if t.total is not None)

    def totals(self, level: Level | None = None) -> list[tuple[int, float]]:
        """(task index, total) for the tasks that have one, optionally of one level.

        A list, not a dict: under the official policy a duplicated entry counts twice.
        """
        return [(t.index, t.total) for t in self.tasks
                if t.total is not None and (level is None or t.level == level)]

    def dimension_scores(self, dim: Dimension) -> list[tuple[int, float]]:
        """(task index, dimension score) under the policy's rule for which tasks count (C6)."""
        if self.policy == "official":
            return [(t.index, t.dimensions[dim].score) for t in self.tasks if t.total is not None]
        return [(t.index, t.dimensions[dim].score) for t in self.tasks if t.dimensions[dim].status == "ok"]

    def missing_tasks(self) -> list[int]:
        return sorted({t.index for t in self.tasks if t.total is None})


# --------------------------------------------------------------------------- corrected


def as_hit(value: Any) -> int | None:
    """0 or 1 from a judge value, None if the value is not a clear 0/1 (shared with the judge's answer check)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    return None


def score_dimension(criteria: list[Criterion], judgment: DimensionJudgment | None,
                    weights: WeightSource = "normalised") -> DimensionScore:
    """The corrected score of one dimension (fixes C1-C5)."""
    if judgment is None or not judgment.present:
        return DimensionScore("missing", reason="not judged")
    if judgment.failure:
        return DimensionScore("failed", reason=judgment.failure, reasoning=judgment.reasoning)
    scores = judgment.scores
    if not isinstance(scores, list):
        return DimensionScore("invalid", reason=f"no score list in the answer (got {type(scores).__name__})",
                              reasoning=judgment.reasoning)
    if len(scores) != len(criteria):
        return DimensionScore("invalid", reason=f"{len(scores)} scores for {len(criteria)} criteria",
                              reasoning=judgment.reasoning)
    hits = [as_hit(v) for v in scores]
    if any(h is None for h in hits):
        bad = next(v for v, h in zip(scores, hits) if h is None)
        return DimensionScore("invalid", reason=f"score value {bad!r} is not 0 or 1", reasoning=judgment.reasoning)
    raw = sum(c.polarity * c.weight_from(weights) * h for c, h in zip(criteria, hits))
    max_positive = sum(c.weight_from(weights) for c in criteria if c.polarity > 0)
    if max_positive <= 0:
        return DimensionScore("undefined", raw=raw, hits=hits, reason="no positive weight in this dimension",
                              reasoning=judgment.reasoning)
    return DimensionScore("ok", score=raw / max_positive * 100, raw=raw, max_positive=max_positive, hits=hits,
                          reasoning=judgment.reasoning)


def _index_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def score_corrected(benchmark: Benchmark, judgments: ModelJudgments,
                    weights: WeightSource = "normalised") -> ModelScores:
    result = ModelScores(judgments.model, "corrected", weights, benchmark_tasks=len(benchmark.tasks),
                         source=judgments.source)
    tasks = benchmark.by_index()
    latest: dict[int, dict[Dimension, DimensionJudgment]] = {}
    for record in judgments.records:
        index = _index_of(record.index)
        if index is None or index not in tasks:
            result.notes.append(f"judgment for unknown task index {record.index!r} ignored")
            continue
        if isinstance(record.index, str):
            result.notes.append(f"task index {record.index!r} given as a string")
        if index in latest:
            result.notes.append(f"task {index} judged more than once; the last entry is used")
        latest[index] = record.dimensions
    for task in benchmark.tasks:
        result.tasks.append(_score_task(task, latest.get(task.index, {}), weights))
    return result


def _score_task(task: Task, judged: dict[Dimension, DimensionJudgment], weights: WeightSource) -> TaskScore:
    dims = {dim: score_dimension(task.criteria(dim), judged.get(dim), weights) for dim in DIMENSIONS}
    score = TaskScore(task.index, task.level, dims)
    bad = [f"{dim.value}: {d.status}" + (f" ({d.reason})" if d.reason else "")
           for dim, d in dims.items() if d.status != "ok"]
    if bad:
        score.reason = "; ".join(bad)
        return score
    raw = sum(d.raw for d in dims.values())
    max_positive = sum(d.max_positive for d in dims.values())
    score.total = raw / max_positive * 100
    return score


# --------------------------------------------------------------------------- official


class _OfficialDropped(Exception):
    """The official script's per-file ``except Exception`` would drop the whole model."""


def _official_dimension(criteria: list[Criterion], scores: Any) -> tuple[float, float]:
    """Mirror of ``_calculate_dimension_score``: scores matched to key numbers, short lists shrink
    the denominator, only ``== 1`` counts."""
    if not criteria or not scores:
        return 0.0, 0.0
    by_number = {}
    for position, criterion in enumerate(criteria, start=1):
        number = criterion.official.number if criterion.official else position
        by_number[number] = criterion
    raw = max_possible = 0.0
    try:
        for i, value in enumerate(scores):
            criterion = by_number.get(i + 1)
            if criterion is None:
                continue
            encoded = criterion.official
            polarity_text = str(encoded.polarity) if encoded else ("+1" if criterion.polarity > 0 else "-1")
            weight = float(encoded.weight) if encoded else criterion.weight
            sign = 1 if polarity_text == "+1" else -1 if polarity_text == "-1" else int(polarity_text)
            if value == 1:
                raw += sign * weight
            if sign > 0:
                max_possible += weight
    except (TypeError, ValueError) as exc:
        raise _OfficialDropped(f"{type(exc).__name__}: {exc}") from None
    return raw, max_possible


def _official_normalise(raw: float, max_possible: float) -> float:
    return 0.0 if max_possible <= 0 else max(0.0, raw / max_possible * 100)


def score_official(benchmark: Benchmark, judgments: ModelJudgments) -> ModelScores:
    """Reproduce the official ``calculate_scores.py`` for one model (normalised weights, final_label)."""
    result = ModelScores(judgments.model, "official", "normalised", benchmark_tasks=len(benchmark.tasks),
                         source=judgments.source)
    tasks = benchmark.by_index()
    scored: set[int] = set()
    skipped: dict[int, str] = {}
    try:
        for record in judgments.records:
            if record.index not in tasks:
                result.notes.append(f"judgment for unknown task index {record.index!r} skipped (as the official "
                                    "script does)")
                continue
            task = tasks[record.index]
            dims: dict[Dimension, DimensionScore] = {}
            task_raw = task_max = 0.0
            reason = None
            for dim in DIMENSIONS:
                judgment = record.dimensions.get(dim)
                parsed = judgment.parsed if judgment is not None and judgment.present else None
                if not parsed:
                    reason = f"{dim.value}: no parsed result"
                    break
                if not isinstance(parsed, dict):
                    raise _OfficialDropped(f"task {record.index}: parsed_result is {type(parsed).__name__}")
                scores = parsed.get("scores", [])
                if not scores:
                    reason = f"{dim.value}: empty score list"
                    break
                raw, max_possible = _official_dimension(task.criteria(dim), scores)
                dims[dim] = DimensionScore("ok", score=_official_normalise(raw, max_possible), raw=raw,
                                           max_positive=max_possible,
                                           hits=[1 if v == 1 else 0 for v in scores] if isinstance(scores, list)
                                           else None, reasoning=judgment.reasoning)
                task_raw += raw
                task_max += max_possible
            if reason:
                skipped[task.index] = f"skipped by the official script: {reason}"
                continue
            if task.index in scored:
                result.notes.append(f"task {task.index} counted twice (duplicate entry, as the official script does)")
            scored.add(task.index)
            result.tasks.append(TaskScore(task.index, task.level, dims,
                                          total=_official_normalise(task_raw, task_max)))
    except _OfficialDropped as exc:
        result.dropped = f"the official script drops this whole model: {exc}"
        result.tasks = []
        return result
    for task in benchmark.tasks:
        if task.index not in scored:
            result.tasks.append(_unscored(task, skipped.get(task.index, "no judgment")))
    return result


def _unscored(task: Task, reason: str) -> TaskScore:
    return TaskScore(task.index, task.level,
                     {dim: DimensionScore("missing", reason=reason) for dim in DIMENSIONS}, reason=reason)


def score_model(benchmark: Benchmark, judgments: ModelJudgments, policy: Policy = "corrected",
                weights: WeightSource = "normalised") -> ModelScores:
    """Score one model's judgments under ``policy``."""
    if policy == "official":
        if weights != "normalised":
            raise ValueError("the official policy always scores with the normalised weights")
        return score_official(benchmark, judgments)
    return score_corrected(benchmark, judgments, weights)
