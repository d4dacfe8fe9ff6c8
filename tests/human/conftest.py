"""Fixtures for the human-study tests (data builders live in microverse.testing.studies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from microverse.bench.canonical import write_canonical
from microverse.bench.models import Benchmark
from microverse.testing.studies import make_benchmark, make_videos


@pytest.fixture
def benchmark_file(tmp_path) -> tuple[Benchmark, Path]:
    benchmark = make_benchmark()
    return benchmark, write_canonical(benchmark, tmp_path / "bench.json")


@pytest.fixture
def video_dirs(tmp_path) -> dict[str, Path]:
    return make_videos(tmp_path, ["MicroVerse", "Sora", "Veo3"], range(6))
