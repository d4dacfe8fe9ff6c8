"""Read and write the official MicroWorldBench layout (three JSON files) faithfully.

``MWBenchRubrics.json`` holds the texts and the experts' raw weights,
``MWBenchRubrics_norm.json`` the same rubrics with the weights the official scorer uses,
``finaltasks.json`` the task metadata with the level label (``final_label``) and fields
keyed in Chinese. Structural breakage (missing file, truncated JSON, wrong types, NaN or
negative weights) is an error naming file, task and field; everything that loads but
disagrees with the paper or between files becomes an :class:`Anomaly`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any

from microverse.bench.anomalies import Anomaly
from microverse.bench.models import Benchmark, BenchmarkSource, Criterion, Dimension, Level, OfficialEncoding, Task
from microverse.errors import MicroverseError

RAW_FILE = "MWBenchRubrics.json"
NORM_FILE = "MWBenchRubrics_norm.json"
TASKS_FILE = "finaltasks.json"
OFFICIAL_FILES = (RAW_FILE, NORM_FILE, TASKS_FILE)

OFFICIAL_REPOSITORY = "FreedomIntelligence/MicroVerse"
OFFICIAL_COMMIT = "d4eb6079b41ee083d46de27bcbd1f361b1638a4b"
OFFICIAL_SHA256 = {
    RAW_FILE: "24615604ee3f5522f9b3f130c040c74a38fc0331d37652bb731e7c620853d9ae",
    NORM_FILE: "a70c0b1755ce6d9ac3a0dd574a0d9a2da894757250f311b95c72e903bfdfb591",
    TASKS_FILE: "0d5cd540b70f72b795dbd2b7c6ebeb7e47cd19d6a6deb532eecffdba50dc961c",
}

# The files name the same two texts differently; the official evaluator reads the Chinese
# keys from the file that has the English ones, so its judge never sees the task.
TASK_KEYS = ("task", "任务")
REQUIREMENT_KEYS = ("requirement", "具体要求")
CATEGORY_KEY = "类别"
# 类别 has two values; each admits these final_label values.
CATEGORY_LEVELS = {"器官": {Level.ORGAN}, "细胞或分子": {Level.CELLULAR, Level.SUBCELLULAR}}
_RUBRIC_KEY = re.compile(r"^([a-z])_?(\d+)$")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json_file(path: Path, what: str) -> Any:
    """Parse one JSON file, turning every failure into a one-line error naming the file."""
    if not path.is_file():
        raise MicroverseError(f"{what} not found", file=str(path),
                              fix="run `microverse bench fetch` or pass --benchmark DIR")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise MicroverseError(f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
                              file=str(path), fix="restore the file (e.g. `microverse bench fetch`)") from None
    except UnicodeDecodeError:
        raise MicroverseError("not UTF-8 text", file=str(path), fix="restore the file") from None


class _Reader:
    """Collects anomalies while turning the three files into one :class:`Benchmark`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.anomalies: list[Anomaly] = []

    def note(self, code: str, message: str, **where: Any) -> None:
        self.anomalies.append(Anomaly(code, message, **where))

    def fail(self, message: str, file: str, task: Any = None, field: str | None = None,
             fix: str = "correct the value or restore the file with `microverse bench fetch`") -> None:
        item = " ".join(p for p in (f"task {task}" if task is not None else "", field or "") if p)
        raise MicroverseError(message, file=str(self.directory / file), item=item or None, fix=fix)

    # -- files -------------------------------------------------------------------------
    def records(self, name: str) -> dict[int, dict]:
        data = read_json_file(self.directory / name, name)
        if not isinstance(data, list):
            self.fail(f"expected a JSON list of tasks, found {type(data).__name__}", name)
        by_index: dict[int, dict] = {}
        for position, record in enumerate(data):
            if not isinstance(record, dict):
                self.fail(f"item {position} is {type(record).__name__}, expected an object", name)
            index = record.get("index")
            if isinstance(index, bool) or not isinstance(index, int):
                self.fail(f"item {position} has index {index!r}, expected an integer", name, field="index")
            if index in by_index:
                self.note("duplicate-index", f"index {index} appears again at item {position}", file=name,
                          task=index)
            by_index[index] = record
        return by_index

    # -- values ------------------------------------------------------------------------
    def weight(self, value: Any, name: str, task: int, dim: Dimension, key: str) -> float:
        where = dict(file=name, task=task, dimension=dim.value, key=key)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            self.fail(f"weight {value!r} is not a number", name, task, f"{dim.rubric_key}.{key}")
        if isinstance(value, str):
            self.note("weight-string-typed", f"weight written as string {value!r}", value=value, **where)
            try:
                number = float(value)
            except ValueError:
                self.fail(f"weight {value!r} is not a number", name, task, f"{dim.rubric_key}.{key}")
            if not re.fullmatch(r"\d+\.\d+", value.strip()):
                self.note("weight-nonstandard-text", f"weight written as {value!r}", value=value, **where)
        else:
            number = float(value)
        if not math.isfinite(number) or number < 0:
            self.fail(f"weight {value!r} must be a finite number >= 0", name, task, f"{dim.rubric_key}.{key}")
        return number

    def polarity(self, value: Any, name: str, task: int, dim: Dimension, key: str) -> int:
        text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
        try:
            number = float(text)
        except ValueError:
            number = 0.0
        if number not in (1.0, -1.0):
            self.fail(f"polarity {value!r} must be +1 or -1", name, task, f"{dim.rubric_key}.{key}")
        if value not in ("+1", "-1"):
            self.note("polarity-nonstandard", f"polarity written as {value!r}", file=name, task=task,
                      dimension=dim.value, key=key, value=value)
        return 1 if number > 0 else -1

    # -- rubrics -----------------------------------------------------------------------
    def rubric(self, record: dict, name: str, task: int, dim: Dimension) -> dict[int, dict[str, Any]] | None:
        """Group one dimension's keys by criterion number, in file order."""
        block = record.get(dim.rubric_key)
        if block is None:
            return None
        if not isinstance(block, dict):
            self.fail(f"expected an object of d/s/w keys, found {type(block).__name__}", name, task,
                      dim.rubric_key)
        grouped: dict[int, dict[str, Any]] = {}
        for key, value in block.items():
            match = _RUBRIC_KEY.match(key)
            if not match or match.group(1) not in "dswa":
                self.fail(f"unknown rubric key {key!r}", name, task, dim.rubric_key,
                          fix="rubric keys are d<N> (text), s<N> (polarity), w<N> (weight), a<N> (aspect)")
            grouped.setdefault(int(match.group(2)), {})[match.group(1)] = value
        for number, parts in grouped.items():
            missing = [k for k in "dsw" if k not in parts]
            if missing:
                self.fail(f"criterion {number} lacks {'/'.join(k + str(number) for k in missing)}", name, task,
                          dim.rubric_key, fix="every criterion needs d<N>, s<N> and w<N>")
            if not isinstance(parts["d"], str) or not parts["d"].strip():
                self.fail(f"criterion {number} has no description text", name, task,
                          f"{dim.rubric_key}.d{number}")
        return grouped

    def texts(self, record: dict, name: str, task: int) -> tuple[str, str, str]:
        """(task text, requirement text, the key the task text was under)."""
        for task_key, req_key in zip(TASK_KEYS, REQUIREMENT_KEYS):
            if task_key in record:
                prompt, requirement = record.get(task_key), record.get(req_key, "")
                if not isinstance(prompt, str) or not isinstance(requirement, str):
                    self.fail("task text must be a string", name, task, task_key)
                return prompt, requirement, task_key
        self.fail("no task text", name, task, "task", fix="each task needs 'task' (or '任务') text")
        raise AssertionError  # unreachable: fail() raises

    def read(self) -> Benchmark:
        raw = self.records(RAW_FILE)
        norm = self.records(NORM_FILE)
        meta = self.records(TASKS_FILE)
        for name, other in ((NORM_FILE, norm), (TASKS_FILE, meta)):
            for index in sorted(set(raw) ^ set(other)):
                where = RAW_FILE if index in raw else name
                self.note("index-mismatch", f"index {index} only in {where}", file=name, task=index)
        missing_norm = sorted(set(raw) - set(norm))
        if missing_norm:
            self.fail(f"tasks {missing_norm[:5]} have no normalised weights", NORM_FILE,
                      fix="the normalised file must cover every task of the raw file")

        tasks = []
        key_seen: dict[str, str] = {}
        for index in sorted(norm):
            tasks.append(self.task(index, raw.get(index), norm[index], meta.get(index), key_seen))
        if len(set(key_seen.values())) > 1:
            self.note("task-text-keys", ", ".join(f"{f} uses '{k}'" for f, k in sorted(key_seen.items())))
        return Benchmark(source=BenchmarkSource(
            repository=OFFICIAL_REPOSITORY, commit=None,
            files={name: sha256_of(self.directory / name) for name in OFFICIAL_FILES}), tasks=tasks)

    def check_dimension_names(self, record: dict, name: str, index: int) -> None:
        known = {dim.rubric_key for dim in Dimension}
        for key in record:
            if key.startswith("rubrics_") and key not in known:
                self.fail(f"unknown dimension {key!r}", name, index, key,
                          fix=f"dimensions are {', '.join(sorted(known))}")

    def task(self, index: int, raw: dict | None, norm: dict, meta: dict | None,
             key_seen: dict[str, str]) -> Task:
        self.check_dimension_names(norm, NORM_FILE, index)
        if raw is not None:
            self.check_dimension_names(raw, RAW_FILE, index)
        prompt, requirement, key = self.texts(norm, NORM_FILE, index)
        key_seen[NORM_FILE] = key
        official_texts: dict[str, str] = {}
        if raw is not None:
            raw_prompt, raw_requirement, raw_key = self.texts(raw, RAW_FILE, index)
            key_seen[RAW_FILE] = raw_key
            if (raw_prompt, raw_requirement) != (prompt, requirement):
                self.note("text-mismatch", "task text differs between raw and normalised files",
                          file=NORM_FILE, task=index)
                official_texts = {"prompt": prompt, "requirement": requirement}
                prompt, requirement = raw_prompt, raw_requirement
        if meta is not None and meta.get("任务", prompt) != prompt:
            self.note("text-mismatch", "task text differs from finaltasks.json", file=TASKS_FILE, task=index)

        rubrics: dict[Dimension, list[Criterion]] = {}
        for dim in Dimension:
            norm_groups = self.rubric(norm, NORM_FILE, index, dim)
            raw_groups = self.rubric(raw, RAW_FILE, index, dim) if raw is not None else None
            if norm_groups is None:
                self.note("dimension-missing", f"no {dim.rubric_key}", file=NORM_FILE, task=index,
                          dimension=dim.value)
                continue
            if raw_groups is not None and list(raw_groups) != list(norm_groups):
                self.fail(f"criterion keys differ from {RAW_FILE}: {list(raw_groups)} vs {list(norm_groups)}",
                          NORM_FILE, index, dim.rubric_key, fix="the two rubric files must pair up key by key")
            numbers = list(norm_groups)
            if numbers != list(range(1, len(numbers) + 1)):
                self.note("criterion-numbering", f"criteria numbered {numbers}", file=NORM_FILE, task=index,
                          dimension=dim.value, value=str(numbers))
            rubrics[dim] = [self.criterion(number, norm_groups[number],
                                           raw_groups[number] if raw_groups else None, index, dim)
                            for number in numbers]

        level = None
        if meta is not None:
            level = self.level(meta, index)
        return Task(index=index, prompt=prompt, requirement=requirement, level=level, rubrics=rubrics,
                    metadata=meta or {}, official_texts=official_texts)

    def criterion(self, number: int, norm: dict[str, Any], raw: dict[str, Any] | None, index: int,
                  dim: Dimension) -> Criterion:
        polarity = self.polarity(norm["s"], NORM_FILE, index, dim, f"s{number}")
        weight = self.weight(norm["w"], NORM_FILE, index, dim, f"w{number}")
        raw_weight = None
        norm_description = None
        description = norm["d"]
        if raw is not None:
            raw_weight = self.weight(raw["w"], RAW_FILE, index, dim, f"w{number}")
            if self.polarity(raw["s"], RAW_FILE, index, dim, f"s{number}") != polarity:
                self.fail(f"polarity of criterion {number} differs between the two rubric files", NORM_FILE,
                          index, f"{dim.rubric_key}.s{number}")
            if raw["d"] != description:
                self.note("text-mismatch", f"criterion {number} text differs", file=NORM_FILE, task=index,
                          dimension=dim.value)
                norm_description, description = description, raw["d"]
        return Criterion(description=description, polarity=polarity, weight=weight, raw_weight=raw_weight,
                         official=OfficialEncoding(number=number, polarity=norm["s"],
                                                   raw_weight=raw["w"] if raw else None, weight=norm["w"],
                                                   norm_description=norm_description))

    def level(self, meta: dict, index: int) -> Level | None:
        label = meta.get("final_label")
        try:
            level = Level(label)
        except ValueError:
            self.note("level-missing", f"final_label {label!r} is not one of {[lv.value for lv in Level]}",
                      file=TASKS_FILE, task=index, value=label)
            return None
        category = meta.get(CATEGORY_KEY)
        if category in CATEGORY_LEVELS and level not in CATEGORY_LEVELS[category]:
            self.note("level-label-disagreement", f"final_label {level.value} but 类别 {category}",
                      file=TASKS_FILE, task=index, value=f"{level.value} / {category}")
        return level


