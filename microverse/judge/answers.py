"""Check a judge's answer: a JSON object with one 0/1 score per criterion, or a reason why not.

Lenient in *finding* the JSON (code fences, prose around it, several objects — the first
with a ``scores`` key wins) and strict in *accepting* it: exactly the right number of
scores, each 0 or 1 (``1``, ``1.0``, ``"1"`` and ``true`` all mean 1; anything else is
refused). A refused answer is re-asked, and if it stays bad it is stored as failed with
this reason — never scored as 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from microverse.bench.scoring import as_hit


class BadAnswer(Exception):
    """Why an answer cannot be scored (the message goes to the store and the re-ask)."""


@dataclass(frozen=True)
class ParsedAnswer:
    scores: list[int]
    reasoning: str | None
    parsed: dict[str, Any]


def _objects(text: str):
    decoder = json.JSONDecoder()
    position = text.find("{")
    while position != -1:
        try:
            value, _ = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            yield value
        position = text.find("{", position + 1)



def parse_answer(text: str, n_criteria: int) -> ParsedAnswer:
    """The validated answer, or :class:`BadAnswer` saying what is wrong."""
    if not text or not text.strip():
        raise BadAnswer("the answer was empty")
    candidates = [obj for obj in _objects(text) if "scores" in obj]
    if not candidates:
        raise BadAnswer("no JSON object with a \"scores\" key was found")
    answer = candidates[0]
    scores = answer["scores"]
    if not isinstance(scores, list):
        raise BadAnswer(f"\"scores\" is a {type(scores).__name__}, not a list")
    if len(scores) != n_criteria:
        raise BadAnswer(f"{len(scores)} scores for {n_criteria} criteria")
    values = [as_hit(v) for v in scores]
    bad = [i + 1 for i, v in enumerate(values) if v is None]
    if bad:
        raise BadAnswer(f"score(s) {', '.join(map(str, bad[:5]))} not 0 or 1: "
                        f"{', '.join(repr(scores[i - 1]) for i in bad[:5])}")
    reasoning = answer.get("reasoning")
    if reasoning is not None and not isinstance(reasoning, str):
        reasoning = json.dumps(reasoning, ensure_ascii=False)
    return ParsedAnswer(values, reasoning, answer)


def majority(answers: list[list[int]]) -> list[int]:
    """Per-criterion majority of an odd number of 0/1 lists."""
    if not answers or len(answers) % 2 == 0:
        raise ValueError("majority needs an odd number of answers")
    return [int(sum(column) * 2 > len(answers)) for column in zip(*answers)]
