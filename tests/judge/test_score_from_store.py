"""`microverse score --db` reads what `microverse eval` stored and scores it like official files."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from microverse.bench.canonical import write_canonical
from microverse.cli.app import app
from microverse.testing.benchmark import tiny_benchmark
from microverse.testing.fake_judge import FakeJudge
from tests.judge.test_cli_eval import run_eval
from tests.judge.videos import make_video

runner = CliRunner()


def judged_twice(tmp_path, n_tasks: int, *second_run: str):
    """A benchmark and a store holding two eval runs of model 'tiny': the default one and ``second_run``."""
    bench = write_canonical(tiny_benchmark(n_tasks), tmp_path / "bench.json")
    videos = tmp_path / "videos"
    for index in range(1, n_tasks + 1):
        make_video(videos / f"{index}.mp4", frames=8)
    db = tmp_path / "s.sqlite"
    with FakeJudge() as judge:
        assert run_eval(judge, bench, videos, db).returncode == 0
        assert run_eval(judge, bench, videos, db, *second_run).returncode == 0
    return bench, db


def test_score_db_json_and_run_selection(tmp_path):
    # a second run of the same model with other frame settings must not be mixed in
    bench, db = judged_twice(tmp_path, 4, "--frames", "4")
    mixed = runner.invoke(app, ["score", "--db", str(db), "--benchmark", str(bench)])
    assert mixed.exit_code == 2 and "never mixed" in mixed.output and "--settings" in mixed.output
    settings = mixed.output.split("--settings ")[1].split()[0].rstrip(").")
    result = runner.invoke(app, ["score", "--db", str(db), "--benchmark", str(bench), "--format", "json",
                                 "--settings", settings])
    assert result.exit_code == 0, result.output
    tiny = json.loads(result.stdout)["models"]["tiny"]
    assert tiny["valid_tasks"] == 4
    assert set(tiny["levels"]) == {"Organ-level", "Cellular-level", "Subcellular-level"}
    assert tiny["coverage"]["missing_tasks"] == []


def test_reports_show_agreement_between_judges(tmp_path):
    bench, db = judged_twice(tmp_path, 3, "--judge-model", "second-judge")
    result = runner.invoke(app, ["score", "--db", str(db), "--benchmark", str(bench), "--judge", "fake-judge",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    agreement = json.loads(result.stdout)["judge_agreement"]["tiny"]
    assert set(agreement) == {"scientific", "visual", "instruction"}
    assert agreement["visual"]["n_raters"] == 2
    markdown = runner.invoke(app, ["score", "--db", str(db), "--benchmark", str(bench), "--judge", "fake-judge"])
    assert "## Judge agreement" in markdown.stdout
    page = tmp_path / "r.html"
    runner.invoke(app, ["score", "--db", str(db), "--benchmark", str(bench), "--judge", "fake-judge",
                        "--format", "html", "--out", str(page)])
    assert "Judge agreement" in page.read_text()
