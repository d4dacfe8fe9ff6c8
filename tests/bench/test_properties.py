"""Invariants of scoring and of the file formats, on generated benchmarks and answers."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microverse.bench.canonical import read_canonical, write_canonical
from microverse.bench.judgments import DimensionJudgment, ModelJudgments, TaskJudgments
from microverse.bench.models import DIMENSIONS, Benchmark, Criterion, Dimension, Level, OfficialEncoding, Task
from microverse.bench.official import read_official, write_official
from microverse.bench.scoring import score_model

weights = st.sampled_from([0.2, 0.5, 0.7, 1.0, 1.5, 2.0])
criterion = st.builds(lambda s, w: (s, w), st.sampled_from([1, 1, 1, -1]), weights)
rubric = st.lists(criterion, min_size=1, max_size=7).filter(lambda cs: any(s > 0 for s, _ in cs))


@st.composite
def benchmarks(draw, max_tasks=4):
    n = draw(st.integers(1, max_tasks))
    tasks = []
    for index in range(1, n + 1):
        rubrics = {}
        for dim in DIMENSIONS:
            points = draw(rubric)
            rubrics[dim] = [Criterion(description=f"{dim.value} {i} <b>&\"'", polarity=s, weight=w, raw_weight=w * 2,
                                      official=OfficialEncoding(number=i + 1, polarity="+1" if s > 0 else "-1",
                                                                raw_weight=str(w * 2), weight=w))
                            for i, (s, w) in enumerate(points)]
        level = draw(st.sampled_from(list(Level)))
        tasks.append(Task(index=index, prompt=f"task {index} ✓", requirement="req", level=level, rubrics=rubrics,
                          metadata={"index": index, "任务": f"task {index} ✓", "具体要求": "req",
                                    "final_label": level.value}))
    return Benchmark(tasks=tasks)


@st.composite
def bench_and_hits(draw):
    bench = draw(benchmarks())
    hits = {t.index: {d: draw(st.lists(st.integers(0, 1), min_size=len(t.criteria(d)), max_size=len(t.criteria(d))))
                      for d in DIMENSIONS} for t in bench.tasks}
    return bench, hits


def judgments(hits) -> ModelJudgments:
    return ModelJudgments(model="m", records=[
        TaskJudgments(index=i, dimensions={d: DimensionJudgment(scores=h, parsed={"scores": h}) for d, h in dims.items()})
        for i, dims in hits.items()])


@settings(max_examples=150, deadline=None)
@given(bench_and_hits())
def test_scores_never_exceed_100(case):
    bench, hits = case
    for policy in ("corrected", "official"):
        for task in score_model(bench, judgments(hits), policy).tasks:
            assert task.total is not None and task.total <= 100 + 1e-9
            assert all(d.score <= 100 + 1e-9 for d in task.dimensions.values())


@settings(max_examples=100, deadline=None)
@given(benchmarks())
def test_all_positives_hit_and_no_penalty_scores_100(bench):
    hits = {t.index: {d: [1 if c.polarity > 0 else 0 for c in t.criteria(d)] for d in DIMENSIONS} for t in bench.tasks}
    for policy in ("corrected", "official"):
        for task in score_model(bench, judgments(hits), policy).tasks:
            assert abs(task.total - 100) < 1e-9


@settings(max_examples=150, deadline=None)
@given(bench_and_hits())
def test_policies_agree_on_clean_input(case):
    """Numbering 1..N, exact lengths, 0/1 ints: the policies differ only by clamping negatives."""
    bench, hits = case
    official = score_model(bench, judgments(hits), "official")
    corrected = score_model(bench, judgments(hits), "corrected")
    for o, c in zip(official.tasks, corrected.tasks):
        assert o.index == c.index
        assert abs(o.total - max(0.0, c.total)) < 1e-9
        for dim in Dimension:
            assert abs(o.dimensions[dim].score - max(0.0, c.dimensions[dim].score)) < 1e-9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(benchmarks())
def test_export_then_load_is_identity(tmp_path_factory, bench):
    folder = tmp_path_factory.mktemp("rt")
    assert read_canonical(write_canonical(bench, folder / "b.json")) == bench
    write_official(bench, folder / "official")
    again, _ = read_official(folder / "official")
    assert again.tasks == bench.tasks
    first = json.loads((folder / "official" / "MWBenchRubrics_norm.json").read_text())
    write_official(again, folder / "official2")
    assert json.loads((folder / "official2" / "MWBenchRubrics_norm.json").read_text()) == first
