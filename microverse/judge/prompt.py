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

_PAPER_V1 = """You are an expert evaluator of scientific animation videos of the microscopic world \
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

# The same instructions, but the judge writes its reasoning before the scores (and the schema
# orders the keys so), which lets a judge think before it commits to numbers.
_REASONING_FIRST_V1 = _PAPER_V1.replace(
    """{{"scores": [exactly {n} numbers, each 0 or 1, one per criterion in order], "reasoning": "a brief justification for each criterion"}}""",
    """{{"reasoning": "a brief justification for each criterion, written first", "scores": [exactly {n} numbers, each 0 or 1, one per criterion in order]}}""")

#: Every prompt version a run can name; results are stored per version, so versions never mix.
TEMPLATES = {"paper-v1": _PAPER_V1, "reasoning-first-v1": _REASONING_FIRST_V1}

_CORRECTION = """

Your previous answer could not be used: {problem}. Answer again with only the JSON object, \
with exactly {n} scores, each 0 or 1."""


def criterion_line(number: int, criterion: Criterion) -> str:
    kind = "penalty point" if criterion.is_penalty else "positive point"
    # One line per criterion, so a description with line breaks cannot blur the numbering.
    return f"{number}. [{kind}] {' '.join(criterion.description.split())}"


def answer_schema(n_criteria: int, reasoning_first: bool = False) -> dict[str, Any]:
    """The JSON schema sent as structured output (exact length, values 0/1; key order as the prompt asks)."""
    properties = {
        "scores": {"type": "array", "items": {"type": "integer", "enum": [0, 1]},
                   "minItems": n_criteria, "maxItems": n_criteria},
        "reasoning": {"type": "string"},
    }
    order = ["reasoning", "scores"] if reasoning_first else ["scores", "reasoning"]
    return {
        "type": "object",
        "properties": {key: properties[key] for key in order},
        "required": order,
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class DimensionPrompt:
    """The text of one (task, dimension) call and a hash that says whether a stored answer still applies."""

    task: int
    dimension: Dimension
    text: str
    n_criteria: int
    version: str = PROMPT_VERSION

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]

    def request(self, image_urls: tuple[str, ...] = (), *, temperature: float | None = 0.0,
                max_tokens: int | None = None) -> ChatRequest:
        schema = answer_schema(self.n_criteria, reasoning_first=self.version.startswith("reasoning-first"))
        return ChatRequest(prompt=self.text, image_urls=image_urls, json_schema=schema,
                           schema_name="rubric_judgment", temperature=temperature, max_tokens=max_tokens)

    def corrected(self, request: ChatRequest, problem: str) -> ChatRequest:
        """The same request, telling the judge what was wrong with its last answer."""
        return replace(request, prompt=self.text + _CORRECTION.format(problem=problem, n=self.n_criteria))


def build_prompt(task: Task, dimension: Dimension, n_frames: int,
                 version: str = PROMPT_VERSION) -> DimensionPrompt | None:
    """The call for one dimension of one task; None when the dimension has no criteria."""
    if version not in TEMPLATES:
        raise ValueError(f"unknown prompt version {version!r}; known: {', '.join(TEMPLATES)}")
    criteria = task.criteria(dimension)
    if not criteria:
        return None
    text = TEMPLATES[version].format(
        n_frames=n_frames, dimension=dimension.title, task=task.prompt.strip() or "(no task text)",
        requirement=task.requirement.strip() or "(none given)", n=len(criteria),
        criteria="\n".join(criterion_line(i, c) for i, c in enumerate(criteria, 1)))
    return DimensionPrompt(task.index, dimension, text, len(criteria), version)
