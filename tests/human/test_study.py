"""Preference and annotation studies: creation, blinding, tokens, per-click saving, bad input."""

from __future__ import annotations

import sqlite3

import pytest

from microverse.errors import MicroverseError
from microverse.human import study as hs
from microverse.store import studies as store


@pytest.fixture
def conn(tmp_path) -> sqlite3.Connection:
    return store.open_studies(tmp_path / "studies.db")


def _snapshot(conn):
    return (conn.execute("SELECT * FROM study_answers ORDER BY 1,2,3,4").fetchall(),
            conn.execute("SELECT count(*) FROM study_answer_log").fetchone()[0])


def test_preference_study_blinds_and_saves_each_click(conn, benchmark_file, video_dirs):
    benchmark, path = benchmark_file
    study = hs.create_preference_study(conn, "pilot", benchmark, str(path), video_dirs,
                                       dimensions=["scientific", "visual"], per_level=1, seed=3)
    items = store.list_items(conn, study)
    assert len(items) == 3  # one per level
    assert {i.payload["level"] for i in items} == {"Organ-level", "Cellular-level", "Subcellular-level"}
    tokens = hs.add_raters(conn, study, ["ann", "bob"])
    assert store.rater_for_token_hash(conn, hs.hash_token(tokens["ann"]))[1] == "ann"
    # only hashes are stored
    assert tokens["ann"] not in str(conn.execute("SELECT * FROM study_raters").fetchall())

    item = items[0]
    shown = hs.layout(study, "ann", item)
    assert sorted(shown) == sorted(video_dirs) and shown == hs.layout(study, "ann", item)  # stable
    layouts = {tuple(hs.layout(study, r, i)) for r in ("ann", "bob", "cy", "dee") for i in items}
    assert len(layouts) > 1  # positions really are shuffled
    answer = hs.record_preference(conn, study, "ann", item.key, "scientific", "B", None)
    assert answer.answer == shown[1] and answer.detail == {"layout": shown, "position": "B"}
    assert hs.progress(conn, study, "ann").answered_questions == 1

    # a duplicate vote (e.g. double submit) is refused and changes nothing
    before = _snapshot(conn)
    with pytest.raises(store.Conflict, match="already answered"):
        hs.record_preference(conn, study, "ann", item.key, "scientific", "A", None)
    assert _snapshot(conn) == before
    # a deliberate change names the revision it saw; the log keeps both
    changed = hs.record_preference(conn, study, "ann", item.key, "scientific", "tie", 1)
    assert changed.answer == "tie" and changed.revision == 2
    with pytest.raises(store.Conflict, match="changed since"):
        hs.record_preference(conn, study, "ann", item.key, "scientific", "A", 1)
    assert [a.answer for a in store.answer_log(conn, study)] == [shown[1], "tie"]
    # bob sees none of ann's answers
    assert hs.rater_answers(conn, study, "bob") == {}


@pytest.mark.parametrize("args,message", [
    (("nope", "scientific", "A"), "no item"),
    (("ITEM", "instruction", "A"), "no question"),
    (("ITEM", "scientific", "D"), "invalid choice"),
    (("ITEM", "scientific", "Sora"), "invalid choice"),
])
def test_bad_preference_input_changes_nothing(conn, benchmark_file, video_dirs, args, message):
    benchmark, path = benchmark_file
    study = hs.create_preference_study(conn, "s", benchmark, str(path),
                                       {k: video_dirs[k] for k in ("Sora", "Veo3")},
                                       dimensions=["scientific", "visual"])
    hs.add_raters(conn, study, ["ann"])
    key = store.list_items(conn, study)[0].key
    item, dim, choice = args
    before = _snapshot(conn)
    with pytest.raises(MicroverseError, match=message):
        hs.record_preference(conn, study, "ann", key if item == "ITEM" else item, dim, choice, None)
    assert _snapshot(conn) == before


