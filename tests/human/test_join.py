"""A rater joins an assigned study midway: newcomers take unstarted items from the busiest raters,
each item keeps k distinct raters, answers stay put, the result is even and reproducible, the
newcomer is served only their items, and agreement still computes."""

from __future__ import annotations

import sqlite3
from collections import Counter

import pytest
from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.errors import MicroverseError
from microverse.human import study as hs
from microverse.human.assignment import join
from microverse.human.stats import preference_results
from microverse.store import studies as store
from tests.human.conftest import RATERS


def test_newcomers_take_from_the_busiest_until_within_one():
    remaining = {"a": 10, "b": 6, "c": 2}
    movable = {r: [f"{r}{n}" for n in range(left)] for r, left in remaining.items()}
    moves = join(remaining, movable, ["d"], seed=0)
    load = Counter(remaining)
    for giver, taker, key in moves:
        assert taker == "d" and key in movable[giver]
        load[giver] -= 1
        load[taker] += 1
    assert sorted((load["a"], load["b"], load["d"])) == [5, 5, 6] and load["c"] == 2   # c, ahead, gives nothing
    assert len(moves) == 5 and [m[2] for m in moves if m[0] == "a"] == movable["a"][:len(
        [m for m in moves if m[0] == "a"])]   # each giver gives up its items in the order given


def test_only_unstarted_items_move_and_none_twice_to_one_rater():
    # a has 10 left but has started 9 of them; a and b both hold x unstarted
    moves = join({"a": 10, "b": 5}, {"a": ["x"], "b": ["x", "y"]}, ["d"], seed=0)
    assert sorted(key for _, _, key in moves) == ["x", "y"] and {m[0] for m in moves if m[2] == "x"} == {"a"}
    assert join({"a": 1, "b": 1}, {"a": ["x"], "b": ["y"]}, ["d"], seed=0) == []   # already even
    assert join({"a": 9}, {"a": [str(n) for n in range(9)]}, ["d", "e"], seed=4) == \
        join({"a": 9}, {"a": [str(n) for n in range(9)]}, ["e", "d"], seed=4)


def answer(conn, study, rater: str, keys: list[str]) -> None:
    for key in keys:
        hs.record_preference(conn, study, rater, key, "overall", "A", None)


def midway(conn, study) -> None:
    """Some raters have answered some of their items, carol most of hers."""
    for rater, done in {"alice": 1, "bob": 2, "carol": 4}.items():
        answer(conn, study, rater, [i.key for i in hs.rater_items(conn, study, rater)][:done])


def left_to_do(conn, study) -> dict[str, int]:
    return {r: p.total_items - p.answered_items for r, p in
            ((r, hs.progress(conn, study, r)) for r in store.list_raters(conn, study))}


def test_joining_midway_keeps_k_raters_and_answers_and_evens_the_load(assigned):
    db, conn, study, _ = assigned
    midway(conn, study)
    before, answers = store.assignment(conn, study), store.list_answers(conn, study)
    result = CliRunner().invoke(app, ["human", "add-raters", "--db", str(db), "--study", "p",
                                      "--rater", "dave", "--rater", "erin"])
    assert result.exit_code == 0, result.output
    tokens = dict(line.split("\t") for line in result.stdout.strip().splitlines())
    assert sorted(tokens) == ["dave", "erin"]
    assert all(hs.authenticate(conn, token, "p")[1] == name for name, token in tokens.items())
    assert "items left per rater" in result.output

    after = store.assignment(conn, study)
    holders: dict[str, list[str]] = {}
    for rater, keys in after.items():
        for key in keys:
            holders.setdefault(key, []).append(rater)
    assert len(holders) == 12 and all(len(set(rs)) == len(rs) == 2 for rs in holders.values())
    assert store.list_answers(conn, study) == answers                    # no answer moved or changed
    assert all(a.item_key in after[a.rater] for a in answers)            # every answer's item is still its author's
    for rater in RATERS:                                                 # current raters only give, never receive
        assert set(after[rater]) <= set(before[rater])
    moved = {(r, k) for r in RATERS for k in set(before[r]) - set(after[r])}
    assert not moved & {(a.rater, a.item_key) for a in answers}
    assert len(moved) == len(after["dave"]) + len(after["erin"])
    items = {i.key: i for i in store.list_items(conn, study)}
    newcomer_items = set(after["dave"]) | set(after["erin"])
    for rater in RATERS:   # a giver gives up the tail of their own order: the item they open next stays theirs
        order = [i.key for i in hs.item_order(study, rater, [items[k] for k in before[rater]])]
        first_given = min((order.index(k) for k in before[rater] if (rater, k) in moved), default=len(order))
        # an item kept behind a given one was skipped only because the newcomer already had it
        assert all(order.index(k) < first_given or k in newcomer_items for k in after[rater])

    left = left_to_do(conn, study)
    assert abs(left["dave"] - left["erin"]) <= 1 and max(left.values()) - min(left["dave"], left["erin"]) <= 1
    # givers were the busiest: nobody who gave has less left than a rater who kept everything
    kept = [left[r] for r in RATERS if after[r] == before[r]]
    assert all(left[r] >= max(kept, default=0) - 1 for r in RATERS if after[r] != before[r])


