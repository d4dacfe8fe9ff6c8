"""Creating studies and raters from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.human.study import authenticate
from microverse.store.studies import open_studies

runner = CliRunner()


def test_create_add_raters_and_tokens_work(tmp_path, benchmark_file, video_dirs):
    _, bench = benchmark_file
    db = tmp_path / "h.db"
    models = [f"--model={m}={p}" for m, p in video_dirs.items()]
    result = runner.invoke(app, ["human", "create-preference", "--db", str(db), "--name", "s", "--benchmark",
                                 str(bench), *models, "--per-level", "1", "--dimension", "scientific"])
    assert result.exit_code == 0, result.output
    assert "3 items" in result.stdout
    result = runner.invoke(app, ["human", "add-raters", "--db", str(db), "--study", "s", "--rater", "ann",
                                 "--rater", "bob"])
    assert result.exit_code == 0, result.output
    tokens = dict(line.split("\t") for line in result.stdout.strip().splitlines())
    assert authenticate(open_studies(db), tokens["bob"], "s")[1] == "bob"
    again = runner.invoke(app, ["human", "add-raters", "--db", str(db), "--study", "s", "--rater", "ann"])
    assert again.exit_code == 2 and "already has a rater 'ann'" in again.output
    bad = runner.invoke(app, ["human", "create-annotation", "--db", str(db), "--name", "a", "--benchmark", str(bench),
                              "--model", "no-equals-sign"])
    assert bad.exit_code == 2 and "is not NAME=PATH" in bad.output
    out = tmp_path / "answers.csv"
    assert runner.invoke(app, ["human", "export", "--db", str(db), "--study", "s", "--out", str(out)]).exit_code == 0
    assert out.read_text().startswith("rater,item,question,label")
