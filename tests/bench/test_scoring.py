"""Hand-computed scores, including the paper's Appendix I rubric, under both policies."""

from __future__ import annotations

import pytest

from microverse.bench.judgments import DimensionJudgment, ModelJudgments, TaskJudgments
from microverse.bench.loading import load_benchmark
from microverse.bench.models import Dimension, Level
from microverse.bench.official_results import read_result_file
from microverse.bench.scoring import score_dimension, score_model
from tests.bench.helpers import mitosis_benchmark, official_files, result_item, write_results

SCI, VIS, INS = Dimension.SCIENTIFIC, Dimension.VISUAL, Dimension.INSTRUCTION


def judged(index, sci, vis, ins, model="m"):
    dims = {d: DimensionJudgment(scores=s, parsed={"scores": s}) for d, s in ((SCI, sci), (VIS, vis), (INS, ins))}
    return ModelJudgments(model=model, records=[TaskJudgments(index=index, dimensions=dims)])


def test_appendix_i_mitosis_rubric_by_hand():
    bench = mitosis_benchmark()
    # scientific: 1+1+0+1+0.5 = 3.5 of 4.5; visual: 0.5+0.2 = 0.7 of 0.9;
    # instruction: 0.5+0.5+0.2 - 0.5 (penalty hit) = 0.7 of 1.4; total 4.9 of 6.8.
    scores = score_model(bench, judged(1, [1, 1, 0, 1, 1], [1, 0, 1], [1, 1, 0, 1, 1]))
    task = scores.tasks[0]
    assert task.dimensions[SCI].score == pytest.approx(3.5 / 4.5 * 100)
    assert task.dimensions[VIS].score == pytest.approx(0.7 / 0.9 * 100)
    assert task.dimensions[INS].score == pytest.approx(0.7 / 1.4 * 100)
    assert task.total == pytest.approx(4.9 / 6.8 * 100)


def test_all_positives_and_no_penalty_is_100_and_only_penalty_is_negative():
    bench = mitosis_benchmark()
    perfect = score_model(bench, judged(1, [1] * 5, [1] * 3, [1, 1, 1, 1, 0])).tasks[0]
    assert perfect.total == pytest.approx(100.0)
    worst = score_model(bench, judged(1, [0] * 5, [0] * 3, [0, 0, 0, 0, 1])).tasks[0]
    assert worst.dimensions[INS].score == pytest.approx(-0.5 / 1.4 * 100)  # C4: no clamping
    official = score_model(bench, judged(1, [0] * 5, [0] * 3, [0, 0, 0, 0, 1]), "official").tasks[0]
    assert official.dimensions[INS].score == 0.0  # the official script clamps at 0


@pytest.mark.parametrize("scores, status", [
    ([1, 1, 1, 1], "invalid"),            # C2: too short
    ([1, 1, 1, 1, 1, 1], "invalid"),      # C2: too long
    ([1, 2, 1, 1, 1], "invalid"),         # C3: not 0/1
    (["1", "0", True, False, 1.0], "ok"),  # C3: clear 0/1 in other spellings
    ("11111", "invalid"),
])
def test_corrected_validates_answers(scores, status):
    criteria = mitosis_benchmark().tasks[0].criteria(SCI)
    assert score_dimension(criteria, DimensionJudgment(scores=scores)).status == status


def test_failed_and_missing_dimensions_are_reported_not_zero():
    criteria = mitosis_benchmark().tasks[0].criteria(SCI)
    failed = score_dimension(criteria, DimensionJudgment(failure="HTTP 500 after 5 attempts"))
    assert failed.status == "failed" and failed.score is None and "500" in failed.reason
    assert score_dimension(criteria, None).status == "missing"


