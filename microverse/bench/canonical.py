"""The canonical benchmark file: one JSON document in our versioned schema (docs/benchmark-schema.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from microverse.bench.models import SCHEMA_VERSION, Benchmark
from microverse.bench.official import read_json_file
from microverse.errors import MicroverseError


def write_canonical(benchmark: Benchmark, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(benchmark.model_dump_json(indent=1), encoding="utf-8")
    return path


def read_canonical(path: Path) -> Benchmark:
    """Load a canonical benchmark file; schema errors name the task and field."""
    data = read_json_file(path, "canonical benchmark")
    if not isinstance(data, dict):
        raise MicroverseError("expected a JSON object with 'schema_version' and 'tasks'", file=str(path))
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise MicroverseError(f"schema_version {version!r} is not {SCHEMA_VERSION!r}", file=str(path),
                              fix="export the benchmark again with this version of microverse")
    try:
        return Benchmark.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise MicroverseError(f"{first['msg']}", file=str(path), item=_describe(first["loc"], data),
                              fix="correct the field") from None


def _describe(loc: tuple, data: dict) -> str:
    """Turn a pydantic location into 'task <index> <field path>'."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "tasks" and isinstance(parts[1], int):
        try:
            index = data["tasks"][parts[1]].get("index", f"#{parts[1]}")
        except (IndexError, AttributeError, TypeError):
            index = f"#{parts[1]}"
        return f"task {index} " + ".".join(str(p) for p in parts[2:])
    return ".".join(str(p) for p in parts)
