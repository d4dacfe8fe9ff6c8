"""Bad input gives one clear line naming file, task and field, a non-zero exit, and no traceback."""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from microverse.cli.app import app
from tests.bench.helpers import official_files, result_item, write_results

runner = CliRunner()

GOOD = [{"index": 1, "rubrics": {"scientific": [("+1", 1.0)], "visual": [("+1", 0.5)],
                                 "instruction": [("+1", 0.5), ("-1", 0.2)]}}]


def run(*args):
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.output


def edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_truncated_json(tmp_path):
    bench = official_files(tmp_path / "b", GOOD)
    text = (bench / "MWBenchRubrics_norm.json").read_text()
    (bench / "MWBenchRubrics_norm.json").write_text(text[: len(text) // 2])
    out = run("bench", "validate", "--benchmark", str(bench))
    assert "MWBenchRubrics_norm.json" in out and "not valid JSON" in out


@pytest.mark.parametrize("change, words", [
    (lambda d: d[0].update(index="one"), ["index", "integer"]),
    (lambda d: d[0]["rubrics_visual"].update(w1=-0.5), ["task 1", "rubrics_visual.w1", ">= 0"]),
    (lambda d: d[0]["rubrics_visual"].update(w1=math.nan), ["task 1", "rubrics_visual.w1"]),
    (lambda d: d[0]["rubrics_visual"].update(w1="heavy"), ["task 1", "not a number"]),
    (lambda d: d[0]["rubrics_visual"].update(s1="0"), ["task 1", "polarity"]),
    (lambda d: d[0].update(rubrics_scientifc={}), ["task 1", "unknown dimension", "rubrics_scientifc"]),
    (lambda d: d[0]["rubrics_visual"].pop("w1"), ["task 1", "lacks w1"]),
    (lambda d: d[0].update(rubrics_visual=[1, 2]), ["task 1", "rubrics_visual"]),
])
def test_wrong_values_in_the_benchmark(tmp_path, change, words):
    bench = official_files(tmp_path / "b", GOOD)
    edit(bench / "MWBenchRubrics_norm.json", change)
    out = run("bench", "stats", "--benchmark", str(bench))
    assert "MWBenchRubrics_norm.json" in out
    for word in words:
        assert word in out


def test_missing_benchmark_names_both_ways(tmp_path):
    out = run("bench", "stats")
    assert "--benchmark" in out and "microverse bench fetch" in out
    out = run("bench", "stats", "--benchmark", str(tmp_path / "nowhere"))
    assert "nowhere" in out


def test_missing_file(tmp_path):
    bench = official_files(tmp_path / "b", GOOD)
    (bench / "finaltasks.json").unlink()
    assert "finaltasks.json" in run("bench", "validate", "--benchmark", str(bench))


def test_bad_results_files(tmp_path):
    bench = official_files(tmp_path / "b", GOOD)
    res = tmp_path / "res"
    write_results(res, "M", [result_item(1, [1], [1], [1, 0])])
    (res / "M_result.json").write_text('[{"index": 1, "scientific_eval": ')
    assert "M_result.json" in run("score", "--official-results", str(res), "--benchmark", str(bench))
    write_results(res, "M", [{"index": 1, "scientific_eval": [1, 0]}])
    out = run("score", "--official-results", str(res), "--benchmark", str(bench))
    assert "task 1 scientific_eval" in out
    write_results(res, "M", [{"index": 1, "scientifc_eval": {}}])
    assert "unknown dimension" in run("score", "--official-results", str(res), "--benchmark", str(bench))
    assert "exactly one" in run("score", "--benchmark", str(bench))


def test_canonical_schema_errors_name_the_task(tmp_path):
    bench = official_files(tmp_path / "b", GOOD)
    canonical = tmp_path / "bench.json"
    assert runner.invoke(app, ["bench", "export", "--benchmark", str(bench), "--out", str(canonical)]).exit_code == 0
    data = json.loads(canonical.read_text())
    data["tasks"][0]["rubrics"]["aesthetics"] = []
    canonical.write_text(json.dumps(data))
    out = run("bench", "stats", "--benchmark", str(canonical))
    assert "task 1" in out and "bench.json" in out


def test_raw_weights_requested_where_there_are_none(tmp_path):
    bench = official_files(tmp_path / "b", GOOD)
    canonical = tmp_path / "bench.json"
    runner.invoke(app, ["bench", "export", "--benchmark", str(bench), "--out", str(canonical)])
    data = json.loads(canonical.read_text())
    data["tasks"][0]["rubrics"]["visual"][0]["raw_weight"] = None
    canonical.write_text(json.dumps(data))
    res = tmp_path / "res"
    write_results(res, "M", [result_item(1, [1], [1], [1, 0])])
    out = run("score", "--official-results", str(res), "--benchmark", str(canonical), "--weights", "raw")
    assert "no raw weights" in out and "--weights normalised" in out
