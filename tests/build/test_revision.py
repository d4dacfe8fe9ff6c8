"""Expert revision: action checks, majority merge with conflicts, Figure 8 counts, Table 6 kappas; screening."""

from __future__ import annotations

import pytest

from microverse.bench.models import Dimension
from microverse.build.parse_rubric import DraftCriterion
from microverse.build.revision import (
    action_counts,
    action_from_json,
    criterion_labels,
    expert_agreement,
    merge_revisions,
)
from microverse.build.screening import quotas, screen
from microverse.errors import MicroverseError

S, V = Dimension.SCIENTIFIC, Dimension.VISUAL


def drafts():
    return {
        1: [DraftCriterion(1, S, "Chromosomes condense", 1, 1.0),
            DraftCriterion(2, S, "Spindle attaches", 1, 1.0, flags=["polarity_assumed_positive"]),
            DraftCriterion(3, V, "Sharp", 1, 0.2)],
        2: [DraftCriterion(1, S, "Vesicle fuses", 1, 0.5), DraftCriterion(2, V, "Colourful", 1, 1.5,
                                                                          flags=["weight_out_of_range:1.5"])],
    }


def act(expert, task, op, criterion=None, **values):
    return action_from_json({"expert": expert, "task": task, "op": op, "criterion": criterion,
                             "rationale": f"{expert} says so", **values}, "test")


ACTIONS = [
    act("e1", 1, "delete", 1), act("e2", 1, "delete", 1),
    act("e1", 1, "reweight", 2, weight=0.5), act("e2", 1, "reweight", 2, weight="0.2"),
    act("e1", 1, "edit", 3, description="Membranes are sharp"), act("e2", 1, "edit", 3, description="Membranes are sharp"),
    act("e1", 1, "supplement", dimension="Scientific Fidelity", description="Sister chromatids separate",
        polarity="+1", weight=1),
    act("e3", 1, "supplement", dimension="scientific", description="  sister chromatids   separate ", polarity=1,
        weight=1.0),
    act("e2", 2, "edit", 1, polarity="-1"),
    act("e3", 2, "delete", 2),
    act("e2", 2, "supplement", dimension="visual", description="Labels are legible", polarity=1, weight=0.2),
]


def test_majority_merge_lists_conflicts_and_overruled_proposals():
    result = merge_revisions(drafts(), ACTIONS)
    task1 = {m.source: m for m in result.rubrics[1]}
    assert "draft:1" not in task1                                  # deleted by 2 of 3
    assert task1["draft:2"].weight == 1.0                          # 0.5 / 0.2 / 1.0: no majority, as drafted
    assert task1["draft:3"].description == "Membranes are sharp"   # 2 of 3 edited the same way
    assert task1["supplement"].description == "Sister chromatids separate" and task1["supplement"].weight == 1.0
    task2 = {m.source: m for m in result.rubrics[2]}
    assert task2["draft:1"].polarity == 1                          # one expert's polarity change is outvoted
    assert task2["draft:2"].flags == ["weight_out_of_range:1.5"]   # nobody fixed it: still flagged
    conflicts = {(c.task, c.criterion, c.attribute): c for c in result.conflicts}
    assert set(conflicts) == {(1, "2", "weight"), (2, "supplement: Labels are legible", "supplement")}
    assert conflicts[(1, "2", "weight")].votes == {"e1": 0.5, "e2": 0.2, "e3": 1.0}
    overruled = {(c.task, c.criterion, c.attribute) for c in result.overruled}
    assert overruled == {(1, "1", "delete"), (1, "3", "description"), (2, "1", "polarity"), (2, "2", "delete")}


def test_a_split_panel_is_merged_over_each_task_s_own_experts():
    """Five experts, each task given to three: two deletions of three win; the two experts who
    never saw the task are no silent "keep" votes (over all five, 2 of 5 would be a conflict)."""
    actions = [act("a", 1, "delete", 1), act("b", 1, "delete", 1), act("d", 2, "reweight", 2, weight=0.5),
               act("e", 2, "reweight", 2, weight=0.5)]
    panels = {1: {"a", "b", "c"}, 2: {"c", "d", "e"}}
    split = merge_revisions(drafts(), actions, reviewers=panels)
    assert "draft:1" not in {m.source for m in split.rubrics[1]}
    assert {m.source: m.weight for m in split.rubrics[2]}["draft:2"] == 0.5
    assert split.conflicts == []
    whole = merge_revisions(drafts(), actions, experts=list("abcde"))
    assert "draft:1" in {m.source for m in whole.rubrics[1]} and len(whole.overruled) == 2   # absentees outvote
    # agreement: each expert labels only the tasks they were given (an incomplete design)
    labels = criterion_labels(drafts(), actions, reviewers=panels)
    assert {(r, item.split(":")[0]) for r, item, _ in labels} == {(r, "1") for r in "abc"} | {(r, "2") for r in "cde"}
    summary = expert_agreement(drafts(), actions, reviewers=panels)
    assert summary["design"]["complete"] is False and summary["fleiss_kappa"]["ratings_per_item"] == 3
    pairs = {(p["rater_a"], p["rater_b"]): p["n_items"] for p in summary["cohen_kappa_pairwise"]}
    assert pairs["a", "b"] == 3 and pairs["a", "d"] == 0 and pairs["c", "d"] == 2


def test_panel_settles_conflicts():
    panel = [act("panel", 1, "reweight", 2, weight=0.5),
             act("panel", 2, "supplement", dimension="visual", description="Labels are legible", polarity=1,
                 weight=0.2),
             act("panel", 2, "reweight", 2, weight=0.5)]
    result = merge_revisions(drafts(), ACTIONS + panel)
    assert {m.source: m.weight for m in result.rubrics[1]}["draft:2"] == 0.5
    task2 = {m.source: m for m in result.rubrics[2]}
    assert task2["draft:2"].weight == 0.5 and task2["draft:2"].flags == []
    assert [m.source for m in result.rubrics[2]].count("supplement") == 1
    assert all(c.outcome == "resolved by panel" for c in result.conflicts)


