"""`microverse human agreement RATINGS.csv --format json` end to end through the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from microverse.cli.app import app

runner = CliRunner()


def test_agreement_json_matches_references(tmp_path):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    labels = {"r1": "AABBCABA", "r2": "AABBCBBA", "r3": "ABBBCABC"}
    rows = ["rater,item,label"] + [f"{r},task{i},{lab}" for r, ls in labels.items() for i, lab in enumerate(ls)]
    rows.append("r3,task99,")  # a blank label is a skipped item
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(rows) + "\n")
    result = runner.invoke(app, ["human", "agreement", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["n_raters"] == 3 and out["n_items"] == 8 and out["labels"] == ["A", "B", "C"]
    pair = out["cohen_kappa_pairwise"][0]
    assert (pair["rater_a"], pair["rater_b"]) == ("r1", "r2")
    assert pair["kappa"] == pytest.approx(sklearn_metrics.cohen_kappa_score(list(labels["r1"]), list(labels["r2"])),
                                          abs=1e-6)
    table, _ = inter_rater.aggregate_raters([list(t) for t in zip(*labels.values())])
    assert out["fleiss_kappa"]["kappa"] == pytest.approx(inter_rater.fleiss_kappa(table), abs=1e-6)
    assert -1 <= out["krippendorff_alpha"] <= 1


@pytest.mark.parametrize("content,message", [
    ("who,item,label\na,1,x\n", "missing column"),
    ("rater,item,label\na,1,x\na,1,y\n", "twice"),
    ("rater,item,label\n", "no ratings"),
])
def test_agreement_bad_input_is_one_clean_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    result = runner.invoke(app, ["human", "agreement", str(path), "--format", "json"])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_agreement_missing_file(tmp_path):
    result = runner.invoke(app, ["human", "agreement", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2 and "not found" in result.output
