"""The judge prompt of the paper protocol, versioned: what one call for one dimension shows.

Every call carries the task, its detailed requirement and *every* criterion of the
dimension, numbered in rubric order and labelled positive or penalty point — whatever key
the criterion had in the official files (the official evaluator only looked at ``d1``…``d9``
and read the task under keys the rubric file does not have, so its judge saw neither the
task nor criteria 10+).

Changing the wording changes results: any edit must get a new ``PROMPT_VERSION`` (the
store keys judgments by it, so old and new answers are never mixed in one score).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from microverse.bench.models import Criterion, Dimension, Task
from microverse.judge.providers.base import ChatRequest

PROMPT_VERSION = "paper-v1"

_TEMPLATE = """You are an expert evaluator of scientific animation videos of the microscopic world \
(organs, cells, subcellular structures). The {n_frames} images are frames of ONE generated video, \
in chronological order, taken at the centres of {n_frames} equal segments of the video. \
Evaluate the video in the dimension "{dimension}" only.

Task given to the video generator:
{task}

Detailed requirements:
{requirement}

{dimension} criteria ({n} points):
{criteria}

How to score each criterion, in the order listed:
- a [positive point] scores 1 if the video meets it, otherwise 0;
- a [penalty point] scores 1 if the video shows the described problem, otherwise 0.
Base every judgment on what the frames show.

Answer with one JSON object and nothing else:
{{"scores": [exactly {n} numbers, each 0 or 1, one per criterion in order], "reasoning": "a brief justification for each criterion"}}"""

_CORRECTION = """

Your previous answer could not be used: {problem}. Answer again with only the JSON object, \
with exactly {n} scores, each 0 or 1."""


def criterion_line(number: int, criterion: Criterion) -> str:
    kind = "penalty point" if criterion.is_penalty else "positive point"
    return f"{number}. [{kind}] {criterion.description.strip()}"


def answer_schema(n_criteria: int) -> dict[str, Any]:
    """The JSON schema sent as structured output (exact length, values 0/1)."""
    return {
        "type": "object",
        "properties": {
            "scores": {"type": "array", "items": {"type": "integer", "enum": [0, 1]},
                       "minItems": n_criteria, "maxItems": n_criteria},
            "reasoning": {"type": "string"},
        },
        "required": ["scores", "reasoning"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class DimensionPrompt:
    """The text of one (task, dimension) call and a hash that says whether a stored answer still applies."""

    task: int
    dimension: Dimension
    text: str
    n_criteria: int

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def request(self, image_urls: tuple[str, ...] = (), *, temperature: float | None = 0.0,
                max_tokens: int | None = None) -> ChatRequest:
        return ChatRequest(prompt=self.text, image_urls=image_urls, json_schema=answer_schema(self.n_criteria),
                           schema_name="rubric_judgment", temperature=temperature, max_tokens=max_tokens)

    def corrected(self, request: ChatRequest, problem: str) -> ChatRequest:
        """The same request, telling the judge what was wrong with its last answer."""
        return replace(request, prompt=self.text + _CORRECTION.format(problem=problem, n=self.n_criteria))


def build_prompt(task: Task, dimension: Dimension, n_frames: int) -> DimensionPrompt | None:
    """The call for one dimension of one task; None when the dimension has no criteria."""
    criteria = task.criteria(dimension)
    if not criteria:
        return None
    text = _TEMPLATE.format(
        n_frames=n_frames, dimension=dimension.title, task=task.prompt.strip() or "(no task text)",
        requirement=task.requirement.strip() or "(none given)", n=len(criteria),
        criteria="\n".join(criterion_line(i, c) for i, c in enumerate(criteria, 1)))
    return DimensionPrompt(task.index, dimension, text, len(criteria))
