"""Fixtures for the data pipeline: small synthetic videos with known cuts, bars, text and stills."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.data.data_synthetic import Scene, make_video

pytest.importorskip("scenedetect")
pytest.importorskip("cv2")


# The mixed video: scene boundaries at frames 30, 50 and 75 (115 frames, 24 fps, 160x96).
MIXED_SCENES = [Scene(30, 1), Scene(20, 2, static=True), Scene(25, 3, text="HELLO WORLD"), Scene(40, 4)]
MIXED_CUTS = [(0, 30), (30, 50), (50, 75), (75, 115)]


@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> dict[str, Path]:
    """Named synthetic videos, written once per test session."""
    root = tmp_path_factory.mktemp("videos")
    return {
        "mixed": make_video(root / "mixed.mp4", MIXED_SCENES),
        "letterbox": make_video(root / "letterbox.mp4", [Scene(36, 5)], bars=(12, 12, 0, 0)),
        "pillarbox": make_video(root / "pillarbox.mp4", [Scene(36, 6)], bars=(0, 0, 16, 16)),
        "clean": make_video(root / "clean.mp4", [Scene(36, 7)]),
    }


@pytest.fixture
def cli():
    from microverse.cli.app import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke
