"""The local Hugging Face judge with a tiny random LLaVA: it runs, and its garbage is handled as bad answers."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

pytest.importorskip("transformers")
pytest.importorskip("torch")

from tiny_vlm import build_tiny_llava  # noqa: E402
from videos import make_video  # noqa: E402

from microverse.bench.canonical import write_canonical  # noqa: E402
from microverse.errors import MicroverseError  # noqa: E402
from microverse.judge.frames import extract_frames  # noqa: E402
from microverse.judge.providers import ChatRequest  # noqa: E402
from microverse.judge.providers.factory import make_provider  # noqa: E402
from microverse.testing.benchmark import tiny_benchmark  # noqa: E402

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))


def test_generates_with_frames(tiny_model, tmp_path):
    provider = make_provider(f"hf:{tiny_model}")
    frames = extract_frames(make_video(tmp_path / "1.mp4"))
    result = asyncio.run(provider.complete(ChatRequest("Judge: 1. [positive point] x", frames.image_urls,
                                                       max_tokens=12)))
    assert provider.describe() == f"hf:{tiny_model}"
    assert result.usage.completion_tokens <= 12 and result.usage.prompt_tokens > 8
    assert result.response_format == "none" and provider.meter.successes == 1


def test_missing_model_is_a_clean_error(tmp_path):
    with pytest.raises(MicroverseError, match="cannot load"):
        make_provider(f"hf:{tmp_path / 'nothing-here'}")


@pytest.mark.slow
def test_eval_with_hf_judge_stores_garbage_as_failed(tiny_model, tmp_path):
    from typer.testing import CliRunner

    from microverse.cli.app import app

    bench = write_canonical(tiny_benchmark(2), tmp_path / "bench.json")
    for index in (1, 2):
        make_video(tmp_path / "videos" / f"{index}.mp4")
    db = tmp_path / "s.sqlite"
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "videos"), "--name", "tiny", "--benchmark", str(bench),
                                      "--judge", f"hf:{tiny_model}", "--db", str(db), "--max-tokens", "24"])
    assert result.exit_code == 0, result.output
    rows = sqlite3.connect(db).execute("SELECT status, failure, judge FROM judgments").fetchall()
    assert len(rows) == 6 and {r[0] for r in rows} == {"failed"}
    assert all("unusable answer after 3 ask(s)" in r[1] for r in rows) and rows[0][2] == f"hf:{tiny_model}"
    asks = sqlite3.connect(db).execute("SELECT sum(asks) FROM judge_answers").fetchone()[0]
    assert asks == 18
