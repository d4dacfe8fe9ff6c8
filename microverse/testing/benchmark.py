"""A small synthetic MicroWorldBench for dry runs: no download, and rubrics shaped to catch key bugs.

Criteria counts differ per task and dimension, and task 1's scientific dimension has 12
criteria, so keys past ``d9`` (which the official evaluator never sends to its judge) are
always present.
"""

from __future__ import annotations

from microverse.bench.models import Benchmark, Criterion, Dimension, Level, Task


def tiny_benchmark(n_tasks: int = 3) -> Benchmark:
    """``n_tasks`` tasks, 2-4 criteria per dimension (12 for task 1's scientific), every 4th a penalty."""
    tasks = []
    for index in range(1, n_tasks + 1):
        rubrics = {}
        for d, dim in enumerate(Dimension):
            n = 12 if (index == 1 and dim is Dimension.SCIENTIFIC) else 2 + (index + d) % 3
            rubrics[dim] = [Criterion(description=f"T{index} {dim.value} criterion {k}", polarity=-1 if k % 4 == 3 else 1,
                                      weight=0.5) for k in range(1, n + 1)]
        tasks.append(Task(index=index, prompt=f"Task {index}: show mitosis step {index}",
                          requirement=f"Requirement {index}: label the spindle", level=list(Level)[index % 3],
                          rubrics=rubrics))
    return Benchmark(tasks=tasks)