def test_official_quirks_number_for_number(tmp_path):
    """Each quirk of calculate_scores.py, computed by hand."""
    bench_dir = official_files(tmp_path / "bench", [
        # Task 1: instruction keyed d11/d22 (as 55 official dimensions are).
        {"index": 1, "level": "Organ-level",
         "rubrics": {"scientific": [("+1", 1.0), ("+1", 0.5)], "visual": [("+1", 0.5), ("-1", 0.5)],
                     "instruction": [("+1", 1.0), ("+1", 1.0)]},
         "numbers": {"instruction": [11, 22]}},
        {"index": 2, "level": "Organ-level",
         "rubrics": {"scientific": [("+1", 1.0), ("+1", 0.5)], "visual": [("+1", 0.5), ("-1", 0.5)],
                     "instruction": [("+1", 1.0), ("+1", 1.0)]}},
    ])
    items = [
        result_item(1, [1, 0], [1, 0], [1, 1]),
        # task 2: short scientific list (only criterion 1 counted, denominator shrinks), string "1" is a miss
        result_item(2, [1], ["1", 1], [0, 1]),
    ]
    judgments = read_result_file(write_results(tmp_path / "res", "M", items))
    bench = load_benchmark(bench_dir).benchmark
    official = score_model(bench, judgments, "official")
    t1, t2 = official.tasks[0], official.tasks[1]
    # task 1: instruction criteria are keyed 11/22, so the official scorer matches nothing: 0 of 0.
    assert t1.dimensions[INS].score == 0.0 and t1.dimensions[INS].max_positive == 0.0
    assert t1.total == pytest.approx((1.0 + 0.5) / (1.5 + 0.5) * 100)
    # task 2: scientific 1 of 1 (short list), visual: "1" is not == 1, penalty hit -> 0 clamped... raw -0.5
    assert t2.dimensions[SCI].score == pytest.approx(100.0)
    assert t2.dimensions[VIS].raw == pytest.approx(-0.5) and t2.dimensions[VIS].score == 0.0
    corrected = score_model(bench, judgments, "corrected")
    c1, c2 = corrected.tasks[0], corrected.tasks[1]
    assert c1.dimensions[INS].score == pytest.approx(100.0)  # C1: positions, not key numbers
    assert c2.dimensions[SCI].status == "invalid"           # C2
    assert c2.total is None and "scientific" in c2.reason
    assert corrected.valid_tasks == 1 and corrected.missing_tasks() == [2]


def test_official_drops_tasks_with_a_missing_dimension_and_counts_duplicates(tmp_path):
    bench_dir = official_files(tmp_path / "bench", [
        {"index": i, "level": lvl, "rubrics": {"scientific": [("+1", 1.0)], "visual": [("+1", 1.0)],
                                              "instruction": [("+1", 1.0)]}}
        for i, lvl in ((1, "Organ-level"), (2, "Organ-level"), (3, "Subcellular-level"))])
    items = [result_item(1, [1], [1], [1]), result_item(1, [1], [1], [1]),
             result_item(2, [0], [1], "UNPARSED"), result_item(99, [1], [1], [1])]
    judgments = read_result_file(write_results(tmp_path / "res", "M", items))
    bench = load_benchmark(bench_dir).benchmark
    official = score_model(bench, judgments, "official")
    assert official.valid_tasks == 2                      # task 1 twice
    assert [v for _, v in official.totals(Level.SUBCELLULAR)] == []
    corrected = score_model(bench, judgments, "corrected")
    assert corrected.valid_tasks == 1
    assert corrected.missing_tasks() == [2, 3]
    # C6: task 2's scientific and visual still count in the dimension means
    assert dict(corrected.dimension_scores(SCI)) == {1: 100.0, 2: 0.0}
    assert any("unknown task index 99" in n for n in corrected.notes)
    assert any("more than once" in n for n in corrected.notes)


def test_official_drops_whole_model_on_non_integer_polarity(tmp_path):
    bench_dir = official_files(tmp_path / "bench", [
        {"index": 1, "rubrics": {"scientific": [("+1.0", 1.0)], "visual": [("+1", 1.0)],
                                 "instruction": [("+1", 1.0)]}}])
    judgments = read_result_file(write_results(tmp_path / "res", "M", [result_item(1, [1], [1], [1])]))
    bench = load_benchmark(bench_dir).benchmark
    official = score_model(bench, judgments, "official")
    assert official.dropped and "ValueError" in official.dropped
    assert score_model(bench, judgments, "corrected").tasks[0].total == pytest.approx(100.0)


def test_raw_weights_change_the_score(tmp_path):
    bench_dir = official_files(tmp_path / "bench", [
        {"index": 1, "rubrics": {"scientific": [("+1", 1.0), ("+1", 0.5)], "visual": [("+1", 1.0)],
                                 "instruction": [("+1", 1.0)]}}])
    # raw file holds str(w) of the same weights here; make raw differ by editing the raw file
    import json
    raw_path = bench_dir / "MWBenchRubrics.json"
    raw = json.loads(raw_path.read_text())
    raw[0]["rubrics_scientific"]["w2"] = "2.0"
    raw_path.write_text(json.dumps(raw))
    bench = load_benchmark(bench_dir).benchmark
    j = judged(1, [0, 1], [1], [1])
    assert score_model(bench, j).tasks[0].dimensions[SCI].score == pytest.approx(0.5 / 1.5 * 100)
    assert score_model(bench, j, weights="raw").tasks[0].dimensions[SCI].score == pytest.approx(2.0 / 3.0 * 100)
