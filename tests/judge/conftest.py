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
