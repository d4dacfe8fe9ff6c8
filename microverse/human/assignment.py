"""Which raters rate which items when each item needs only k of n raters.

A study with many items is split so that every item is rated by exactly ``k`` distinct
raters and every rater's load differs from any other's by at most one. Among the
assignments with that property we also spread the *pairs*: each item's raters are picked
so that pairs who have rated few items together are preferred. That keeps the pairwise
overlaps (the items both raters rated, which pairwise Cohen's kappa needs) as even as the
design allows, instead of the fixed rotation (rater i with i+1 only) a round robin gives.

Why hand-written: this is a small greedy over loads and pair counts; the block-design
libraries solve a harder, exact problem (balanced incomplete block designs exist only for
some n, k and item counts).

Raters who join midway (:func:`join`) take unstarted items from the raters with the most
left to do, one at a time, until nobody has more than one item left beyond a newcomer.

Deterministic: the same items, raters (in any order) and seed give the same assignment.
"""

from __future__ import annotations

import itertools
import random

from microverse.errors import MicroverseError


def check_panel(raters: list[str], per_item: int | None) -> list[str]:
    """The cleaned rater names; a clear error for an empty, repeated or too small panel."""
    names = [r.strip() for r in raters]
    if any(not n for n in names):
        raise MicroverseError("empty rater name", fix="write --raters alice,bob,carol")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise MicroverseError(f"rater(s) named twice: {', '.join(repeated)}", fix="give each rater once")
    if per_item is not None and not 1 <= per_item <= len(names):
        raise MicroverseError(f"--raters-per-item {per_item} needs between 1 and {len(names)} (the panel size)",
                              fix="lower --raters-per-item or add raters")
    return names


def assign(items: list[str], raters: list[str], per_item: int, seed: int) -> dict[str, list[str]]:
    """Rater -> item keys (in the order of ``items``): each item to ``per_item`` raters, loads within one."""
    panel = sorted(check_panel(raters, per_item))
    rng = random.Random(f"assignment:{seed}")
    load = dict.fromkeys(panel, 0)
    together = {pair: 0 for pair in itertools.combinations(panel, 2)}
    chosen_for: dict[str, list[str]] = {}
    order = list(items)
    rng.shuffle(order)  # no rater is systematically first on the early items
    for item in order:
        chosen: list[str] = []
        for _ in range(per_item):
            # Taking the least-loaded raters keeps every load within one of the others: loads
            # only ever sit on two adjacent values, and each item raises the lowest first.
            candidates = [r for r in panel if r not in chosen]
            lowest = min(load[r] for r in candidates)
            pool = [r for r in candidates if load[r] == lowest]
            overlap = {r: sum(together[tuple(sorted((r, c)))] for c in chosen) for r in pool}
            fewest = min(overlap.values())
            chosen.append(rng.choice([r for r in pool if overlap[r] == fewest]))
        for rater in chosen:
            load[rater] += 1
        for pair in itertools.combinations(sorted(chosen), 2):
            together[pair] += 1
        chosen_for[item] = chosen
    return {r: [item for item in items if r in chosen_for[item]] for r in panel}


def join(remaining: dict[str, int], movable: dict[str, list[str]], newcomers: list[str],
         seed: int) -> list[tuple[str, str, str]]:
    """Moves ``(from, to, item)`` that give newcomers unstarted items of the busiest raters.

    ``remaining``: each current rater's count of items still to finish; ``movable``: the
    items each has not started, the one to give up first first. One item at a time goes
    from the rater with the most left to the newcomer with the least, while that gap is at
    least two: every move lowers the spread, and at the end no rater has more than one item
    left beyond any newcomer, unless the busiest have nothing unstarted left to give. Only
    newcomers receive (a current rater's list never grows), and never an item they already
    received from someone else, so each item keeps its k distinct raters.

    Why water-filling rather than re-running :func:`assign`: answered items cannot move, so
    only the unstarted part of each list is free, and the fewest moves keep most raters'
    lists as they knew them. Ties go by an order drawn from ``seed``, not by name.
    """
    rng = random.Random(f"join:{seed}")
    givers, takers = sorted(remaining), sorted(newcomers)
    rng.shuffle(givers)
    rng.shuffle(takers)
    load = {**remaining, **dict.fromkeys(takers, 0)}
    pools = {g: list(movable.get(g, [])) for g in givers}
    received: dict[str, set[str]] = {t: set() for t in takers}
    moves: list[tuple[str, str, str]] = []
    while True:
        move = _next_move(load, pools, received, givers, takers)
        if move is None:
            return moves
        giver, taker, key = move
        pools[giver].remove(key)
        received[taker].add(key)
        load[giver] -= 1
        load[taker] += 1
        moves.append(move)


def _next_move(load: dict[str, int], pools: dict[str, list[str]], received: dict[str, set[str]],
               givers: list[str], takers: list[str]) -> tuple[str, str, str] | None:
    """The least-loaded newcomer takes from the most-loaded rater who has an item for them
    (sorts are stable, so ties keep the seeded order)."""
    for taker in sorted(takers, key=lambda t: load[t]):
        for giver in sorted(givers, key=lambda g: -load[g]):
            if load[giver] - load[taker] < 2:
                break
            key = next((k for k in pools[giver] if k not in received[taker]), None)
            if key is not None:
                return giver, taker, key
    return None
