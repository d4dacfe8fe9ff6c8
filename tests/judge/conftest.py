"""Fixtures for the judge tests: a misbehaving loopback judge and a known API key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the test modules import videos, tiny_vlm, conftest by name

from microverse.testing.fake_judge import FakeJudge  # noqa: E402

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


@pytest.fixture
def videos_dir(tmp_path):
    from videos import make_video

    folder = tmp_path / "videos"
    for index in (1, 2, 3):
        make_video(folder / f"{index}.mp4")
    return folder
