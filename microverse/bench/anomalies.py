"""Anomalies: things in a benchmark that are legal enough to load but wrong enough to report.

The official MicroWorldBench files load, but they disagree with the paper and with each
other in ways that change scores if nobody looks (see docs/benchmark.md). Every anomaly
has a stable ``code`` so reports, tests and users can refer to it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from microverse.bench.models import Benchmark, Dimension, Level

# The paper's level counts (Section 2.2: "238 at the organ level, 189 at the cellular
# level, and 32 at the subcellular level").
PAPER_LEVEL_COUNTS = {Level.ORGAN: 238, Level.CELLULAR: 189, Level.SUBCELLULAR: 32}
PAPER_TASK_COUNT = 459
# The paper's drafting prompt asks for five criteria per dimension at most but real rubrics
# vary; fewer than this many is reported as a short dimension.
EXPECTED_CRITERIA_PER_DIMENSION = 5

DESCRIPTIONS = {
    "criterion-numbering": "criterion keys are not numbered 1..N (the official evaluator only sends d1..d9 "
                           "and the official scorer matches scores to key numbers)",
    "weight-out-of-range": "weight outside the paper's (0, 1]",
    "weight-zero": "weight is 0: the criterion can never change a score",
    "penalty-weight-zero": "penalty criterion with weight 0: the penalty can never bite",
    "weight-string-typed": "weight written as a JSON string instead of a number",
    "weight-nonstandard-text": "weight string that is not a plain decimal (e.g. '1.')",
    "polarity-nonstandard": "polarity written other than '+1' / '-1'",
    "dimension-missing": "task has no rubric for this dimension",
    "dimension-short": f"dimension has fewer than {EXPECTED_CRITERIA_PER_DIMENSION} criteria",
    "no-positive-weight": "dimension has no positive weight: its normalised score is undefined",
    "duplicate-index": "task index appears more than once in a file (the last one is used)",
    "index-mismatch": "task index present in one file but not in another",
    "text-mismatch": "the files disagree on a task or criterion text",
    "task-text-keys": "the files store the task text under different keys",
    "level-missing": "task has no usable level label",
    "level-label-disagreement": "the task's final_label disagrees with its Chinese category (类别)",
    "level-count-paper": "level counts differ from the paper's",
    "task-count-paper": "task count differs from the paper's 459",
    "weight-mapping-inconsistent": "the same raw weight maps to different normalised weights in different places",
}


@dataclass(frozen=True)
class Anomaly:
    """One finding: what, where, and the value that caused it."""

    code: str
    message: str
    file: str | None = None
    task: int | None = None
    dimension: str | None = None
    key: str | None = None
    value: object = None

    def where(self) -> str:
        parts = [self.file or "", f"task {self.task}" if self.task is not None else "",
                 self.dimension or "", self.key or ""]
        return " / ".join(p for p in parts if p)


@dataclass
class AnomalySummary:
    """Anomalies grouped by code, with counts and a few examples each."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[Anomaly]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, anomalies: list[Anomaly], max_examples: int = 5) -> AnomalySummary:
        summary = cls()
        for anomaly in anomalies:
            summary.counts[anomaly.code] += 1
            if len(summary.examples[anomaly.code]) < max_examples:
                summary.examples[anomaly.code].append(anomaly)
        return summary

    def to_json(self) -> dict:
        return {code: {"count": n, "description": DESCRIPTIONS.get(code, ""),
                       "examples": [{"where": a.where(), "message": a.message,
                                     "value": a.value if isinstance(a.value, (int, float, str, type(None)))
                                     else repr(a.value)}
                                    for a in self.examples[code]]}
                for code, n in sorted(self.counts.items())}


def check_benchmark(benchmark: Benchmark) -> list[Anomaly]:
    """Anomalies visible in the canonical model, whatever file format it came from."""
    found: list[Anomaly] = []
    levels = Counter(task.level for task in benchmark.tasks)
    for task in benchmark.tasks:
        if task.level is None:
            found.append(Anomaly("level-missing", "no level label; the task is left out of per-level means",
                                 task=task.index))
        for dim in Dimension:
            criteria = task.criteria(dim)
            if not criteria:
                found.append(Anomaly("dimension-missing", f"no {dim.value} criteria", task=task.index,
                                     dimension=dim.value))
                continue
            if len(criteria) < EXPECTED_CRITERIA_PER_DIMENSION:
                found.append(Anomaly("dimension-short", f"{len(criteria)} criteria", task=task.index,
                                     dimension=dim.value, value=len(criteria)))
            if not any(c.polarity > 0 and c.weight > 0 for c in criteria):
                found.append(Anomaly("no-positive-weight", "sum of positive weights is 0", task=task.index,
                                     dimension=dim.value))
            for position, criterion in enumerate(criteria, start=1):
                for label, weight in (("weight", criterion.weight), ("raw weight", criterion.raw_weight)):
                    if weight is None:
                        continue
                    key = f"criterion {position} {label}"
                    if weight == 0:
                        code = "penalty-weight-zero" if criterion.is_penalty else "weight-zero"
                        found.append(Anomaly(code, f"{label} is 0", task=task.index, dimension=dim.value,
                                             key=key, value=weight))
                    elif not 0 < weight <= 1:
                        found.append(Anomaly("weight-out-of-range", f"{label} {weight} outside (0, 1]",
                                             task=task.index, dimension=dim.value, key=key, value=weight))
    found.extend(_mapping_anomalies(benchmark))
    if benchmark.source.name == "MicroWorldBench":
        if len(benchmark.tasks) != PAPER_TASK_COUNT:
            found.append(Anomaly("task-count-paper", f"{len(benchmark.tasks)} tasks, paper says 459",
                                 value=len(benchmark.tasks)))
        for level, expected in PAPER_LEVEL_COUNTS.items():
            if levels.get(level, 0) != expected:
                found.append(Anomaly("level-count-paper",
                                     f"{levels.get(level, 0)} {level.value} tasks, the paper says {expected}",
                                     key=level.value, value=levels.get(level, 0)))
    return found


def _mapping_anomalies(benchmark: Benchmark) -> list[Anomaly]:
    """Report raw weights that normalise to different values in different dimensions."""
    targets: dict[float, Counter] = defaultdict(Counter)
    for task in benchmark.tasks:
        for dim, criteria in task.rubrics.items():
            for criterion in criteria:
                if criterion.raw_weight is not None:
                    targets[criterion.raw_weight][(dim.value, criterion.weight)] += 1
    found = []
    for raw, seen in sorted(targets.items()):
        normalised = {w for (_, w) in seen}
        if len(normalised) > 1:
            detail = ", ".join(f"{dim}->{w:g} ({n}x)" for (dim, w), n in sorted(seen.items()))
            found.append(Anomaly("weight-mapping-inconsistent", f"raw weight {raw:g} becomes {detail}",
                                 value=raw))
    return found
