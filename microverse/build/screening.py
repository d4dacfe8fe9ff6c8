"""Expert screening of candidate tasks: keep a task approved by at least k of n experts.

The paper keeps a task when at least two of three biology experts agree it is practically
relevant, and keeps the level proportions of the collected videos. A task is *kept* once
it has k approvals, *rejected* once it can no longer reach k (n - rejections < k), and
*pending* otherwise. With a target size, the kept tasks are sampled per level in the
candidates' level proportions (largest-remainder quotas), so the final suite keeps the
pool's mix; a level short of kept tasks gives all it has and the shortfall is reported.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from microverse.errors import MicroverseError

UNLABELLED = "unlabelled"


@dataclass
class ScreenResult:
    status: dict[int, str]                         # task -> kept / rejected / pending
    approvals: dict[int, tuple[int, int]]          # task -> (approvals, votes)
    selected: list[int]                            # kept (and, with a target, sampled) tasks
    levels: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        counts = Counter(self.status.values())
        return {"kept": counts["kept"], "rejected": counts["rejected"], "pending": counts["pending"],
                "selected": self.selected, "levels": self.levels, "notes": self.notes,
                "tasks": {str(t): {"status": s, "approvals": self.approvals[t][0], "votes": self.approvals[t][1]}
                          for t, s in sorted(self.status.items())}}


def quotas(shares: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` over levels in proportion to ``shares`` (largest remainder, ties by name)."""
    pool = sum(shares.values())
    if pool == 0:
        return {k: 0 for k in shares}
    exact = {k: total * v / pool for k, v in shares.items()}
    result = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: (-(exact[k] - result[k]), k))[: total - sum(result.values())]:
        result[k] += 1
    return result


def screen(votes: list[tuple[str, int, bool]], levels: dict[int, str | None], *, k: int = 2, n: int = 3,
           target: int | None = None, seed: int = 0) -> ScreenResult:
    """Apply the k-of-n rule to ``votes`` (expert, task, approve) over the candidate tasks in ``levels``."""
    if not 1 <= k <= n:
        raise MicroverseError(f"need 1 <= k <= n, got k={k}, n={n}", fix="the paper uses --keep 2 --of 3")
    seen: dict[tuple[str, int], bool] = {}
    for expert, task, approve in votes:
        if task not in levels:
            raise MicroverseError(f"vote for unknown task {task}", item=expert, fix="vote on candidate tasks only")
        if (expert, task) in seen:
            raise MicroverseError(f"{expert} voted twice on task {task}", fix="keep one vote per expert and task")
        seen[(expert, task)] = approve
    status, approvals = {}, {}
    for task in sorted(levels):
        cast = [a for (e, t), a in seen.items() if t == task]
        if len(cast) > n:
            # n is the votes each task gets: the whole panel, or k of a larger panel that split the tasks
            raise MicroverseError(f"task {task} has {len(cast)} votes but each task is screened by {n}",
                                  fix="pass --of with the number of experts who vote on each task")
        yes = sum(cast)
        approvals[task] = (yes, len(cast))
        status[task] = "kept" if yes >= k else "rejected" if yes + (n - len(cast)) < k else "pending"
    kept = [t for t, s in status.items() if s == "kept"]
    level_of = {t: levels[t] or UNLABELLED for t in levels}
    pool = Counter(level_of.values())
    kept_by_level = Counter(level_of[t] for t in kept)
    result = ScreenResult(status, approvals, kept)
    if target is not None:
        want = quotas(dict(pool), target)
        rng = random.Random(seed)
        selected = []
        for level in sorted(want):
            candidates = sorted(t for t in kept if level_of[t] == level)
            take = min(want[level], len(candidates))
            if take < want[level]:
                result.notes.append(f"{level}: {want[level]} wanted for the pool's proportion, only {take} kept")
            selected += rng.sample(candidates, take)
        result.selected = sorted(selected)
    selected_by_level = Counter(level_of[t] for t in result.selected)
    for level in sorted(pool):
        result.levels[level] = {
            "candidates": pool[level], "candidate_share": round(pool[level] / sum(pool.values()), 4),
            "kept": kept_by_level[level], "selected": selected_by_level[level],
            "selected_share": round(selected_by_level[level] / len(result.selected), 4) if result.selected else None}
    if any(s == "pending" for s in status.values()):
        result.notes.append(f"{sum(s == 'pending' for s in status.values())} task(s) still pending: "
                            f"fewer than {n} votes and not yet decided")
    return result
