"""On the real MicroWorldBench: every criterion of every task reaches the judge (d11…d55 included)."""

from __future__ import annotations

import re

from microverse.bench.loading import load_benchmark
from microverse.bench.models import DIMENSIONS
from microverse.judge.prompt import build_prompt

LINE = re.compile(r"^(\d+)\. \[(positive|penalty) point\] (.*)$", re.MULTILINE)


def test_all_criteria_of_the_official_benchmark_are_shown(official_dir):
    benchmark = load_benchmark(official_dir).benchmark
    high_keys = 0
    for task in benchmark.tasks:
        for dim in DIMENSIONS:
            criteria = task.criteria(dim)
            prompt = build_prompt(task, dim, 8)
            if not criteria:
                assert prompt is None
                continue
            lines = LINE.findall(prompt.text)
            assert [int(n) for n, _, _ in lines] == list(range(1, len(criteria) + 1))
            assert [kind == "penalty" for _, kind, _ in lines] == [c.is_penalty for c in criteria]
            assert [text for _, _, text in lines] == [" ".join(c.description.split()) for c in criteria]
            assert task.prompt.strip() in prompt.text and task.requirement.strip() in prompt.text
            high_keys += any(c.official and c.official.number > 9 for c in criteria)
    assert len(benchmark.tasks) == 459 and high_keys == 55
