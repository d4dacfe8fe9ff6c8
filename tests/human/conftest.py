"""Fixtures for the human-study tests (data builders live in microverse.testing.studies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from microverse.bench.canonical import write_canonical
from microverse.bench.models import Benchmark
from microverse.store import studies as store
from microverse.testing.studies import make_assigned_study, make_benchmark, make_videos

RATERS = ["alice", "bob", "carol", "dan", "eve"]


@pytest.fixture
def benchmark_file(tmp_path) -> tuple[Benchmark, Path]:
    benchmark = make_benchmark()
    return benchmark, write_canonical(benchmark, tmp_path / "bench.json")


@pytest.fixture
def video_dirs(tmp_path) -> dict[str, Path]:
    return make_videos(tmp_path, ["MicroVerse", "Sora", "Veo3"], range(6))


@pytest.fixture
def assigned(tmp_path):
    """A 12-task preference study, each task rated by 2 of the 5 ``RATERS``: (db, conn, study, tokens)."""
    db, tokens = make_assigned_study(tmp_path, 12, RATERS, 2, seed=3)
    conn = store.open_studies(db)
    return db, conn, store.get_study(conn, "p"), tokens
