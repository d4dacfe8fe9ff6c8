"""Reports: stable JSON keys, paper-layout Markdown, an escaped self-contained HTML page."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from microverse.bench.aggregate import compare_models, summarise
from microverse.bench.loading import load_benchmark
from microverse.bench.official_results import read_official_results
from microverse.bench.scoring import score_model
from microverse.cli.app import app
from tests.bench.helpers import official_files, result_item, write_results

runner = CliRunner()
EVIL = '<script>alert("x")</script> & | pipe'


@pytest.fixture
def small(tmp_path):
    tasks = [{"index": i, "level": lvl, "rubrics": {"scientific": [("+1", 1.0), ("+1", 0.5)],
                                                   "visual": [("+1", 0.5)], "instruction": [("+1", 0.5), ("-1", 0.2)]}}
             for i, lvl in enumerate(["Organ-level"] * 6 + ["Cellular-level"] * 6, start=1)]
    bench = official_files(tmp_path / "bench", tasks)
    res = tmp_path / "res"
    write_results(res, "Good", [result_item(i, [1, 1], [1], [1, 0], reasoning=EVIL) for i in range(1, 13)])
    write_results(res, "Weak", [result_item(i, [0, i % 2], [i % 3 == 0], [0, 1]) for i in range(1, 12)])
    return bench, res


def test_json_shape_is_stable(small):
    bench, res = small
    result = runner.invoke(app, ["score", "--official-results", str(res), "--benchmark", str(bench), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["policy"] == "corrected"
    good = data["models"]["Good"]
    assert set(good) >= {"valid_tasks", "average", "levels", "dimensions"}
    assert set(good["levels"]) == {"Organ-level", "Cellular-level", "Subcellular-level"}
    assert set(good["dimensions"]) == {"scientific", "visual", "instruction"}
    assert good["valid_tasks"] == 12 and good["average"] == pytest.approx(100.0)
    assert good["levels"]["Subcellular-level"] is None      # C8: no tasks -> n/a, not 0
    weak = data["models"]["Weak"]
    assert weak["coverage"]["missing_tasks"] == [12]
    official = json.loads(runner.invoke(app, ["score", "--official-results", str(res), "--benchmark", str(bench),
                                              "--format", "json", "--policy", "official"]).stdout)
    assert official["models"]["Good"]["levels"]["Subcellular-level"] == 0.0
    detailed = json.loads(runner.invoke(app, ["score", "--official-results", str(res), "--benchmark", str(bench),
                                              "--format", "json", "--per-task"]).stdout)
    tasks = detailed["models"]["Weak"]["tasks"]
    assert [t["index"] for t in tasks] == list(range(1, 13))
    assert tasks[-1]["total"] is None and tasks[-1]["dimensions"]["visual"]["status"] == "missing"
    assert tasks[0]["dimensions"]["scientific"]["hits"] == [0, 1]


def test_intervals_bracket_the_mean_and_depend_only_on_the_seed(small):
    bench, res = small
    benchmark = load_benchmark(bench).benchmark
    weak = score_model(benchmark, read_official_results(res)[1])
    a, b = summarise(weak, seed=3), summarise(weak, seed=3)
    assert a.average.low <= a.average.mean <= a.average.high
    assert (a.average.low, a.average.high) == (b.average.low, b.average.high)


def test_compare_finds_the_better_model(small):
    bench, res = small
    benchmark = load_benchmark(bench).benchmark
    good, weak = (score_model(benchmark, j) for j in read_official_results(res))
    results = compare_models(good, weak, resamples=2000)
    assert results["average"].verdict() == "A better"
    assert results["average"].n == 11
    assert compare_models(good, good, resamples=500)["average"].verdict() == "no significant difference"


def test_markdown_has_paper_tables_and_reference_rows(small):
    bench, res = small
    out = runner.invoke(app, ["score", "--official-results", str(res), "--benchmark", str(bench), "--reference"]).stdout
    assert "## Table 1" in out and "## Table 2" in out
    assert "| *Veo3 (paper)* | *77.2* | *77.5* | *76.9* | *78.2* |" in out
    assert "| Good | 100.0" in out


def test_html_is_self_contained_and_escapes_judge_text(small, tmp_path):
    bench, res = small
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["score", "--official-results", str(res), "--benchmark", str(bench),
                                 "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert page.count("<svg") >= 2                           # per-level and per-dimension charts
    assert "src=\"http" not in page and "href=\"http" not in page
    assert "scientific point 1" in page                      # drill-down shows each criterion


def test_compare_cli(small):
    bench, res = small
    result = runner.invoke(app, ["compare", "Good", "Weak", "--official-results", str(res), "--benchmark", str(bench),
                                 "--format", "json", "--resamples", "2000"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["comparisons"]["average"]["verdict"] == "A better"
    missing = runner.invoke(app, ["compare", "Good", "Nope", "--official-results", str(res), "--benchmark", str(bench)])
    assert missing.exit_code == 2 and "known models" in missing.output
