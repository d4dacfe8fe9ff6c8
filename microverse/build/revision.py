"""Expert revision of rubric drafts: actions with rationale, majority merge, and statistics.

Each expert independently deletes, re-weights, edits (description, polarity, dimension) or
supplements criteria of the LLM draft, and writes why (paper Section 2.3, Stage 2). The
revisions are merged attribute by attribute by majority vote over the task's panel (the
whole panel, or the experts a split panel gave the task to): an expert who was shown the
task and left a criterion alone votes for it as drafted. Whatever has no strict majority
keeps the drafted value and is listed as a conflict for discussion; a panel decision
(actions by the pseudo-expert ``panel``) then settles it. Proposals outvoted by a
majority are listed too, so nothing an expert wrote disappears silently.

Statistics: actions per expert and operation (the paper's Figure 8), and pairwise Cohen's
kappa between experts (Table 6) over the label each expert gave each drafted criterion
(keep / delete / reweight / edit / edit+reweight).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from microverse.bench.agreement import agreement_summary
from microverse.bench.models import Dimension
from microverse.build.parse_rubric import DraftCriterion, parse_dimension, parse_polarity, parse_weight
from microverse.errors import MicroverseError

OPS = ("delete", "reweight", "edit", "supplement")
PANEL = "panel"


@dataclass(frozen=True)
class RevisionAction:
    """One expert action on one task. ``criterion`` is the draft's criterion number (a3/d3 -> 3)."""

    expert: str
    task: int
    op: str
    rationale: str
    criterion: int | None = None
    weight: float | None = None
    description: str | None = None
    polarity: int | None = None
    dimension: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def action_from_json(data: dict[str, Any], where: str) -> RevisionAction:
    """An action from a JSON record, with values checked (polarity +1/-1, weight in (0, 1])."""
    def fail(message: str) -> MicroverseError:
        return MicroverseError(message, item=where, fix="see docs/build.md for the action format")

    if not isinstance(data, dict):
        raise fail("an action must be a JSON object")
    op = str(data.get("op", "")).strip().lower()
    if op not in OPS:
        raise fail(f"unknown op {data.get('op')!r} (use {', '.join(OPS)})")
    try:
        task = int(data["task"])
    except (KeyError, TypeError, ValueError):
        raise fail("missing or non-integer 'task'") from None
    expert = str(data.get("expert") or "").strip()
    if not expert:
        raise fail("missing 'expert'")
    rationale = str(data.get("rationale") or "").strip()
    if not rationale:
        raise fail("every action needs a 'rationale'")
    criterion = data.get("criterion")
    if op != "supplement":
        try:
            criterion = int(criterion)
        except (TypeError, ValueError):
            raise fail(f"{op} needs the draft 'criterion' number") from None
    elif criterion is not None:
        raise fail("a supplement adds a new criterion: give no 'criterion' number")
    weight = polarity = None
    if data.get("weight") is not None:
        weight, flags = parse_weight(data["weight"])
        if weight is None or any(f.startswith(("weight_out_of_range", "weight_invalid")) for f in flags):
            raise fail(f"weight {data['weight']!r} is not in (0, 1]")
    if data.get("polarity") is not None:
        polarity, problem = parse_polarity(data["polarity"])
        if polarity is None:
            raise fail(f"polarity {data['polarity']!r} is not +1 or -1")
    dimension = None
    if data.get("dimension") is not None:
        dim = parse_dimension(data["dimension"])
        if dim is None:
            raise fail(f"unknown dimension {data['dimension']!r}")
        dimension = dim.value
    description = str(data["description"]).strip() if data.get("description") is not None else None
    if op == "reweight" and weight is None:
        raise fail("reweight needs 'weight'")
    if op == "edit" and description is None and polarity is None and dimension is None:
        raise fail("edit needs a new 'description', 'polarity' or 'dimension'")
    if op == "supplement" and (not description or polarity is None or weight is None or dimension is None):
        raise fail("supplement needs 'dimension', 'description', 'polarity' and 'weight'")
    if op == "delete" and any(v is not None for v in (weight, description, polarity, dimension)):
        raise fail("delete takes only 'criterion' and 'rationale'")
    return RevisionAction(expert, task, op, rationale, criterion, weight, description, polarity, dimension)


def validate(drafts: dict[int, list[DraftCriterion]], actions: list[RevisionAction]) -> None:
    """Every action refers to a drafted task and criterion; no expert contradicts themself."""
    seen: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    for action in actions:
        where = f"{action.expert}, task {action.task}"
        if action.task not in drafts:
            raise MicroverseError(f"unknown task {action.task}", item=where,
                                  fix="revise tasks that have a rubric draft (`microverse build rubrics`)")
        if action.op == "supplement":
            continue
        numbers = {c.number for c in drafts[action.task]}
        if action.criterion not in numbers:
            raise MicroverseError(f"task {action.task} has no drafted criterion {action.criterion}", item=where,
                                  fix=f"use one of {sorted(numbers)}")
        ops = seen[(action.expert, action.task, action.criterion)]
        if action.op in ops:
            raise MicroverseError(f"{action.op} of criterion {action.criterion} given twice", item=where,
                                  fix="keep one action per operation and criterion")
        if "delete" in ops | {action.op} and len(ops | {action.op}) > 1:
            raise MicroverseError(f"criterion {action.criterion} is both deleted and changed", item=where,
                                  fix="either delete it or change it")
        ops.add(action.op)


