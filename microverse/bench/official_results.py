"""Read judge results in the official evaluator's layout: a folder of ``<Model>_result.json``.

Each file is a JSON list of items ``{"index", "video_path", "scientific_eval",
"visual_eval", "instruction_eval"}``, each ``*_eval`` being ``{"raw_response",
"parsed_result"}`` with ``parsed_result`` the judge's JSON (``{"scores": [...],
"reasoning": ...}``) or null when it could not be parsed. Structure that cannot be read is
an error naming file, item and field; odd *values* are kept for the scoring policy to judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microverse.bench.judgments import DimensionJudgment, ModelJudgments, TaskJudgments
from microverse.bench.models import DIMENSIONS
from microverse.bench.official import read_json_file
from microverse.errors import MicroverseError

RESULT_SUFFIX = "_result.json"


def read_official_results(directory: Path) -> list[ModelJudgments]:
    """Every ``<Model>_result.json`` in ``directory``, sorted by model name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MicroverseError("results folder not found", file=str(directory),
                              fix="pass the folder holding <Model>_result.json files")
    files = sorted(p for p in directory.iterdir() if p.name.endswith(RESULT_SUFFIX) and p.is_file())
    if not files:
        raise MicroverseError(f"no *{RESULT_SUFFIX} files", file=str(directory),
                              fix="the official evaluator writes eval_result/<Model>_result.json")
    return [read_result_file(path) for path in files]


def read_result_file(path: Path) -> ModelJudgments:
    data = read_json_file(path, "results file")
    if not isinstance(data, list):
        raise MicroverseError(f"expected a JSON list of results, found {type(data).__name__}", file=str(path))
    model = path.name[: -len(RESULT_SUFFIX)]
    records = [_record(item, position, path) for position, item in enumerate(data)]
    return ModelJudgments(model=model, source=str(path), records=records)


def _record(item: Any, position: int, path: Path) -> TaskJudgments:
    if not isinstance(item, dict):
        raise MicroverseError(f"is {type(item).__name__}, expected an object", file=str(path),
                              item=f"item {position}")
    index = item.get("index")
    known = {f"{dim.value}_eval" for dim in DIMENSIONS}
    for key in item:
        if key.endswith("_eval") and key not in known:
            raise MicroverseError(f"unknown dimension {key!r}", file=str(path), item=f"task {index}",
                                  fix=f"result keys are {', '.join(sorted(known))}")
    dims = {}
    for dim in DIMENSIONS:
        key = f"{dim.value}_eval"
        evaluation = item.get(key)
        if evaluation is not None and not isinstance(evaluation, dict):
            raise MicroverseError(f"is {type(evaluation).__name__}, expected an object with parsed_result",
                                  file=str(path), item=f"task {index} {key}")
        dims[dim] = _dimension(evaluation)
    return TaskJudgments(index=index, dimensions=dims, video=item.get("video_path"))


def _dimension(evaluation: dict | None) -> DimensionJudgment:
    if not evaluation:
        return DimensionJudgment(present=False, failure="no evaluation recorded")
    parsed = evaluation.get("parsed_result")
    if parsed is None:
        return DimensionJudgment(parsed=None, failure="the judge's answer could not be parsed")
    if not isinstance(parsed, dict):
        return DimensionJudgment(parsed=parsed, scores=None)
    reasoning = parsed.get("reasoning")
    return DimensionJudgment(parsed=parsed, scores=parsed.get("scores"),
                             reasoning=reasoning if isinstance(reasoning, str) else
                             (None if reasoning is None else str(reasoning)))
