"""Judgments: what a judge said about one model's videos, the input to scoring.

The same shape comes from the official evaluator's ``<Model>_result.json`` files and from
our SQLite store, so both are scored by the same code. Values are kept as the judge gave
them (``scores`` may hold strings, 2s or be the wrong length): the *policy* decides what a
usable answer is, because the official scorer and the corrected one disagree on exactly
that.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from microverse.bench.models import Dimension


class DimensionJudgment(BaseModel):
    """The judge's answer for one (task, dimension), or why there is none."""

    scores: Any = Field(default=None, description="the judge's 'scores' value as given; None if no answer")
    reasoning: str | None = None
    failure: str | None = Field(default=None, description="why no usable answer exists (judge error, parse error)")
    parsed: Any = Field(default=None, description="the whole parsed answer object, for the official policy")
    present: bool = Field(default=True, description="False where the official file had no entry at all")


class TaskJudgments(BaseModel):
    """All dimensions judged for one task of one model."""

    index: Any = Field(description="the task index as written (official files may hold strings)")
    dimensions: dict[Dimension, DimensionJudgment] = Field(default_factory=dict)
    video: str | None = None


class ModelJudgments(BaseModel):
    """One model's judgments, in file order, duplicates kept (the official scorer counts them twice)."""

    model: str
    source: str | None = Field(default=None, description="file or database the judgments came from")
    records: list[TaskJudgments] = Field(default_factory=list)
    judge: str | None = Field(default=None, description="judge model and protocol, where known")
