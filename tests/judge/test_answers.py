"""Answer checking and the prompt: lenient finding, strict accepting."""

from __future__ import annotations

import pytest

from microverse.bench.models import Dimension
from microverse.judge.answers import BadAnswer, majority, parse_answer
from microverse.judge.prompt import PROMPT_VERSION, answer_schema, build_prompt
from microverse.testing.benchmark import tiny_benchmark


@pytest.mark.parametrize("text,scores", [
    ('{"scores": [1, 0, 1], "reasoning": "ok"}', [1, 0, 1]),
    ('Sure!\n```json\n{"scores": [1, 0, 1], "reasoning": "x"}\n```', [1, 0, 1]),
    ('{"note": {"a": 1}} then {"scores": ["1", true, 0.0], "reasoning": "x"}', [1, 1, 0]),
    ('{"scores": [0, 0, 0], "reasoning": {"1": "fine"}}', [0, 0, 0]),
])
def test_good_answers(text, scores):
    assert parse_answer(text, 3).scores == scores


@pytest.mark.parametrize("text,why", [
    ("", "empty"),
    ("scores: 1, 0, 1", "no JSON object"),
    ('{"scores": [1, 0, 1', "no JSON object"),
    ('{"scores": "101"}', "not a list"),
    ('{"scores": [1, 0]}', "2 scores for 3 criteria"),
    ('{"scores": [1, 0, 1, 1]}', "4 scores for 3 criteria"),
    ('{"scores": [1, 2, -1]}', r"score\(s\) 2, 3 not 0 or 1"),
    ('{"scores": [1, "yes", 0.5]}', "not 0 or 1"),
])
def test_bad_answers(text, why):
    with pytest.raises(BadAnswer, match=why):
        parse_answer(text, 3)


def test_majority():
    assert majority([[1, 0, 1], [1, 1, 0], [0, 1, 1]]) == [1, 1, 1]
    assert majority([[0, 1]]) == [0, 1]
    with pytest.raises(ValueError):
        majority([[1], [0]])


def test_prompt_shows_everything():
    task = tiny_benchmark().tasks[0]
    prompt = build_prompt(task, Dimension.SCIENTIFIC, 8)
    assert prompt.n_criteria == 12 and PROMPT_VERSION == "paper-v1"
    for k in range(1, 13):
        assert f"T1 scientific criterion {k}" in prompt.text
    assert task.prompt in prompt.text and task.requirement in prompt.text
    assert "Scientific Fidelity" in prompt.text and "8 images" in prompt.text
    request = prompt.request(("data:x",))
    assert request.json_schema == answer_schema(12) and request.json_schema["properties"]["scores"]["maxItems"] == 12
    fixed = prompt.corrected(request, "2 scores for 12 criteria")
    assert fixed.prompt.startswith(prompt.text) and "2 scores for 12 criteria" in fixed.prompt
    assert fixed.image_urls == ("data:x",)
    task.rubrics[Dimension.VISUAL] = []
    assert build_prompt(task, Dimension.VISUAL, 8) is None


def test_prompt_versions():
    task = tiny_benchmark().tasks[1]
    paper = build_prompt(task, Dimension.VISUAL, 8, "paper-v1")
    first = build_prompt(task, Dimension.VISUAL, 8, "reasoning-first-v1")
    assert paper.text != first.text and "written first" in first.text and paper.sha != first.sha
    assert list(first.request().json_schema["properties"]) == ["reasoning", "scores"]
    assert list(paper.request().json_schema["properties"]) == ["scores", "reasoning"]
    with pytest.raises(ValueError, match="unknown prompt version"):
        build_prompt(task, Dimension.VISUAL, 8, "v0")
