"""Assemble the built benchmark in the canonical schema (then the official layout via bench).

Tasks are the screened selection (every task when nobody screened); rubrics are the merged
expert revision, or the LLM drafts as they are when no expert revised anything (the
export says so). A criterion that still carries a blocking flag (unknown dimension, empty
text, polarity not +1/-1, weight outside (0, 1]) cannot be exported: the error lists them,
or ``skip_incomplete`` leaves them out and reports each.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from microverse.bench.models import Benchmark, BenchmarkSource, Criterion, Dimension, Level, Task
from microverse.build.parse_rubric import BLOCKING, DraftCriterion
from microverse.build.revision import MergedCriterion, action_from_json, merge_revisions
from microverse.errors import MicroverseError
from microverse.store import builds as store


@dataclass
class ExportReport:
    benchmark: Benchmark
    revised: bool
    skipped_criteria: list[str] = field(default_factory=list)
    tasks_without_rubric: list[int] = field(default_factory=list)
    tasks_without_level: list[int] = field(default_factory=list)


def load_drafts(conn: sqlite3.Connection) -> dict[int, list[DraftCriterion]]:
    return {task: [DraftCriterion.from_json(c) for c in criteria] for task, criteria in store.drafts(conn).items()}


def load_actions(conn: sqlite3.Connection):
    return [action_from_json(record, f"stored action {k}") for k, record in enumerate(store.actions(conn), start=1)]


def _problem(c: MergedCriterion) -> str | None:
    blocking = [f for f in c.flags if f.split(":")[0] in BLOCKING]
    if blocking:
        return ", ".join(blocking)
    if c.dimension is None or c.polarity not in (1, -1) or c.weight is None or not 0 < c.weight <= 1 \
            or not c.description:
        return "incomplete criterion"
    return None


def build_benchmark(conn: sqlite3.Connection, *, name: str, skip_incomplete: bool = False) -> ExportReport:
    drafts = load_drafts(conn)
    actions = load_actions(conn)
    selected = store.selection(conn)
    rows = {r["task"]: r for r in store.tasks(conn)}
    wanted = sorted(rows) if selected is None else selected
    if not wanted:
        raise MicroverseError("no task to export", fix="run `microverse build tasks` (and `build screen`) first")
    revised = bool(actions)
    if revised:
        merged = merge_revisions({t: d for t, d in drafts.items() if t in set(wanted)}, actions,
                                 reviewers=store.reviewers(conn)).rubrics
    else:
        merged = {t: [MergedCriterion(c.dimension, c.description, c.polarity, c.weight, f"draft:{c.number}",
                                      list(c.flags)) for c in drafts[t]] for t in wanted if t in drafts}
    report = ExportReport(Benchmark(tasks=[], source=BenchmarkSource(name=name)), revised)
    problems = []
    for task in wanted:
        if task not in merged:
            report.tasks_without_rubric.append(task)
            continue
        rubrics: dict[Dimension, list[Criterion]] = {d: [] for d in Dimension}
        for c in merged[task]:
            problem = _problem(c)
            if problem:
                label = f"task {task} {c.source}: {problem}"
                (report.skipped_criteria if skip_incomplete else problems).append(label)
                continue
            rubrics[c.dimension].append(Criterion(description=c.description, polarity=c.polarity, weight=c.weight,
                                                  raw_weight=c.weight))
        row = rows[task]
        level = Level(row["level"]) if row["level"] else None
        if level is None:
            report.tasks_without_level.append(task)
        metadata = {"index": task, "任务": row["prompt"], "具体要求": row["requirement"],
                    "final_label": level.value if level else None, "source_id": row["source_id"]}
        report.benchmark.tasks.append(Task(index=task, prompt=row["prompt"], requirement=row["requirement"],
                                           level=level, rubrics=rubrics, metadata=metadata))
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise MicroverseError(f"{len(problems)} criteria cannot be exported: {shown}",
                              fix="fix them with revision actions (edit/reweight), or pass --skip-incomplete")
    if report.tasks_without_rubric and not skip_incomplete:
        raise MicroverseError(f"{len(report.tasks_without_rubric)} selected task(s) have no rubric draft: "
                              f"{report.tasks_without_rubric[:10]}",
                              fix="run `microverse build rubrics` first, or pass --skip-incomplete")
    return report
