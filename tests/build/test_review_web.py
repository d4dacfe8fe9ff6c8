"""Screening and rubric revision in the web UI, turned into votes and actions by the build commands."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.human import study as hs
from microverse.store import studies
from microverse.testing.studies import make_build

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from microverse.web.app import create_app  # noqa: E402

runner = CliRunner()


@pytest.fixture
def build_db(tmp_path):
    return make_build(tmp_path / "build.sqlite")


def login(db, study, rater):
    conn = studies.open_studies(db)
    token = hs.add_raters(conn, studies.get_study(conn, study), [rater])[rater]
    conn.close()
    client = TestClient(create_app(db))
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    return client


def test_screening_in_the_browser_feeds_build_screen(build_db):
    assert runner.invoke(app, ["build", "review-study", "--db", str(build_db), "--kind", "screening",
                               "--name", "scr"]).exit_code == 0
    for expert, approvals in (("e1", "11"), ("e2", "10"), ("e3", "00")):
        client = login(build_db, "scr", expert)
        page = client.get("/study/scr/item/1").text
        assert "Video 1" in page and "https://x/1" in page
        for task, vote in zip(("1", "2"), approvals):
            response = client.post(f"/study/scr/item/{task}/answer",
                                   data={"question": "approve", "choice": vote, "rationale": f"{expert} thinks so"})
            assert response.status_code == 200, response.text
    bad = client.post("/study/scr/item/1/answer", data={"question": "approve", "choice": "maybe", "revision": "1"})
    assert bad.status_code == 400 and "invalid choice" in bad.text
    result = runner.invoke(app, ["build", "screen", "--db", str(build_db), "--from-study", "scr", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["selected"] == [1]


def test_revision_in_the_browser_feeds_build_revise(build_db):
    assert runner.invoke(app, ["build", "review-study", "--db", str(build_db), "--kind", "revision",
                               "--name", "rev"]).exit_code == 0
    e1 = login(build_db, "rev", "e1")
    page = e1.get("/study/rev/item/1").text
    assert "Spindle &lt;b&gt;forms&lt;/b&gt;" in page and "weight_out_of_range:1.5" in page
    post = lambda client, data, task="1": client.post(f"/study/rev/item/{task}/answer", data=data)  # noqa: E731
    # a change without rationale, or a weight out of range, is refused and stores nothing
    assert "rationale" in post(e1, {"question": "c2", "choice": "reweight", "weight": "0.5"}).text
    assert post(e1, {"question": "c2", "choice": "reweight", "weight": "2", "rationale": "r"}).status_code == 400
    assert post(e1, {"question": "c9", "choice": "keep"}).status_code == 400
    conn = studies.open_studies(build_db)
    assert studies.list_answers(conn, studies.get_study(conn, "rev")) == []
    for client in (e1, login(build_db, "rev", "e2")):
        assert post(client, {"question": "c2", "choice": "reweight", "weight": "0.5",
                             "rationale": "presentational"}).status_code == 200
        assert post(client, {"question": "c1", "choice": "keep"}).status_code == 200
    assert post(e1, {"question": "c1", "choice": "edit", "polarity": "-1", "rationale": "flaw",
                     "revision": "1"}).status_code == 200
    assert post(e1, {"question": "supplements", "choice": "add", "dimension": "scientific", "polarity": "+1",
                     "weight": "1.0", "description": "Chromatids separate", "rationale": "missing"}).status_code == 200
    assert "Chromatids separate" in e1.get("/study/rev/item/1").text

    for _ in range(2):  # importing twice replaces, never duplicates
        result = runner.invoke(app, ["build", "revise", "--db", str(build_db), "--from-study", "rev"])
        assert result.exit_code == 0, result.output
    report = json.loads(runner.invoke(app, ["build", "revision-report", "--db", str(build_db),
                                            "--format", "json"]).stdout)
    assert report["actions"] == {"e1": {"delete": 0, "reweight": 1, "edit": 1, "supplement": 1},
                                 "e2": {"delete": 0, "reweight": 1, "edit": 0, "supplement": 0}}
    # task 2 was not revised: its weight 1.5 still blocks the export
    blocked = runner.invoke(app, ["build", "export", "--db", str(build_db), "--out", str(build_db.parent / "o")])
    assert blocked.exit_code == 2 and "task 2 draft:2" in blocked.output


def test_removing_a_supplement_checks_its_position(build_db):
    assert runner.invoke(app, ["build", "review-study", "--db", str(build_db), "--kind", "revision",
                               "--name", "rev"]).exit_code == 0
    e1 = login(build_db, "rev", "e1")
    add = {"question": "supplements", "choice": "add", "dimension": "visual", "polarity": "+1", "weight": "0.5",
           "description": "Labels legible", "rationale": "missing"}
    assert e1.post("/study/rev/item/1/answer", data=add).status_code == 200
    for index in ("1", "-1", "x", ""):
        bad = e1.post("/study/rev/item/1/answer", data={"question": "supplements", "choice": "remove",
                                                        "index": index, "revision": "1"})
        assert bad.status_code == 400 and "no supplement" in bad.text, index
    stale = e1.post("/study/rev/item/1/answer", data={"question": "supplements", "choice": "remove", "index": "0"})
    assert stale.status_code == 409   # no revision: the list changed since the page was shown
    conn = studies.open_studies(build_db)
    assert [a.revision for a in studies.answer_log(conn, studies.get_study(conn, "rev"))] == [1]
    assert e1.post("/study/rev/item/1/answer", data={"question": "supplements", "choice": "remove", "index": "0",
                                                     "revision": "1"}).status_code == 200
    assert studies.list_answers(conn, studies.get_study(conn, "rev"))[0].detail == {"supplements": []}


def test_an_assigned_screening_panel_feeds_build_screen(tmp_path):
    db = make_build(tmp_path / "build.sqlite", tasks=6)
    result = runner.invoke(app, ["build", "review-study", "--db", str(db), "--kind", "screening", "--name", "scr",
                                 "--raters", "e1,e2,e3,e4", "--raters-per-item", "2", "--seed", "1"])
    assert result.exit_code == 0, result.output
    tokens = dict(line.split("\t") for line in result.stdout.strip().splitlines()[-4:])
    conn = studies.open_studies(db)
    plan = studies.assignment(conn, studies.get_study(conn, "scr"))
    assert sorted(len(v) for v in plan.values()) == [3, 3, 3, 3]
    for expert, token in tokens.items():
        client = TestClient(create_app(db))
        client.post("/login", data={"token": token})
        for task in plan[expert]:   # approve odd tasks only
            assert client.post(f"/study/scr/item/{task}/answer",
                               data={"question": "approve", "choice": str(int(task) % 2)}).status_code == 200
    result = runner.invoke(app, ["build", "screen", "--db", str(db), "--from-study", "scr", "--keep", "2",
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    screened = json.loads(result.stdout)
    assert screened["selected"] == [1, 3, 5] and screened["pending"] == 0   # 2 of 2: --of taken from the study


def test_an_assigned_revision_panel_is_merged_per_task(tmp_path):
    """Four experts, three per task: two deletions of three remove a criterion, and an expert who
    kept everything counts as a reviewer (no action, but an answer)."""
    db = make_build(tmp_path / "build.sqlite", tasks=2)
    result = runner.invoke(app, ["build", "review-study", "--db", str(db), "--kind", "revision", "--name", "rev",
                                 "--raters", "e1,e2,e3,e4", "--raters-per-item", "3"])
    assert result.exit_code == 0, result.output
    tokens = dict(line.split("\t") for line in result.stdout.strip().splitlines()[-4:])
    conn = studies.open_studies(db)
    plan = studies.assignment(conn, studies.get_study(conn, "rev"))
    given = {task: sorted(e for e, keys in plan.items() if task in keys) for task in ("1", "2")}
    assert all(len(v) == 3 for v in given.values())
    for expert, token in tokens.items():
        client = TestClient(create_app(db))
        client.post("/login", data={"token": token})
        for task in plan[expert]:
            deleting = expert != given[task][2]   # the first two delete criterion 1, the third keeps it
            decision = {"choice": "delete", "rationale": "redundant"} if deleting else {"choice": "keep"}
            assert client.post(f"/study/rev/item/{task}/answer", data={"question": "c1", **decision}).status_code == 200
            assert client.post(f"/study/rev/item/{task}/answer", data={
                "question": "c2", "choice": "reweight", "weight": "0.5", "rationale": "secondary"}).status_code == 200
    assert runner.invoke(app, ["build", "revise", "--db", str(db), "--from-study", "rev"]).exit_code == 0
    report = json.loads(runner.invoke(app, ["build", "revision-report", "--db", str(db), "--format", "json"]).stdout)
    assert report["conflicts"] == [] and report["agreement"]["design"]["complete"] is False
    assert report["agreement"]["fleiss_kappa"]["ratings_per_item"] == 3
    out = tmp_path / "bench"
    result = runner.invoke(app, ["build", "export", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    from microverse.bench.loading import load_benchmark

    for task in load_benchmark(out).benchmark.tasks:
        criteria = [c for dim in task.rubrics.values() for c in dim]
        assert [c.description for c in criteria] == ["Sharp"] and criteria[0].weight == 0.5


def test_a_build_from_before_build_reviewers_is_read_then_migrated(tmp_path, monkeypatch):
    from microverse.store import builds
    from microverse.store.db import schema_version

    db = tmp_path / "old.sqlite"
    actions = tmp_path / "actions.jsonl"
    records = [{"expert": e, "task": t, **change} for e in ("e1", "e2") for t in (1, 2) for change in (
        {"op": "edit", "criterion": 1, "polarity": "+1", "rationale": "a goal"},
        {"op": "reweight", "criterion": 2, "weight": 0.5, "rationale": "secondary"})]
    actions.write_text("".join(json.dumps(r) + "\n" for r in records))
    with monkeypatch.context() as old_version:  # the schema the previous release wrote: no build_reviewers
        old_version.setattr(builds, "MIGRATIONS", builds.MIGRATIONS[:1])
        make_build(db)
        assert runner.invoke(app, ["build", "revise", str(actions), "--db", str(db)]).exit_code == 0

    # read-only commands do not migrate: every task's panel is everyone, as before
    report = runner.invoke(app, ["build", "revision-report", "--db", str(db), "--format", "json"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["agreement"]["cohen_kappa_pairwise"][0]["n_items"] == 4
    exported = runner.invoke(app, ["build", "export", "--db", str(db), "--out", str(tmp_path / "out")])
    assert exported.exit_code == 0, exported.output

    conn = builds.open_build(db)
    assert schema_version(conn, builds.COMPONENT) == len(builds.MIGRATIONS)
    builds.add_actions(conn, [], replace_origin="study:rev", reviewers={1: ["e1"]})
    assert builds.reviewers(conn) == {1: {"e1"}}
    # actions and their panels are written together or not at all (no task 9: the panel fails)
    before = builds.actions(conn)
    with pytest.raises(sqlite3.IntegrityError):
        builds.add_actions(conn, [{**records[0], "origin": "study:rev"}], replace_origin="study:rev",
                           reviewers={9: ["e1"]})
    assert builds.actions(conn) == before and builds.reviewers(conn) == {1: {"e1"}}
