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


TRAIN_SIZE = dict(height=32, width=32, frames=5)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """Four short synthetic clips (moving bright square, distinct per clip) in the official layout."""
    import json

    import numpy as np

    from microverse.model.pipelines.video_io import write_mp4

    root = tmp_path_factory.mktemp("microsim")
    rows = []
    for k in range(4):
        frames = np.zeros((9, 48, 40, 3), dtype=np.uint8)
        for t in range(9):
            frames[t, 4 + 2 * t: 16 + 2 * t, 4 + 3 * k: 16 + 3 * k, k % 3] = 220
        write_mp4(frames, root / "videos" / f"clip_{k}.mp4")
        rows.append({"id": f"clip_{k}", "video": f"videos/clip_{k}.mp4", "prompt": f"cell number {k} moves down"})
    (root / "metadata.json").write_text(json.dumps(rows))
    return root / "metadata.json"
