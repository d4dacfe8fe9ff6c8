"""Tiny Wan2.1 pipeline shared by the model tests (built once per session, random weights, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("diffusers", reason="the model extra (torch, diffusers) is not installed")


def pytest_collection_modifyitems(items):
    """Every test in this folder needs the model extra: mark it so `-m "not model"` skips them."""
    for item in items:
        if "tests/model/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.model)

SMALL = dict(height=64, width=64, frames=9)  # well under the 17x128x128 test ceiling


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from microverse.model.pipelines.tiny import write_tiny_pipeline

    return write_tiny_pipeline(tmp_path_factory.mktemp("tiny-wan"), seed=0)