def read_official(directory: Path) -> tuple[Benchmark, list[Anomaly]]:
    """Load the three official files from ``directory``; returns the benchmark and file-level anomalies."""
    reader = _Reader(Path(directory))
    benchmark = reader.read()
    if benchmark.source.files == OFFICIAL_SHA256:
        benchmark.source.commit = OFFICIAL_COMMIT
    return benchmark, reader.anomalies


def write_official(benchmark: Benchmark, directory: Path) -> list[Path]:
    """Write ``benchmark`` in the official three-file layout.

    Values are written as they were read (strings stay strings, ``d11`` stays ``d11``), so
    official -> canonical -> official gives files that parse to the same JSON.
    """
    directory.mkdir(parents=True, exist_ok=True)
    raw_items, norm_items, meta_items = [], [], []
    for task in benchmark.tasks:
        raw_item: dict[str, Any] = {"index": task.index, "task": task.prompt, "requirement": task.requirement}
        norm_item: dict[str, Any] = {"index": task.index,
                                     "任务": task.official_texts.get("prompt", task.prompt),
                                     "具体要求": task.official_texts.get("requirement", task.requirement)}
        for dim in Dimension:
            if dim not in task.rubrics:
                continue
            raw_block: dict[str, Any] = {}
            norm_block: dict[str, Any] = {}
            for position, criterion in enumerate(task.rubrics[dim], start=1):
                enc = criterion.official
                number = enc.number if enc else position
                polarity = enc.polarity if enc else ("+1" if criterion.polarity > 0 else "-1")
                raw_weight = enc.raw_weight if enc and enc.raw_weight is not None else (
                    None if criterion.raw_weight is None else str(criterion.raw_weight))
                weight = enc.weight if enc else criterion.weight
                norm_text = enc.norm_description if enc and enc.norm_description else criterion.description
                raw_block.update({f"d{number}": criterion.description, f"s{number}": polarity,
                                  f"w{number}": raw_weight if raw_weight is not None else weight})
                norm_block.update({f"d{number}": norm_text, f"s{number}": polarity, f"w{number}": weight})
            raw_item[dim.rubric_key] = raw_block
            norm_item[dim.rubric_key] = norm_block
        raw_items.append(raw_item)
        norm_items.append(norm_item)
        meta_items.append(task.metadata or _default_metadata(task))
    paths = []
    for name, items in ((RAW_FILE, raw_items), (NORM_FILE, norm_items), (TASKS_FILE, meta_items)):
        path = directory / name
        path.write_text(json.dumps(items, ensure_ascii=False, indent=2), encoding="utf-8")
        paths.append(path)
    return paths


def _default_metadata(task: Task) -> dict[str, Any]:
    """Metadata for a task that did not come from the official files (e.g. a built benchmark)."""
    return {"index": task.index, "任务": task.prompt, "具体要求": task.requirement,
            "final_label": task.level.value if task.level else None}