# ---------------------------------------------------------------- merge

@dataclass
class MergedCriterion:
    dimension: Dimension | None
    description: str
    polarity: int | None
    weight: float | None
    source: str                       # "draft:3" or "supplement"
    flags: list[str] = field(default_factory=list)


@dataclass
class Disagreement:
    task: int
    criterion: str                    # "3" or "supplement: <text>"
    attribute: str                    # delete, weight, description, polarity, dimension, supplement
    votes: dict[str, Any]             # expert -> proposed value
    outcome: str                      # "conflict: kept as drafted", "overruled", "resolved by panel"


@dataclass
class MergeResult:
    rubrics: dict[int, list[MergedCriterion]]
    conflicts: list[Disagreement]
    overruled: list[Disagreement]


def _majority(votes: dict[str, Any], panel_size: int) -> tuple[bool, Any]:
    """(True, value) if one value has more than half of the panel's votes."""
    counts = Counter(votes.values())
    value, count = counts.most_common(1)[0]
    return count * 2 > panel_size, value


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def task_panels(tasks: Iterable[int], actions: list[RevisionAction], experts: list[str] | None = None,
                reviewers: dict[int, set[str]] | None = None) -> dict[int, list[str]]:
    """The experts whose votes count on each task: those who answered it where a web study
    reviewed it (``reviewers``), else the whole panel; plus anyone who acted on it.

    An expert who was never shown a task must not count as a silent "keep as drafted" vote
    (with 3 of 5 experts per task, 2 deletions of 3 would otherwise lose to 3 absentees).
    """
    everyone = set(experts or []) | {a.expert for a in actions if a.expert != PANEL}
    acted: dict[int, set[str]] = defaultdict(set)
    for a in actions:
        if a.expert != PANEL:
            acted[a.task].add(a.expert)
    reviewers = reviewers or {}
    return {task: sorted(reviewers.get(task, everyone) | acted[task]) for task in tasks}


def merge_revisions(drafts: dict[int, list[DraftCriterion]], actions: list[RevisionAction],
                    experts: list[str] | None = None, reviewers: dict[int, set[str]] | None = None) -> MergeResult:
    """Majority merge of the experts' actions (a majority of each task's panel, :func:`task_panels`);
    ``panel`` actions settle conflicts afterwards."""
    validate(drafts, actions)
    expert_actions = [a for a in actions if a.expert != PANEL]
    panel_actions = [a for a in actions if a.expert == PANEL]
    panels = task_panels(drafts, actions, experts, reviewers)
    if not any(panels.values()):
        raise MicroverseError("no expert actions to merge", fix="record the experts' revisions first")
    by_key: dict[tuple[int, int | None, str], list[RevisionAction]] = defaultdict(list)
    for a in expert_actions:
        by_key[(a.task, a.criterion, a.expert)].append(a)
    conflicts: list[Disagreement] = []
    overruled: list[Disagreement] = []
    rubrics: dict[int, list[MergedCriterion]] = {}

    def decide(task: int, label: str, attribute: str, votes: dict[str, Any], default: Any, size: int) -> Any:
        if len(set(votes.values())) <= 1:
            return next(iter(votes.values()), default)
        won, value = _majority(votes, size)
        if won:
            overruled.append(Disagreement(task, label, attribute, votes, "overruled"))
            return value
        conflicts.append(Disagreement(task, label, attribute, votes, "conflict: kept as drafted"))
        return default

    for task in sorted(drafts):
        panel = panels[task]
        merged: list[MergedCriterion] = []
        for draft in drafts[task]:
            label = str(draft.number)
            mine = {e: by_key.get((task, draft.number, e), []) for e in panel}
            deleted = {e: any(a.op == "delete" for a in acts) for e, acts in mine.items()}
            if decide(task, label, "delete", deleted, False, len(panel)):
                continue
            keepers = [e for e in panel if not deleted[e]]

            def proposal(expert: str, attr: str, drafted: Any) -> Any:
                values = [getattr(a, attr) for a in mine[expert] if getattr(a, attr) is not None]
                return values[-1] if values else drafted

            drafted_dim = draft.dimension.value if draft.dimension else None
            values = {}
            for attr, drafted in (("weight", draft.weight), ("description", draft.description),
                                  ("polarity", draft.polarity), ("dimension", drafted_dim)):
                votes = {e: proposal(e, attr, drafted) for e in keepers}
                values[attr] = decide(task, label, attr, votes, drafted, len(keepers))
            flags = [f for f in draft.flags if not _fixed(f, values, draft)]
            merged.append(MergedCriterion(Dimension(values["dimension"]) if values["dimension"] else None,
                                          values["description"], values["polarity"], values["weight"],
                                          f"draft:{draft.number}", flags))
        supplements: dict[str, list[RevisionAction]] = defaultdict(list)
        for a in expert_actions:
            if a.task == task and a.op == "supplement":
                supplements[_norm(a.description or "")].append(a)
        for text, proposals in supplements.items():
            experts_for = {a.expert: a for a in proposals}
            if len(experts_for) * 2 > len(panel):
                first = proposals[0]
                _, weight = _majority({e: a.weight for e, a in experts_for.items()}, 0)
                _, polarity = _majority({e: a.polarity for e, a in experts_for.items()}, 0)
                merged.append(MergedCriterion(Dimension(first.dimension), first.description or "", polarity, weight,
                                              "supplement"))
            else:
                conflicts.append(Disagreement(task, f"supplement: {proposals[0].description}", "supplement",
                                              {e: "add" for e in experts_for}, "conflict: not added"))
        rubrics[task] = merged
    _apply_panel(drafts, rubrics, panel_actions, conflicts)
    return MergeResult(rubrics, conflicts, overruled)


