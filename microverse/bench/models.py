"""The typed model of a rubric benchmark (MicroWorldBench and any benchmark built like it).

A benchmark is a list of tasks; a task has a prompt, a detailed requirement, a level
(organ / cellular / subcellular) and, per dimension, an ordered list of criteria. A
criterion has a polarity s in {+1, -1} and a weight w; the paper asks for w in (0, 1].

Two weights are kept per criterion because the official release ships two files: the
experts' raw weights (``MWBenchRubrics.json``) and the normalised weights the official
scoring script uses (``MWBenchRubrics_norm.json``). Scoring picks one explicitly.

``OfficialEncoding`` remembers exactly how each value was written in the official files
(key numbers such as ``d11``, weights written as strings, the literal ``"1."``), so that
exporting back to the official layout is lossless.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = "microverse.benchmark/1"

JsonScalar = str | int | float | bool | None


class Dimension(str, Enum):
    """The three rubric dimensions, in the paper's order."""

    SCIENTIFIC = "scientific"
    VISUAL = "visual"
    INSTRUCTION = "instruction"

    @property
    def rubric_key(self) -> str:
        """The key of this dimension's rubric in the official files."""
        return f"rubrics_{self.value}"

    @property
    def title(self) -> str:
        return {"scientific": "Scientific Fidelity", "visual": "Visual Quality",
                "instruction": "Instruction Following"}[self.value]


class Level(str, Enum):
    """The three biological levels of MicroWorldBench (the ``final_label`` values)."""

    ORGAN = "Organ-level"
    CELLULAR = "Cellular-level"
    SUBCELLULAR = "Subcellular-level"


DIMENSIONS: tuple[Dimension, ...] = tuple(Dimension)
LEVELS: tuple[Level, ...] = tuple(Level)

WeightSource = Literal["normalised", "raw"]


class OfficialEncoding(BaseModel):
    """How one criterion was written in the official files, kept for lossless export."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(description="the number in the official keys: d11/s11/w11 -> 11")
    polarity: JsonScalar = Field(description="the s value as written, e.g. '+1'")
    raw_weight: JsonScalar = Field(description="the w value in the raw-weight file as written")
    weight: JsonScalar = Field(description="the w value in the normalised file as written")
    norm_description: str | None = Field(
        default=None, description="the normalised file's text where it differs from the raw file's")


class Criterion(BaseModel):
    """One rubric point: polarity, weight and what the judge checks."""

    model_config = ConfigDict(frozen=True)

    description: str
    polarity: Literal[1, -1]
    weight: float = Field(description="normalised weight (the official scoring weight)")
    raw_weight: float | None = Field(default=None, description="the experts' raw weight, if known")
    official: OfficialEncoding | None = None

    @field_validator("weight", "raw_weight")
    @classmethod
    def _finite_non_negative(cls, value: float | None) -> float | None:
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"weight {value} must be a finite number >= 0")
        return value

    @property
    def is_penalty(self) -> bool:
        return self.polarity < 0

    def weight_from(self, source: WeightSource) -> float:
        """The weight to score with, from the chosen file."""
        if source == "raw":
            if self.raw_weight is None:
                raise ValueError("this benchmark carries no raw weights")
            return self.raw_weight
        return self.weight


class Task(BaseModel):
    """One benchmark task: what to generate and how it is judged."""

    index: int
    prompt: str = Field(description="the task text (official key 'task' / '任务')")
    requirement: str = Field(description="the detailed requirement (official 'requirement' / '具体要求')")
    level: Level | None = Field(default=None, description="the level used for per-level means")
    rubrics: dict[Dimension, list[Criterion]]
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="the task's record in the official metadata file, kept verbatim")
    official_texts: dict[str, str] = Field(
        default_factory=dict,
        description="task texts of the normalised file where they differ from the raw file's")

    def criteria(self, dimension: Dimension) -> list[Criterion]:
        return self.rubrics.get(dimension, [])


class BenchmarkSource(BaseModel):
    """Where a benchmark came from: enough to cite it and to check it again."""

    name: str = "MicroWorldBench"
    repository: str | None = None
    commit: str | None = None
    files: dict[str, str] = Field(default_factory=dict, description="file name -> SHA-256")


class Benchmark(BaseModel):
    """A whole benchmark in the canonical, versioned schema."""

    schema_version: str = SCHEMA_VERSION
    source: BenchmarkSource = Field(default_factory=BenchmarkSource)
    tasks: list[Task]

    def by_index(self) -> dict[int, Task]:
        return {task.index: task for task in self.tasks}

    def task(self, index: int) -> Task:
        for task in self.tasks:
            if task.index == index:
                return task
        raise KeyError(index)

    @property
    def has_raw_weights(self) -> bool:
        return all(c.raw_weight is not None
                   for t in self.tasks for cs in t.rubrics.values() for c in cs)
