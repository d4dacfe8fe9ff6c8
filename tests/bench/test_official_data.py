"""The official files load faithfully, every known anomaly is found, and export is lossless."""

from __future__ import annotations

import json
from collections import Counter

from typer.testing import CliRunner

from microverse.bench.anomalies import check_benchmark
from microverse.bench.canonical import read_canonical, write_canonical
from microverse.bench.loading import load_benchmark
from microverse.bench.models import Dimension, Level
from microverse.bench.official import OFFICIAL_COMMIT, OFFICIAL_FILES, write_official
from microverse.cli.app import app

runner = CliRunner()



def _load(official_dir):
    loaded = load_benchmark(official_dir)
    return loaded, Counter(a.code for a in loaded.file_anomalies + check_benchmark(loaded.benchmark))


def test_loads_all_tasks_with_both_weights_and_levels(official_dir):
    loaded, _ = _load(official_dir)
    bench = loaded.benchmark
    assert len(bench.tasks) == 459
    assert bench.source.commit == OFFICIAL_COMMIT
    assert Counter(t.level for t in bench.tasks) == {Level.CELLULAR: 238, Level.ORGAN: 189, Level.SUBCELLULAR: 32}
    task1 = bench.task(1)
    assert task1.prompt.startswith("Within the human brain vasculature")
    assert task1.metadata["类别"] == "器官"
    first = task1.criteria(Dimension.SCIENTIFIC)[0]
    assert (first.polarity, first.weight, first.raw_weight) == (1, 1.0, 2.0)
    # task 2's instruction criteria are keyed d11..d55 in the files: all five still load, in order
    keyed = bench.task(2).criteria(Dimension.INSTRUCTION)
    assert [c.official.number for c in keyed] == [11, 22, 33, 44, 55]
    assert len(bench.task(277).criteria(Dimension.INSTRUCTION)) == 4


def test_every_known_anomaly_is_reported_with_its_count(official_dir):
    _, codes = _load(official_dir)
    assert codes["criterion-numbering"] == 55
    assert codes["dimension-short"] == 1
    assert codes["level-count-paper"] == 2          # organ and cellular counts swapped vs the paper
    assert codes["level-label-disagreement"] == 98
    assert codes["weight-zero"] + codes["penalty-weight-zero"] == 884
    assert codes["penalty-weight-zero"] == 147
    assert codes["weight-out-of-range"] == 826      # raw weights 1.5, 2, 3
    assert codes["weight-string-typed"] == 6884 + 556
    assert codes["weight-nonstandard-text"] == 3    # '1.' (twice) and '2'
    assert codes["task-text-keys"] == 1
    assert codes["weight-mapping-inconsistent"] >= 2
    assert "duplicate-index" not in codes and "index-mismatch" not in codes


def test_official_round_trip_is_lossless(official_dir, tmp_path):
    loaded, _ = _load(official_dir)
    canonical = write_canonical(loaded.benchmark, tmp_path / "bench.json")
    again = read_canonical(canonical)
    assert again == loaded.benchmark
    write_official(again, tmp_path / "official")
    for name in OFFICIAL_FILES:
        assert json.loads((tmp_path / "official" / name).read_text()) == json.loads((official_dir / name).read_text())


def test_validate_cli_lists_anomalies_and_fails(official_dir):
    result = runner.invoke(app, ["bench", "validate", "--benchmark", str(official_dir), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["anomalies"]["criterion-numbering"]["count"] == 55
    assert report["anomalies"]["criterion-numbering"]["examples"][0]["where"].startswith("MWBenchRubrics_norm.json")


def test_stats_cli(official_dir):
    result = runner.invoke(app, ["bench", "stats", "--benchmark", str(official_dir), "--format", "json"])
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["levels"] == {"Organ-level": 189, "Cellular-level": 238, "Subcellular-level": 32}
    assert stats["dimensions"]["instruction"]["criteria_per_task"] == {"4": 1, "5": 458}
    assert stats["dimensions"]["visual"]["weights"] == {"0": 289, "0.2": 1024, "0.5": 982}


def test_show_prints_every_criterion_of_a_task(official_dir):
    result = runner.invoke(app, ["bench", "show", "2", "--benchmark", str(official_dir)])
    assert result.exit_code == 0
    assert "d55" in result.output and "Instruction Following" in result.output
    missing = runner.invoke(app, ["bench", "show", "999", "--benchmark", str(official_dir)])
    assert missing.exit_code == 2 and "no task 999" in missing.output
