"""Per-rater item assignment: k raters per item, balanced loads, determinism, what a rater is served,
resume after a restart, and agreement statistics on the resulting incomplete design."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss
from typer.testing import CliRunner

from microverse.bench.agreement import agreement_summary
from microverse.bench.canonical import write_canonical
from microverse.cli.app import app
from microverse.errors import MicroverseError
from microverse.human import study as hs
from microverse.human.assignment import assign
from microverse.human.stats import preference_results
from microverse.store import studies as store
from microverse.testing.studies import make_benchmark, make_videos
from tests.human.conftest import RATERS


@pytest.mark.parametrize("items,raters,k", [(60, 3, 2), (61, 5, 2), (100, 7, 3), (7, 4, 4), (10, 3, 1), (1, 3, 2)])
def test_every_item_gets_k_raters_and_loads_differ_by_at_most_one(items, raters, k):
    keys = [f"i{n}" for n in range(items)]
    plan = assign(keys, [f"r{n}" for n in range(raters)], k, seed=0)
    per_item = Counter(key for assigned in plan.values() for key in assigned)
    assert set(per_item) == set(keys) and set(per_item.values()) == {k}
    assert all(len(set(assigned)) == len(assigned) for assigned in plan.values())
    loads = [len(assigned) for assigned in plan.values()]
    assert len(loads) == raters and max(loads) - min(loads) <= 1
    assert all(assigned == [key for key in keys if key in assigned] for assigned in plan.values())  # item order
    if k >= 2 and items >= 10:
        # pairs are spread too: every pair shares items (pairwise kappa needs them), evenly
        shared = [len(set(plan[a]) & set(plan[b])) for a, b in itertools.combinations(plan, 2)]
        assert min(shared) > 0 and max(shared) - min(shared) <= 2


def test_assignment_is_deterministic():
    keys = [str(n) for n in range(40)]
    first = assign(keys, RATERS, 2, seed=7)
    assert assign(keys, list(reversed(RATERS)), 2, seed=7) == first   # the order raters are named in is irrelevant
    assert assign(keys, RATERS, 2, seed=8) != first


@pytest.mark.parametrize("raters,k,message", [
    (["a", "b"], 3, "between 1 and 2"), (["a", "b"], 0, "between 1 and 2"),
    (["a", "a", "b"], 2, "named twice"), (["a", " "], 1, "empty rater name"),
])
def test_bad_panels(raters, k, message):
    with pytest.raises(MicroverseError, match=message):
        assign(["x"], raters, k, seed=0)


def test_the_store_keeps_the_assignment_and_refuses_answers_outside_it(assigned):
    db, conn, study, tokens = assigned
    keys = [i.key for i in store.list_items(conn, study)]
    plan = store.assignment(conn, study)
    assert plan == assign(keys, RATERS, 2, seed=3) and study.config["raters_per_item"] == 2
    for rater in RATERS:
        assert {i.key for i in hs.rater_items(conn, study, rater)} == set(plan[rater])
        assert hs.progress(conn, study, rater).total_items == len(plan[rater])
    outside = next(k for k in keys if k not in plan["alice"])
    with pytest.raises(store.Forbidden, match="not assigned"):
        hs.record_preference(conn, study, "alice", outside, "overall", "A", None)
    assert store.list_answers(conn, study) == []
    with pytest.raises(store.Conflict, match="assigns its items"):   # a rater without a share of the items
        store.add_rater(conn, study, "zoe", hs.hash_token("t"))
    with pytest.raises(store.Conflict, match="already has raters"):
        hs.add_panel(conn, study, ["zoe", "yan"], 1)


def test_a_rater_is_served_only_their_items_and_resumes_after_a_restart(assigned):
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from microverse.web.app import create_app

    db, conn, study, tokens = assigned
    plan = store.assignment(conn, study)
    mine = plan["alice"]
    outside = next(i.key for i in store.list_items(conn, study) if i.key not in mine)

    def login() -> TestClient:
        client = TestClient(create_app(db))
        assert client.post("/login", data={"token": tokens["alice"]}, follow_redirects=False).status_code == 303
        return client

    alice = login()
    overview = alice.get("/study/p").text
    assert overview.count("<tr class=") == len(mine) and f"0/{len(mine)} items done" in overview
    for url in (f"/study/p/item/{outside}", f"/study/p/video/{outside}/A"):
        response = alice.get(url)
        assert response.status_code == 403 and "not assigned" in response.text
    refused = alice.post(f"/study/p/item/{outside}/answer", data={"question": "overall", "choice": "A"})
    assert refused.status_code == 403 and store.list_answers(conn, study) == []

    order = [i.key for i in hs.rater_items(conn, study, "alice")]
    for key in order[:2]:
        response = alice.post(f"/study/p/item/{key}/answer", data={"question": "overall", "choice": "A"},
                              follow_redirects=False)
        assert response.headers["location"] == f"/study/p/item/{order[order.index(key) + 1]}"  # the next of hers
    # a restarted server (a new app on the same file) serves the same list and goes on where she stopped
    again = login().get("/study/p").text
    assert f"2/{len(mine)} items done" in again
    assert f'href="/study/p/item/{order[2]}">continue with item 3' in again


def test_agreement_on_the_incomplete_design_matches_the_reference_libraries(assigned):
    db, conn, study, _ = assigned
    rng = np.random.default_rng(0)
    truth = {i.key: rng.choice(["Sora", "Veo3", "tie"]) for i in store.list_items(conn, study)}
    for rater, keys in store.assignment(conn, study).items():
        for key in keys:
            item = store.get_item(conn, study, key)
            label = truth[key] if rng.random() < 0.7 else rng.choice(["Sora", "Veo3", "tie"])
            choice = "tie" if label == "tie" else "AB"[hs.layout(study, rater, item).index(label)]
            hs.record_preference(conn, study, rater, key, "overall", choice, None)
    answers = store.list_answers(conn, study)
    got = preference_results(study, store.list_items(conn, study), answers, resamples=0)["dimensions"]["overall"]
    agreement = got["agreement"]

    raters, items, labels = RATERS, sorted(truth), ["Sora", "Veo3", "tie"]
    given = {(a.rater, a.item_key): a.answer for a in answers}
    data = np.array([[labels.index(given[r, i]) if (r, i) in given else np.nan for i in items] for r in raters])
    assert agreement["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-6)
    for pair in agreement["cohen_kappa_pairwise"]:
        shared = [i for i in items if (pair["rater_a"], i) in given and (pair["rater_b"], i) in given]
        assert pair["n_items"] == len(shared) > 0
        a, b = [given[pair["rater_a"], i] for i in shared], [given[pair["rater_b"], i] for i in shared]
        if len(set(a) | set(b)) > 1:
            assert pair["kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-6)
    table = np.array([[sum(given.get((r, i)) == lab for r in raters) for lab in labels] for i in items])
    assert agreement["fleiss_kappa"]["n_items"] == 12 and agreement["fleiss_kappa"]["ratings_per_item"] == 2
    assert agreement["fleiss_kappa"]["kappa"] == pytest.approx(sm_fleiss(table), abs=1e-6)
    assert agreement["design"]["complete"] is False and "only the items both raters rated" in agreement["design"]["note"]


def test_agreement_without_a_known_k_uses_the_common_count():
    # 4 raters, items rated by 2 or 3 of them and none by all: Fleiss on the six 2-rating items
    rows = [(r, i, (i + (r == "d")) % 2) for i in range(6) for r in ("ab" if i % 2 else "cd")]
    rows += [(r, 10 + i, i % 2) for i in range(3) for r in "abc"]
    summary = agreement_summary(rows)
    table = np.array([[sum(lab == v for _, item, lab in rows if item == i) for v in (0, 1)] for i in range(6)])
    assert summary["fleiss_kappa"]["n_items"] == 6 and summary["fleiss_kappa"]["ratings_per_item"] == 2
    assert summary["fleiss_kappa"]["kappa"] == pytest.approx(sm_fleiss(table), abs=1e-6)
    assert summary["design"]["items_by_ratings"] == {"2": 6, "3": 3}
    assert summary["design"]["pairs_without_shared_items"] == 2   # a-d and b-d never rate the same item
    kappas = {(p["rater_a"], p["rater_b"]): p for p in summary["cohen_kappa_pairwise"]}
    assert kappas["a", "d"]["n_items"] == 0 and kappas["a", "d"]["kappa"] is None


def test_cli_creates_an_assigned_study_and_reports_assigned_counts(tmp_path):
    benchmark = make_benchmark(6)
    bench = write_canonical(benchmark, tmp_path / "bench.json")
    folders = make_videos(tmp_path, ["Sora", "Veo3"], range(6))
    db = tmp_path / "h.db"
    runner = CliRunner()
    args = ["human", "create-annotation", "--db", str(db), "--name", "a", "--benchmark", str(bench),
            *[f"--model={m}={p}" for m, p in folders.items()], "--raters", "alice,bob,carol", "--raters-per-item", "2"]
    bad = runner.invoke(app, [*args[:-4], "--raters-per-item", "2"])
    assert bad.exit_code == 2 and "needs --raters" in bad.output
    bad = runner.invoke(app, [*args[:-2], "--raters-per-item", "4"])
    assert bad.exit_code == 2 and "between 1 and 3" in bad.output and not db.exists()  # nothing created
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    tokens = dict(line.split("\t") for line in result.stdout.strip().splitlines()[-3:])
    assert sorted(tokens) == ["alice", "bob", "carol"] and "items per rater: alice 8, bob 8, carol 8" in result.output
    listed = json.loads(runner.invoke(app, ["human", "list", "--db", str(db), "--format", "json"]).stdout)[0]
    assert listed["raters_per_item"] == 2 and listed["items"] == 12
    assert {r: p["total_items"] for r, p in listed["raters"].items()} == {"alice": 8, "bob": 8, "carol": 8}
    table = runner.invoke(app, ["human", "list", "--db", str(db)]).stdout
    assert "raters per item" in table and "│ 2 " in table and "8/8" not in table and "0/8" in table


def test_hand_over_moves_only_unstarted_items(assigned):
    db, conn, study, tokens = assigned
    before = store.assignment(conn, study)
    carol = [i.key for i in hs.rater_items(conn, study, "carol")]
    hs.record_preference(conn, study, "carol", carol[0], "overall", "A", None)
    hs.record_preference(conn, study, "carol", carol[1], "overall", "tie", None)
    runner = CliRunner()
    result = runner.invoke(app, ["human", "hand-over", "--db", str(db), "--study", "p", "--from", "carol",
                                 "--to", "zoe"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().split("\t")[1]
    assert f"{len(carol) - 2} item(s) moved" in result.output
    after = store.assignment(conn, study)
    assert sorted(after["carol"]) == sorted(carol[:2]) and sorted(after["zoe"]) == sorted(carol[2:])
    per_item = Counter(k for keys in after.values() for k in keys)
    assert set(per_item.values()) == {2} and {r: after[r] for r in RATERS if r != "carol"} == \
        {r: before[r] for r in RATERS if r != "carol"}
    assert hs.authenticate(conn, token, "p")[1] == "zoe"
    hs.record_preference(conn, study, "zoe", carol[2], "overall", "B", None)
    with pytest.raises(store.Forbidden, match="not assigned"):
        hs.record_preference(conn, study, "carol", carol[3], "overall", "B", None)
    again = runner.invoke(app, ["human", "hand-over", "--db", str(db), "--study", "p", "--from", "carol",
                                "--to", "zoe"])
    assert again.exit_code == 2 and "already has a rater 'zoe'" in again.output
    missing = runner.invoke(app, ["human", "hand-over", "--db", str(db), "--study", "p", "--from", "nobody",
                                  "--to", "yan"])
    assert missing.exit_code == 2 and "no rater 'nobody'" in missing.output
    # carol now holds only items she started: nothing to hand over, and no token for an empty list
    idle = runner.invoke(app, ["human", "hand-over", "--db", str(db), "--study", "p", "--from", "carol",
                               "--to", "yan"])
    assert idle.exit_code == 2 and "nothing to hand over" in idle.output
    assert "yan" not in store.list_raters(conn, study)


def test_a_database_from_before_assignments_is_read_then_migrated(tmp_path, monkeypatch, benchmark_file, video_dirs):
    from microverse.store.db import schema_version

    benchmark, path = benchmark_file
    db = tmp_path / "old.db"
    with monkeypatch.context() as old_version:  # the schema the previous release wrote: no study_assignments
        old_version.setattr(store, "MIGRATIONS", store.MIGRATIONS[:1])
        conn = store.open_studies(db)
        study = hs.create_preference_study(conn, "old", benchmark, str(path), video_dirs, per_level=1)
        token = hs.add_raters(conn, study, ["ann"])["ann"]
        key = store.list_items(conn, study)[0].key
        hs.record_preference(conn, study, "ann", key, "overall", "A", None)
        conn.close()

    # read-only commands (human list, results, export) do not migrate, and read the old file as it is
    readonly = store.open_studies(db, readonly=True)
    summary = hs.study_summary(readonly, store.get_study(readonly, "old"))
    assert summary["raters_per_item"] is None and summary["raters"]["ann"]["answered_questions"] == 1
    readonly.close()

    conn = store.open_studies(db)
    assert schema_version(conn, store.COMPONENT) == len(store.MIGRATIONS)
    old = store.get_study(conn, "old")
    assert hs.authenticate(conn, token, "old") == (old, "ann")
    assert [i.key for i in hs.rater_items(conn, old, "ann")] == [i.key for i in hs.item_order(
        old, "ann", store.list_items(conn, old))]
    assert hs.progress(conn, old, "ann").answered_questions == 1
    hs.add_raters(conn, old, ["bob"])   # the old study still takes raters for every item
    new = hs.create_preference_study(conn, "new", benchmark, str(path), video_dirs, per_level=1)
    hs.add_panel(conn, new, ["x", "y", "z"], 2)   # and the migrated file holds assigned studies
    assert sorted(len(keys) for keys in store.assignment(conn, store.get_study(conn, "new")).values()) == [2, 2, 2]
