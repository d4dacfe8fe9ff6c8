"""Fixtures for the data pipeline: small synthetic videos with known cuts, bars, text and stills."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

# The data extra; without it the test modules cannot even be imported, so they are not
# collected and test_data_requirements.py says why (one skip with the reason).
REQUIRED = ("pandas", "pyarrow", "scenedetect", "cv2", "rapidocr_onnxruntime")
MISSING = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
if MISSING:
    collect_ignore = [p.name for p in Path(__file__).parent.glob("test_data_*.py") if p.name != "test_data_requirements.py"]
else:
    from microverse.testing.videos import Scene, make_video


# The mixed video: scene boundaries at frames 30, 50 and 75 (115 frames, 24 fps, 160x96).
MIXED_SCENES = [Scene(30, 1), Scene(20, 2, static=True), Scene(25, 3, text="HELLO WORLD"), Scene(40, 4)] \
    if not MISSING else []
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