def test_token_for_another_study_is_refused(conn, benchmark_file, video_dirs):
    benchmark, path = benchmark_file
    a = hs.create_preference_study(conn, "a", benchmark, str(path), {k: video_dirs[k] for k in ("Sora", "Veo3")})
    b = hs.create_preference_study(conn, "b", benchmark, str(path), {k: video_dirs[k] for k in ("Sora", "Veo3")})
    tok_a = hs.add_raters(conn, a, ["ann"])["ann"]
    hs.add_raters(conn, b, ["ann"])
    assert hs.authenticate(conn, tok_a, "a")[1] == "ann"
    with pytest.raises(store.Forbidden, match="another study"):
        hs.authenticate(conn, tok_a, "b")
    with pytest.raises(store.Forbidden, match="unknown"):
        hs.authenticate(conn, "mv_forged", "a")
    new = hs.rotate_token(conn, a, "ann")
    with pytest.raises(store.Forbidden):
        hs.authenticate(conn, tok_a)
    assert hs.authenticate(conn, new)[0].name == "a"


def test_creation_errors(conn, benchmark_file, video_dirs, tmp_path):
    benchmark, path = benchmark_file
    two = {k: video_dirs[k] for k in ("Sora", "Veo3")}
    with pytest.raises(MicroverseError, match="2 or 3 models"):
        hs.create_preference_study(conn, "x", benchmark, str(path), {"Sora": video_dirs["Sora"]})
    with pytest.raises(MicroverseError, match="unknown task 99"):
        hs.create_preference_study(conn, "x", benchmark, str(path), two, tasks=[99])
    (video_dirs["Sora"] / "5.mp4").unlink()
    with pytest.raises(MicroverseError, match="no video for every model"):
        hs.create_preference_study(conn, "x", benchmark, str(path), two, tasks=[5])
    with pytest.raises(MicroverseError, match="unknown dimension"):
        hs.create_preference_study(conn, "x", benchmark, str(path), two, dimensions=["smell"])
    with pytest.raises(MicroverseError, match="video folder not found"):
        hs.create_preference_study(conn, "x", benchmark, str(path), {"a": tmp_path / "no", "b": tmp_path / "pe"})
    hs.create_preference_study(conn, "x", benchmark, str(path), two)
    assert len(store.list_items(conn, store.get_study(conn, "x"))) == 5  # task 5 lacks Sora's video
    with pytest.raises(store.Conflict, match="already exists"):
        hs.create_preference_study(conn, "x", benchmark, str(path), two)
    assert [s.name for s in store.list_studies(conn)] == ["x"]


def test_annotation_study_marks_criteria(conn, benchmark_file, video_dirs):
    benchmark, path = benchmark_file
    study = hs.create_annotation_study(conn, "ann", benchmark, str(path), {"Sora": video_dirs["Sora"]}, tasks=[0, 1])
    items = store.list_items(conn, study)
    assert [i.key for i in items] == ["0:Sora", "1:Sora"]
    assert hs.questions(study, items[0]) == ["scientific:0", "scientific:1", "visual:0", "instruction:0"]
    hs.add_raters(conn, study, ["ex1"])
    hs.record_annotation(conn, study, "ex1", "0:Sora", "scientific:1", "1", None)
    with pytest.raises(MicroverseError, match="invalid mark"):
        hs.record_annotation(conn, study, "ex1", "0:Sora", "scientific:0", "2", None)
    with pytest.raises(MicroverseError, match="no question"):
        hs.record_annotation(conn, study, "ex1", "0:Sora", "scientific:7", "1", None)
    with pytest.raises(MicroverseError, match="not a preference study"):
        hs.record_preference(conn, study, "ex1", "0:Sora", "scientific", "A", None)
    assert [(a.question, a.answer) for a in store.list_answers(conn, study)] == [("scientific:1", "1")]


def test_per_rater_item_order_is_a_stable_permutation(conn, benchmark_file, video_dirs):
    benchmark, path = benchmark_file
    study = hs.create_preference_study(conn, "o", benchmark, str(path), video_dirs)
    items = store.list_items(conn, study)
    order = [i.key for i in hs.item_order(study, "ann", items)]
    assert sorted(order) == sorted(i.key for i in items)
    assert order == [i.key for i in hs.item_order(study, "ann", items)]
    # ranked per item, so a rater who loses or gains items keeps the rest in the same order
    kept = [i for i in items if i.key != order[0]][::-1]
    assert [i.key for i in hs.item_order(study, "ann", kept)] == order[1:]
    assert order != [i.key for i in hs.item_order(study, "bob", items)]
