"""Study results: vote shares and intervals, rater agreement, judge-vs-human and criterion accuracy."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from microverse.bench.agreement import agreement_summary
from microverse.cli.app import app
from microverse.human import study as hs
from microverse.human.judges import load_judge
from microverse.human.stats import annotation_results, judge_pick, preference_results
from microverse.store import studies as store

# judge scores per (model, task): scientific hits (criteria +1 w1.0, -1 w0.5), visual, instruction
JUDGE = {
    ("Sora", 0): ([1, 0], [1], [1]), ("Veo3", 0): ([0, 0], [1], [1]),   # Sora 100 vs Veo3 0
    ("Sora", 1): ([1, 1], [0], [1]), ("Veo3", 1): ([1, 0], [1], [1]),   # Sora 50 vs Veo3 100
    ("Sora", 2): ([1, 0], [1], [0]), ("Veo3", 2): ([1, 0], [0], [1]),   # equal: judge tie
}


def write_judge(folder, models=("Sora", "Veo3")):
    folder.mkdir(parents=True, exist_ok=True)
    for model in models:
        items = []
        for (m, task), (sci, vis, ins) in JUDGE.items():
            if m != model:
                continue
            item = {"index": task, "video_path": f"{model}/{task}.mp4"}
            for dim, scores in (("scientific", sci), ("visual", vis), ("instruction", ins)):
                item[f"{dim}_eval"] = {"raw_response": "", "parsed_result": {"scores": scores, "reasoning": "r"}}
            items.append(item)
        (folder / f"{model}_result.json").write_text(json.dumps(items))
    return folder


def vote(conn, study, rater, task, dim, model):
    item = store.get_item(conn, study, str(task))
    choice = "tie" if model == "tie" else hs.POSITIONS[hs.layout(study, rater, item).index(model)]
    hs.record_preference(conn, study, rater, item.key, dim, choice, None)


VOTES = {  # task -> votes of ann, bob, cy on 'scientific'
    0: ("Sora", "Sora", "Sora"),
    1: ("Veo3", "Sora", "Veo3"),
    2: ("Sora", "Veo3", "tie"),
}


@pytest.fixture
def voted(tmp_path, benchmark_file, video_dirs):
    benchmark, path = benchmark_file
    db = tmp_path / "s.db"
    conn = store.open_studies(db)
    study = hs.create_preference_study(conn, "p", benchmark, str(path), {k: video_dirs[k] for k in ("Sora", "Veo3")},
                                       dimensions=["scientific"], tasks=[0, 1, 2])
    hs.add_raters(conn, study, ["ann", "bob", "cy"])
    for task, votes in VOTES.items():
        for rater, model in zip(("ann", "bob", "cy"), votes):
            vote(conn, study, rater, task, "scientific", model)
    return conn, study, benchmark, db


def test_shares_agreement_and_judge_vs_humans(voted, tmp_path):
    conn, study, benchmark, _ = voted
    judge = load_judge("gpt", write_judge(tmp_path / "judge"), benchmark)
    assert judge_pick(judge, ["Sora", "Veo3"], 0, "scientific") == "Sora"
    assert judge_pick(judge, ["Sora", "Veo3"], 2, "scientific") == "tie"
    out = preference_results(study, store.list_items(conn, study), store.list_answers(conn, study),
                             judges=[judge], resamples=500)
    dim = out["dimensions"]["scientific"]
    assert dim["votes"] == 9
    assert dim["shares"]["Sora"]["share"] == pytest.approx(5 / 9, abs=1e-6)
    assert dim["shares"]["Veo3"]["share"] == pytest.approx(3 / 9, abs=1e-6)
    assert dim["shares"]["tie"]["votes"] == 1
    low, high = dim["shares"]["Sora"]["ci"]
    assert low <= 5 / 9 <= high and low < high
    expected = agreement_summary([(r, str(t), m) for t, vs in VOTES.items() for r, m in zip(("ann", "bob", "cy"), vs)])
    expected["fleiss_kappa"]["ratings_per_item"] = 3   # a complete design: the generic statistics, unchanged
    assert dim["agreement"] == expected | {"design": {"complete": True, "items_by_ratings": {"3": 3},
                                                      "pairs_without_shared_items": 0, "note": None}}
    vs_humans = dim["judges"]["vs_human_majority"]["gpt"]
    # task 2 has no human majority; the judge agrees with the humans on tasks 0 and 1
    assert vs_humans["items"] == 2 and vs_humans["no_human_majority"] == 1 and vs_humans["agreement"] == 1.0
    pairs = {(p["a"], p["b"]): p for p in dim["judges"]["consistency"]}
    assert pairs[("ann", "judge:gpt")]["agreement"] == pytest.approx(2 / 3, abs=1e-6)  # ann picks Sora on the tie


def test_annotation_accuracy_against_expert_majority(tmp_path, benchmark_file, video_dirs):
    benchmark, path = benchmark_file
    conn = store.open_studies(tmp_path / "a.db")
    study = hs.create_annotation_study(conn, "a", benchmark, str(path), {"Sora": video_dirs["Sora"]}, tasks=[0])
    hs.add_raters(conn, study, ["ex1", "ex2"])
    marks = {"scientific:0": ("1", "1"), "scientific:1": ("0", "1"), "visual:0": ("0", "0"),
             "instruction:0": ("1", "1")}
    for criterion, (m1, m2) in marks.items():
        hs.record_annotation(conn, study, "ex1", "0:Sora", criterion, m1, None)
        hs.record_annotation(conn, study, "ex2", "0:Sora", criterion, m2, None)
    judge = load_judge("gpt", write_judge(tmp_path / "judge"), benchmark)
    out = annotation_results(study, store.list_items(conn, study), store.list_answers(conn, study), judges=[judge])
    assert out["no_expert_majority"] == 1           # scientific:1 split
    j = out["judges"]["gpt"]
    # judge: scientific [1, 0] (0 right), visual [1] (wrong: experts say 0), instruction [1] (right)
    assert j["marks_compared"] == 3 and j["accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert j["per_dimension"]["visual"] == {"accuracy": 0.0, "marks": 1}
    assert {c["criterion"]: c["accuracy"] for c in j["per_criterion"]} == {
        "scientific:0": 1.0, "visual:0": 0.0, "instruction:0": 1.0}
    assert out["agreement"]["n_raters"] == 2


def test_results_command(voted, tmp_path):
    _, _, _, db = voted
    judge_dir = write_judge(tmp_path / "judge")
    runner = CliRunner()
    result = runner.invoke(app, ["human", "results", "--db", str(db), "--study", "p", "--judge", f"gpt={judge_dir}",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dimensions"]["scientific"]["votes"] == 9
    png = tmp_path / "fig6.png"
    text = runner.invoke(app, ["human", "results", "--db", str(db), "--study", "p", "--judge", f"gpt={judge_dir}",
                               "--plot", str(png)])
    assert text.exit_code == 0 and "judge gpt vs human majority: agreement 1.000" in text.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    bad = runner.invoke(app, ["human", "results", "--db", str(db), "--study", "nope"])
    assert bad.exit_code == 2 and "no study named 'nope'" in bad.output
    listing = runner.invoke(app, ["human", "list", "--db", str(db), "--format", "json"])
    assert json.loads(listing.stdout)[0]["raters"]["ann"]["answered_questions"] == 3


def test_judge_from_eval_database_matches_results_folder(tmp_path, benchmark_file):
    from microverse.bench.models import Dimension
    from microverse.judge.engine import Answer, RunIdentity
    from microverse.store.judgments import JudgmentStore, open_store

    benchmark, _ = benchmark_file
    db = tmp_path / "eval.sqlite"
    conn = open_store(db)
    for model in ("Sora", "Veo3"):
        sink = JudgmentStore(conn, RunIdentity(model=model, judge="gpt"))
        for (m, task), hits in JUDGE.items():
            if m != model:
                continue
            for dim, scores in zip((Dimension.SCIENTIFIC, Dimension.VISUAL, Dimension.INSTRUCTION), hits):
                sink.record(Answer(task, dim, 0, "sha", len(scores), scores=scores, reasoning="r"))
                assert sink.settle(task, dim, "sha", len(scores), None)
    conn.close()
    from_db = load_judge("gpt", db, benchmark)
    from_folder = load_judge("gpt", write_judge(tmp_path / "judge"), benchmark)
    assert from_db.scores == from_folder.scores and from_db.hits == from_folder.hits
    assert from_db.scores[("Sora", 1, "scientific")] == pytest.approx(50.0)