def test_joining_is_deterministic(assigned, tmp_path):
    db, conn, study, _ = assigned
    midway(conn, study)
    copies = []
    for n, names in enumerate((["dave", "erin"], ["erin", "dave"])):
        copy = sqlite3.connect(tmp_path / f"copy{n}.db")
        conn.backup(copy)
        copy.close()
        other = store.open_studies(tmp_path / f"copy{n}.db")
        hs.add_raters(other, store.get_study(other, "p"), names)
        copies.append(store.assignment(other, store.get_study(other, "p")))
    hs.add_raters(conn, study, ["dave", "erin"])
    assert store.assignment(conn, study) == copies[0] == copies[1]


def test_the_newcomer_is_served_only_their_items(assigned):
    pytest.importorskip("fastapi", reason="the web extra is not installed")
    from fastapi.testclient import TestClient

    from microverse.web.app import create_app

    db, conn, study, tokens = assigned
    midway(conn, study)
    before = store.assignment(conn, study)
    token = hs.add_raters(conn, study, ["dave"])["dave"]
    mine = store.assignment(conn, study)["dave"]
    giver, given = next((r, k) for r in RATERS for k in before[r] if k in mine)
    outside = next(i.key for i in store.list_items(conn, study) if i.key not in mine)

    dave = TestClient(create_app(db))
    assert dave.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    overview = dave.get("/study/p").text
    assert overview.count("<tr class=") == len(mine) and f"0/{len(mine)} items done" in overview
    assert dave.get(f"/study/p/item/{outside}").status_code == 403
    assert dave.post(f"/study/p/item/{given}/answer", data={"question": "overall", "choice": "A"},
                     follow_redirects=False).status_code == 303
    assert [(a.rater, a.item_key) for a in store.list_answers(conn, study, "dave")] == [("dave", given)]

    former = TestClient(create_app(db))
    former.post("/login", data={"token": tokens[giver]})
    assert former.get(f"/study/p/item/{given}").status_code == 403    # the item is no longer the giver's


def test_joining_with_nothing_unstarted_is_refused_clearly(assigned):
    db, conn, study, _ = assigned
    plan = store.assignment(conn, study)
    for rater, keys in plan.items():
        answer(conn, study, rater, keys[1:] if rater == "alice" else keys)   # alice has one item left
    runner = CliRunner()
    args = ["human", "add-raters", "--db", str(db), "--study", "p"]
    crowded = runner.invoke(app, [*args, "--rater", "dave", "--rater", "erin"])
    assert crowded.exit_code == 2 and "dave, erin would get no item" in crowded.output
    assert "Traceback" not in crowded.output and store.list_raters(conn, study) == sorted(RATERS)
    answer(conn, study, "alice", plan["alice"][:1])
    done = runner.invoke(app, [*args, "--rater", "dave"])
    assert done.exit_code == 2 and "nothing left to share" in done.output and "Traceback" not in done.output
    assert "dave" not in store.list_raters(conn, study) and store.assignment(conn, study) == plan
    taken = runner.invoke(app, [*args, "--rater", "bob"])
    assert taken.exit_code == 2 and "already has rater(s) bob" in taken.output


def test_agreement_still_computes_after_a_join(assigned):
    db, conn, study, _ = assigned
    midway(conn, study)
    hs.add_raters(conn, study, ["dave"])
    done = {(a.rater, a.item_key) for a in store.list_answers(conn, study)}
    for rater, keys in store.assignment(conn, study).items():
        for n, key in enumerate(keys):
            if (rater, key) not in done:
                hs.record_preference(conn, study, rater, key, "overall", "AB"[n % 2], None)
    got = preference_results(study, store.list_items(conn, study), store.list_answers(conn, study),
                             resamples=0)["dimensions"]["overall"]["agreement"]
    assert got["fleiss_kappa"]["n_items"] == 12 and got["fleiss_kappa"]["ratings_per_item"] == 2
    assert got["krippendorff_alpha"] is not None
    assert any("dave" in (p["rater_a"], p["rater_b"]) and p["n_items"] > 0 for p in got["cohen_kappa_pairwise"])


def test_a_bad_plan_changes_nothing(assigned):
    """The store itself refuses a move of a started item, in the same transaction as the registration."""
    db, conn, study, _ = assigned
    key = store.assignment(conn, study)["alice"][0]
    answer(conn, study, "alice", [key])
    with pytest.raises(MicroverseError, match="only an unstarted item moves"):
        store.join_assigned(conn, study, {"dave": hs.hash_token("t")}, lambda *_: [("alice", "dave", key)])
    assert "dave" not in store.list_raters(conn, study) and key in store.assignment(conn, study)["alice"]