def test_figure8_counts_and_table6_kappas():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    assert action_counts(ACTIONS) == {
        "e1": {"delete": 1, "reweight": 1, "edit": 1, "supplement": 1},
        "e2": {"delete": 1, "reweight": 1, "edit": 2, "supplement": 1},
        "e3": {"delete": 1, "reweight": 0, "edit": 0, "supplement": 1},
    }
    labels = criterion_labels(drafts(), ACTIONS)
    by_expert = {e: [lab for ex, _, lab in labels if ex == e] for e in ("e1", "e2", "e3")}
    assert by_expert["e1"] == ["delete", "reweight", "edit", "keep", "keep"]
    assert by_expert["e2"] == ["delete", "reweight", "edit", "edit", "keep"]
    summary = expert_agreement(drafts(), ACTIONS)
    for pair in summary["cohen_kappa_pairwise"]:
        ref = sklearn_metrics.cohen_kappa_score(by_expert[pair["rater_a"]], by_expert[pair["rater_b"]])
        assert pair["kappa"] == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("record,message", [
    ({"expert": "e1", "task": 1, "op": "delete", "criterion": 1}, "rationale"),
    ({"expert": "e1", "task": 1, "op": "merge", "criterion": 1, "rationale": "r"}, "unknown op"),
    ({"expert": "e1", "task": 1, "op": "reweight", "criterion": 1, "weight": 1.5, "rationale": "r"}, "not in \\(0, 1\\]"),
    ({"expert": "e1", "task": 1, "op": "edit", "criterion": 1, "polarity": "+2", "rationale": "r"}, "not \\+1 or -1"),
    ({"expert": "e1", "task": 1, "op": "supplement", "description": "x", "rationale": "r"}, "supplement needs"),
    ({"expert": "e1", "task": "one", "op": "delete", "criterion": 1, "rationale": "r"}, "task"),
])
def test_bad_action_records(record, message):
    with pytest.raises(MicroverseError, match=message):
        action_from_json(record, "line 1")


@pytest.mark.parametrize("actions,message", [
    ([act("e1", 9, "delete", 1)], "unknown task 9"),
    ([act("e1", 1, "delete", 7)], "no drafted criterion 7"),
    ([act("e1", 1, "delete", 1), act("e1", 1, "reweight", 1, weight=0.5)], "both deleted and changed"),
    ([act("e1", 1, "reweight", 1, weight=0.5), act("e1", 1, "reweight", 1, weight=0.2)], "given twice"),
])
def test_inconsistent_actions_are_refused(actions, message):
    with pytest.raises(MicroverseError, match=message):
        merge_revisions(drafts(), actions)


def test_screen_two_of_three_and_level_proportions():
    levels = {t: ("Organ-level" if t < 6 else "Cellular-level" if t < 9 else "Subcellular-level") for t in range(10)}
    votes = []
    for t in range(10):
        yes = {0: 3, 1: 2, 2: 1, 3: 2, 4: 2, 5: 0, 6: 2, 7: 3, 8: 0, 9: 2}[t]
        votes += [(e, t, i < yes) for i, e in enumerate(["a", "b", "c"])]
    votes = [v for v in votes if not (v[1] == 2 and v[0] == "c")]  # task 2: 1 yes, 1 no, one vote missing
    result = screen(votes, levels, k=2, n=3)
    assert result.status[2] == "pending" and result.status[5] == "rejected" and result.status[0] == "kept"
    assert result.selected == [0, 1, 3, 4, 6, 7, 9]
    sampled = screen(votes, levels, k=2, n=3, target=5, seed=1)
    # pool 6/3/1 organ/cellular/subcellular -> quotas 3/1.5/0.5 -> 3/2/0 by largest remainder
    assert sampled.levels["Organ-level"]["selected"] == 3 and sampled.levels["Cellular-level"]["selected"] == 2
    assert len(sampled.selected) == 5 and set(sampled.selected) <= set(result.selected)
    assert any("pending" in n for n in sampled.notes)
    with pytest.raises(MicroverseError, match="twice"):
        screen(votes + [("a", 0, True)], levels)
    with pytest.raises(MicroverseError, match="unknown task"):
        screen([("a", 99, True)], levels)


def test_screen_a_split_panel():
    """Five experts, each task screened by three of them (an assigned study): n is votes per task."""
    from microverse.human.assignment import assign

    plan = assign([str(t) for t in range(10)], list("abcde"), 3, seed=0)
    votes = [(e, int(t), (int(t) + ord(e)) % 3 != 0) for e, tasks in plan.items() for t in tasks]
    result = screen(votes, dict.fromkeys(range(10), "Organ-level"), k=2, n=3)
    assert all(result.approvals[t][1] == 3 for t in range(10)) and "pending" not in result.status.values()
    assert result.selected == [t for t in range(10) if result.approvals[t][0] >= 2]
    with pytest.raises(MicroverseError, match="task 0 has 4 votes but each task is screened by 3"):
        outsider = next(e for e in "abcde" if "0" not in plan[e])
        screen(votes + [(outsider, 0, True)], dict.fromkeys(range(10)), k=2, n=3)


def test_quotas_sum_to_total():
    assert quotas({"a": 238, "b": 189, "c": 32}, 100) == {"a": 52, "b": 41, "c": 7}
    assert sum(quotas({"a": 1, "b": 1, "c": 1}, 2).values()) == 2
