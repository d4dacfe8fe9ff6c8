"""Fixtures for the judge tests: a misbehaving loopback judge and a known API key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_judge import FakeJudge  # noqa: E402

SECRET = "sk-test-SECRET-never-leak-0123456789"


@pytest.fixture
def api_key(monkeypatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    return SECRET


@pytest.fixture
def fake_judge():
    with FakeJudge() as judge:
        yield judge


def tiny_benchmark(n_tasks: int = 3):
    """A small benchmark whose criteria counts differ per dimension (one with 12, past d9)."""
    from microverse.bench.models import Benchmark, Criterion, Dimension, Level, Task

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


@pytest.fixture
def videos_dir(tmp_path):
    from videos import make_video

    folder = tmp_path / "videos"
    for index in (1, 2, 3):
        make_video(folder / f"{index}.mp4")
    return folder
