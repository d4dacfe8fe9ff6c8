"""Shared fixtures: where the official benchmark lives, and a clean cache per test."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
OFFICIAL_DIR = REPO.parent / "shared" / "benchmark" / "official"


@pytest.fixture
def official_dir() -> Path:
    """The official MicroWorldBench files from ../shared; skips where they are absent."""
    if not (OFFICIAL_DIR / "MWBenchRubrics_norm.json").is_file():
        pytest.skip(f"official benchmark files not found at {OFFICIAL_DIR} (../shared is absent)")
    return OFFICIAL_DIR


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own empty benchmark cache, so none depends on the user's."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MICROVERSE_CACHE", str(cache))
    return cache