def _fixed(flag: str, values: dict[str, Any], draft: DraftCriterion) -> bool:
    """Whether the merged values replace the drafted value a flag was about."""
    kind = flag.split(":")[0]
    if kind.startswith("weight"):
        return values["weight"] != draft.weight
    if kind.startswith("polarity"):
        return values["polarity"] is not None and values["polarity"] != draft.polarity
    if kind == "dimension_unknown":
        return values["dimension"] is not None
    if kind == "description_empty":
        return bool(values["description"])
    return False


def _apply_panel(drafts: dict[int, list[DraftCriterion]], rubrics: dict[int, list[MergedCriterion]],
                 actions: list[RevisionAction], conflicts: list[Disagreement]) -> None:
    """The panel's decisions after discussion: applied last, and they mark the conflicts they settle."""
    for a in actions:
        merged = rubrics[a.task]
        if a.op == "supplement":
            merged.append(MergedCriterion(Dimension(a.dimension), a.description or "", a.polarity, a.weight,
                                          "supplement"))
            for c in conflicts:
                if c.task == a.task and c.attribute == "supplement" and _norm(c.criterion[12:]) == _norm(
                        a.description or ""):
                    c.outcome = "resolved by panel"
            continue
        source = f"draft:{a.criterion}"
        target = next((m for m in merged if m.source == source), None)
        if a.op == "delete":
            if target is not None:
                merged.remove(target)
        else:
            if target is None:  # the majority deleted it; the panel brings it back with its changes
                draft = next(d for d in drafts[a.task] if d.number == a.criterion)
                target = MergedCriterion(draft.dimension, draft.description, draft.polarity, draft.weight, source,
                                         list(draft.flags))
                merged.append(target)
            for attr in ("weight", "description", "polarity"):
                if getattr(a, attr) is not None:
                    setattr(target, attr, getattr(a, attr))
                    target.flags = [f for f in target.flags if not f.startswith(attr)]
            if a.dimension is not None:
                target.dimension = Dimension(a.dimension)
                target.flags = [f for f in target.flags if not f.startswith("dimension")]
        for c in conflicts:
            if c.task == a.task and c.criterion == str(a.criterion):
                c.outcome = "resolved by panel"


# ---------------------------------------------------------------- statistics

def action_counts(actions: list[RevisionAction]) -> dict[str, dict[str, int]]:
    """Actions per expert and operation (the paper's Figure 8); the panel is left out."""
    counts: dict[str, dict[str, int]] = {}
    for a in actions:
        if a.expert != PANEL:
            counts.setdefault(a.expert, {op: 0 for op in OPS})[a.op] += 1
    return dict(sorted(counts.items()))


def criterion_labels(drafts: dict[int, list[DraftCriterion]], actions: list[RevisionAction],
                     experts: list[str] | None = None,
                     reviewers: dict[int, set[str]] | None = None) -> list[tuple[str, str, str]]:
    """(expert, "task:criterion", label) for every drafted criterion and expert of the task's panel."""
    panels = task_panels(drafts, actions, experts, reviewers)
    ops: dict[tuple[str, int, int], set[str]] = defaultdict(set)
    for a in actions:
        if a.op != "supplement" and a.expert != PANEL:
            ops[(a.expert, a.task, a.criterion)].add(a.op)
    rows = []
    for task, criteria in sorted(drafts.items()):
        for c in criteria:
            for expert in panels[task]:
                done = ops.get((expert, task, c.number), set())
                rows.append((expert, f"{task}:{c.number}", "+".join(sorted(done)) if done else "keep"))
    return rows


def expert_agreement(drafts: dict[int, list[DraftCriterion]], actions: list[RevisionAction],
                     experts: list[str] | None = None, reviewers: dict[int, set[str]] | None = None) -> dict[str, Any]:
    """Pairwise Cohen's kappa (Table 6) plus Fleiss and Krippendorff over the criterion labels
    (a split panel gives an incomplete design: :func:`microverse.bench.agreement.agreement_summary` says so)."""
    labels = criterion_labels(drafts, actions, experts, reviewers)
    if len({r for r, _, _ in labels}) < 2:
        raise MicroverseError("agreement needs at least two experts", fix="record a second expert's revision")
    return agreement_summary(labels)
