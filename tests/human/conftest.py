"""Fixtures for the human-study tests (data builders live in studykit.py, shared with tests/web)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests have no packages: make studykit importable
from studykit import make_benchmark, make_videos  # noqa: E402

from microverse.bench.canonical import write_canonical
from microverse.bench.models import Benchmark


@pytest.fixture
def benchmark_file(tmp_path) -> tuple[Benchmark, Path]:
    benchmark = make_benchmark()
    return benchmark, write_canonical(benchmark, tmp_path / "bench.json")


@pytest.fixture
def video_dirs(tmp_path) -> dict[str, Path]:
    return make_videos(tmp_path, ["MicroVerse", "Sora", "Veo3"], range(6))
