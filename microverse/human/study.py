"""Human studies: create them, issue rater tokens, lay items out blind, and record clicks.

Two kinds, both stored with :mod:`microverse.store.studies`:

- ``preference``: per sampled task, the videos of 2-3 models side by side; the rater picks
  the best or a tie, per dimension (or once, ``overall``). Models are shown as positions
  A/B/C; the position -> model layout is shuffled per (rater, item) from the study seed, so
  it is stable across reloads, differs between raters, and is saved with every answer.
- ``annotation``: one video per item; an expert marks each rubric criterion 0/1, exactly
  the judge's task, giving per-criterion judge accuracy against experts.

Raters are identified by a random token (only its hash is stored). Every answer is
validated here before it reaches the store, so bad input changes nothing.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from microverse.bench.models import DIMENSIONS, Benchmark, Task
from microverse.errors import MicroverseError
from microverse.human.assignment import assign, check_panel, join
from microverse.human.videos import index_videos
from microverse.store import studies as store
from microverse.store.studies import Answer, Forbidden, Item, Study

PREFERENCE = "preference"
ANNOTATION = "annotation"
TIE = "tie"
OVERALL = "overall"
POSITIONS = "ABC"
DIMENSION_NAMES = tuple(d.value for d in DIMENSIONS)


# ---------------------------------------------------------------- creation

def _video_tables(model_folders: dict[str, Path]) -> dict[str, dict[int, Path]]:
    return {model: index_videos(folder) for model, folder in model_folders.items()}


def sample_tasks(benchmark: Benchmark, available: set[int], *, per_level: int | None, tasks: list[int] | None,
                 seed: int) -> list[Task]:
    """The explicit ``tasks`` (each must exist and have every video), or ``per_level`` tasks per level.

    Per-level sampling follows the paper (20 per level); a level with fewer usable tasks
    gives what it has, which the command reports.
    """
    by_index = benchmark.by_index()
    if tasks:
        chosen = []
        for index in tasks:
            if index not in by_index:
                raise MicroverseError(f"unknown task {index}", item=f"task {index}",
                                      fix="pick indices from the benchmark (`microverse bench show`)")
            if index not in available:
                raise MicroverseError(f"task {index} has no video for every model", item=f"task {index}",
                                      fix="generate the missing videos or leave the task out")
            chosen.append(by_index[index])
        return chosen
    rng = random.Random(seed)
    usable = [t for t in benchmark.tasks if t.index in available]
    if per_level is None:
        return usable
    chosen = []
    for level in sorted({t.level for t in usable}, key=lambda lv: str(lv.value if lv else "")):
        pool = [t for t in usable if t.level == level]
        chosen.extend(sorted(rng.sample(pool, min(per_level, len(pool))), key=lambda t: t.index))
    return chosen


def create_preference_study(conn: sqlite3.Connection, name: str, benchmark: Benchmark, benchmark_path: str,
                            model_folders: dict[str, Path], *, dimensions: list[str] | None = None,
                            per_level: int | None = None, tasks: list[int] | None = None, seed: int = 0) -> Study:
    """A blinded preference study over the tasks every model has a video for."""
    if not 2 <= len(model_folders) <= len(POSITIONS):
        raise MicroverseError(f"a preference study compares 2 or 3 models, got {len(model_folders)}",
                              fix="pass --model NAME=FOLDER two or three times")
    if TIE in model_folders:
        raise MicroverseError("'tie' cannot be a model name", fix="rename the model")
    dims = dimensions or [OVERALL]
    bad = [d for d in dims if d not in (*DIMENSION_NAMES, OVERALL)]
    if bad:
        raise MicroverseError(f"unknown dimension(s) {', '.join(bad)}",
                              fix=f"use {', '.join(DIMENSION_NAMES)} or {OVERALL}")
    videos = _video_tables(model_folders)
    available = set.intersection(*(set(v) for v in videos.values()))
    chosen = sample_tasks(benchmark, available, per_level=per_level, tasks=tasks, seed=seed)
    if not chosen:
        raise MicroverseError("no task has a video for every model",
                              fix="check that the folders hold <task index>.mp4 files for the same tasks")
    items = [(str(t.index), t.index, {"prompt": t.prompt, "requirement": t.requirement,
                                      "level": t.level.value if t.level else None,
                                      "videos": {m: str(videos[m][t.index]) for m in model_folders}})
             for t in chosen]
    config = {"models": list(model_folders), "dimensions": dims, "seed": seed, "benchmark": benchmark_path,
              "video_folders": {m: str(Path(f).resolve()) for m, f in model_folders.items()}}
    return store.create_study(conn, name, PREFERENCE, config, items)


def create_annotation_study(conn: sqlite3.Connection, name: str, benchmark: Benchmark, benchmark_path: str,
                            model_folders: dict[str, Path], *, per_level: int | None = None,
                            tasks: list[int] | None = None, seed: int = 0) -> Study:
    """Criterion-level annotation: one item per (task, model) video, one 0/1 question per criterion."""
    if not model_folders:
        raise MicroverseError("an annotation study needs at least one model", fix="pass --model NAME=FOLDER")
    videos = _video_tables(model_folders)
    available = set().union(*(set(v) for v in videos.values()))
    chosen = sample_tasks(benchmark, available, per_level=per_level, tasks=tasks, seed=seed)
    items = []
    for task in chosen:
        criteria = [{"key": f"{dim.value}:{k}", "dimension": dim.value, "description": c.description,
                     "polarity": c.polarity, "weight": c.weight}
                    for dim in DIMENSIONS for k, c in enumerate(task.criteria(dim))]
        for model in model_folders:
            if task.index in videos[model]:
                items.append((f"{task.index}:{model}", task.index,
                              {"prompt": task.prompt, "requirement": task.requirement, "model": model,
                               "level": task.level.value if task.level else None,
                               "video": str(videos[model][task.index]), "criteria": criteria}))
    if not items:
        raise MicroverseError("no video found for the chosen tasks", fix="check the model folders")
    config = {"models": list(model_folders), "seed": seed, "benchmark": benchmark_path,
              "video_folders": {m: str(Path(f).resolve()) for m, f in model_folders.items()}}
    return store.create_study(conn, name, ANNOTATION, config, items)


# ---------------------------------------------------------------- raters

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "mv_" + secrets.token_urlsafe(18)


def add_raters(conn: sqlite3.Connection, study: Study, names: list[str]) -> dict[str, str]:
    """Register raters and return their tokens (shown once; only hashes are stored). In an
    assigned study they join the panel: see :func:`join_panel`."""
    if study.raters_per_item:
        return join_panel(conn, study, names)[0]
    tokens = {}
    for name in names:
        name = name.strip()
        if not name:
            raise MicroverseError("empty rater name", fix="pass --rater NAME")
        token = new_token()
        store.add_rater(conn, study, name, hash_token(token))
        tokens[name] = token
    return tokens


def add_panel(conn: sqlite3.Connection, study: Study, names: list[str], per_item: int | None) -> dict[str, str]:
    """Register the study's raters and return their tokens.

    With ``per_item`` (k), each item is assigned to k of them (balanced, deterministic from
    the study's seed); without it, every rater rates every item. Either way more raters can
    be added later (:func:`add_raters`).
    """
    names = check_panel(names, per_item)
    if per_item is None:
        return add_raters(conn, study, names)
    seed = study.config.get("seed", 0)
    plan = assign([i.key for i in store.list_items(conn, study)], names, per_item, seed)
    tokens = {name: new_token() for name in names}
    store.add_assigned_raters(conn, study, {n: hash_token(t) for n, t in tokens.items()}, plan,
                              {"raters_per_item": per_item, "assignment_seed": seed})
    return tokens


def hand_over(conn: sqlite3.Connection, study: Study, old: str, new: str) -> tuple[str, list[str]]:
    """A replacement for a rater who left an assigned study: ``new`` gets a token and every item
    ``old`` has not started; returns (token, moved item keys)."""
    new = check_panel([new], None)[0]
    token = new_token()
    return token, store.hand_over(conn, study, old, new, hash_token(token))


def join_panel(conn: sqlite3.Connection, study: Study, names: list[str]) -> tuple[dict[str, str], list[store.Move]]:
    """Newcomers join an assigned study midway, taking unstarted items from the raters with the
    most left to do (:func:`microverse.human.assignment.join`); returns (tokens, moves).

    "Left to do" counts the items a rater has not finished; only items they have not started
    move, and each giver gives up the items last in their own order, so the item a rater is
    about to open stays theirs. Deterministic from the study's assignment seed. Nothing is
    registered when there is nothing to share.
    """
    names = check_panel(names, None)
    items = {i.key: i for i in store.list_items(conn, study)}
    seed = study.config.get("assignment_seed", study.config.get("seed", 0))

    def plan(current: dict[str, list[str]], answers: list[Answer]) -> list[store.Move]:
        answered: dict[tuple[str, str], set[str]] = {}
        for a in answers:
            answered.setdefault((a.rater, a.item_key), set()).add(a.question)
        remaining = {r: sum(1 for k in keys if not set(questions(study, items[k])) <= answered.get((r, k), set()))
                     for r, keys in current.items()}
        movable = {r: [i.key for i in reversed(item_order(study, r, [items[k] for k in keys]))
                       if (r, i.key) not in answered] for r, keys in current.items()}
        if not any(movable.values()):
            raise MicroverseError(f"nothing left to share in study {study.name!r}: every assigned item has been "
                                  "started by its rater, and started items stay with them",
                                  fix="no new rater is needed; the current raters finish their items")
        moves = join(remaining, movable, names, seed)
        idle = [n for n in names if not any(to == n for _, to, _ in moves)]
        if idle:
            raise MicroverseError(f"{', '.join(idle)} would get no item: the unstarted work is already spread as "
                                  f"evenly as it can be (most left to one rater: {max(remaining.values())})",
                                  fix="add fewer raters")
        return moves

    tokens = {name: new_token() for name in names}
    return tokens, store.join_assigned(conn, study, {n: hash_token(t) for n, t in tokens.items()}, plan)


def rotate_token(conn: sqlite3.Connection, study: Study, rater: str) -> str:
    token = new_token()
    store.replace_token(conn, study, rater, hash_token(token))
    return token


def authenticate(conn: sqlite3.Connection, token: str, study_name: str | None = None) -> tuple[Study, str]:
    """The (study, rater) a token belongs to; a token for another study is refused."""
    found = store.rater_for_token_hash(conn, hash_token(token.strip())) if token else None
    if found is None:
        raise Forbidden("unknown rater token", fix="use the token printed by `microverse human add-raters`")
    study, rater = found
    if study_name is not None and study.name != study_name:
        raise Forbidden(f"this token belongs to another study, not {study_name!r}",
                        fix="open the study your token was issued for")
    return study, rater


# ---------------------------------------------------------------- blinded layout

def _digest(study: Study, *parts: str) -> bytes:
    return hashlib.sha256("\x1f".join([str(study.config.get("seed", 0)), study.name, *parts]).encode()).digest()


def _rng(study: Study, *parts: str) -> random.Random:
    return random.Random(int.from_bytes(_digest(study, *parts)[:8], "big"))


def layout(study: Study, rater: str, item: Item) -> list[str]:
    """The models in the order shown to ``rater`` for ``item`` (position A first)."""
    models = list(item.payload["videos"])
    _rng(study, "layout", rater, item.key).shuffle(models)
    return models


def item_order(study: Study, rater: str, items: list[Item]) -> list[Item]:
    """Items in this rater's own random order (stable across sessions).

    Each item is ranked by its own hash, not by shuffling the list: when a hand-over or a
    newcomer changes a rater's list, the items they keep stay in the same order."""
    return sorted(items, key=lambda item: _digest(study, "order", rater, item.key))


def rater_items(conn: sqlite3.Connection, study: Study, rater: str) -> list[Item]:
    """The items ``rater`` is to rate (all, or their assignment), in their own order."""
    return item_order(study, rater, store.list_items(conn, study, assigned_to=rater))


def check_assigned(item: Item, assigned: Collection[str] | None) -> None:
    """Refuse to show a rater an item outside ``assigned``, the keys of their items
    (:func:`store.assigned_items <microverse.store.studies.assigned_items>`, or the keys of
    :func:`rater_items` where a page has read those anyway; None: the study assigns nothing)."""
    if assigned is not None and item.key not in assigned:
        raise Forbidden(f"item {item.key!r} is not assigned to you", fix="open an item from your study overview")


def questions(study: Study, item: Item) -> list[str]:
    """The questions a rater must answer for ``item`` (other kinds list theirs in the payload)."""
    if study.kind == PREFERENCE:
        return list(study.config["dimensions"])
    if "questions" in item.payload:
        return list(item.payload["questions"])
    return [c["key"] for c in item.payload["criteria"]]


# ---------------------------------------------------------------- answers

@dataclass(frozen=True)
class Progress:
    answered_items: int
    total_items: int
    answered_questions: int
    total_questions: int


def progress(conn: sqlite3.Connection, study: Study, rater: str) -> Progress:
    """``rater``'s progress over their items."""
    return progress_of(study, rater_items(conn, study, rater), rater_answers(conn, study, rater))


def progress_of(study: Study, items: list[Item], answers: dict[tuple[str, str], Answer]) -> Progress:
    """Progress over ``items`` given the rater's ``answers`` (:func:`rater_answers`): for a page
    that has read both already, so a request reads them once."""
    asked = [(i.key, questions(study, i)) for i in items]
    done_q = sum((key, q) in answers for key, qs in asked for q in qs)
    done_items = sum(all((key, q) in answers for q in qs) for key, qs in asked)
    return Progress(done_items, len(items), done_q, sum(len(qs) for _, qs in asked))


def answerable_item(conn: sqlite3.Connection, study: Study, kind: str, item_key: str,
                    question: str | None = None) -> Item:
    """The item an answer is for, once the study is of ``kind`` and ``question`` (if given) is one of its own."""
    if study.kind != kind:
        raise MicroverseError(f"study {study.name!r} is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} study")
    item = store.get_item(conn, study, item_key)
    if question is not None and question not in questions(study, item) + list(item.payload.get("optional_questions", [])):
        raise MicroverseError(f"item {item.key!r} has no question {question!r}",
                              fix=f"answer one of {', '.join(questions(study, item))}")
    return item


def record_preference(conn: sqlite3.Connection, study: Study, rater: str, item_key: str, dimension: str,
                      choice: str, seen_revision: int | None) -> Answer:
    """Save a click: ``choice`` is a shown position (A/B/C) or ``tie``; the model it meant is stored."""
    item = answerable_item(conn, study, PREFERENCE, item_key, dimension)
    shown = layout(study, rater, item)
    choice = choice.strip()
    if choice.lower() == TIE:
        answer = TIE
    elif len(choice) == 1 and choice.upper() in POSITIONS[: len(shown)]:
        answer = shown[POSITIONS.index(choice.upper())]
    else:
        raise MicroverseError(f"invalid choice {choice!r}",
                              fix=f"choose one of {', '.join(POSITIONS[: len(shown)])} or tie")
    return store.save_answer(conn, study, rater, item.key, dimension, answer,
                             {"layout": shown, "position": choice.upper() if answer != TIE else TIE},
                             seen_revision)


def record_annotation(conn: sqlite3.Connection, study: Study, rater: str, item_key: str, criterion: str,
                      value: str, seen_revision: int | None) -> Answer:
    """Save one criterion mark: 1 (the video meets it) or 0."""
    item = answerable_item(conn, study, ANNOTATION, item_key, criterion)
    if str(value).strip() not in ("0", "1"):
        raise MicroverseError(f"invalid mark {value!r}", fix="mark 1 (met) or 0 (not met)")
    return store.save_answer(conn, study, rater, item.key, criterion, str(value).strip(), None, seen_revision)


def rater_answers(conn: sqlite3.Connection, study: Study, rater: str) -> dict[tuple[str, str], Answer]:
    """This rater's own answers only, by (item, question)."""
    return {(a.item_key, a.question): a for a in store.list_answers(conn, study, rater)}


def study_summary(conn: sqlite3.Connection, study: Study) -> dict[str, Any]:
    raters = store.list_raters(conn, study)
    return {"name": study.name, "kind": study.kind, "items": len(store.list_items(conn, study)),
            "raters_per_item": study.raters_per_item,
            "raters": {r: progress(conn, study, r).__dict__ for r in raters}, "config": study.config}
