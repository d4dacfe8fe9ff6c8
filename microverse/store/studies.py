"""SQL for human studies: studies, their items, raters (by token hash) and answers.

One table design serves every kind of study (preference, criterion annotation, task
screening, rubric revision): an item is what a rater looks at, a question is one thing
asked about it (a dimension, a criterion, "approve"), an answer is one click. Every
click is also appended to ``study_answer_log`` so a changed answer leaves a trace.

Only token *hashes* are stored: a database copied to a colleague does not hand out
logins. A study may assign each item to some raters only (``study_assignments``); that
is checked here, in the same transaction as the write. Answers carry a revision number;
writing requires the revision the rater saw, so a double submit or a stale second tab is
refused instead of silently overwriting.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from microverse.errors import MicroverseError
from microverse.store.db import open_component, transaction

COMPONENT = "studies"

MIGRATIONS = [
    """
    CREATE TABLE studies (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        config TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE study_items (
        study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        item_key TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        task_index INTEGER NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (study_id, item_key)
    );
    CREATE TABLE study_raters (
        study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
        rater TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (study_id, rater)
    );
    CREATE TABLE study_answers (
        study_id INTEGER NOT NULL,
        rater TEXT NOT NULL,
        item_key TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        detail TEXT,
        revision INTEGER NOT NULL,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (study_id, rater, item_key, question),
        FOREIGN KEY (study_id, rater) REFERENCES study_raters(study_id, rater) ON DELETE CASCADE,
        FOREIGN KEY (study_id, item_key) REFERENCES study_items(study_id, item_key) ON DELETE CASCADE
    );
    CREATE TABLE study_answer_log (
        id INTEGER PRIMARY KEY,
        study_id INTEGER NOT NULL,
        rater TEXT NOT NULL,
        item_key TEXT NOT NULL,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        detail TEXT,
        revision INTEGER NOT NULL,
        answered_at TEXT NOT NULL
    );
    """,
    # 2: per-rater item assignment (studies created with --raters-per-item); a study without
    # rows here serves every item to every rater.
    """
    CREATE TABLE study_assignments (
        study_id INTEGER NOT NULL,
        rater TEXT NOT NULL,
        item_key TEXT NOT NULL,
        PRIMARY KEY (study_id, rater, item_key),
        FOREIGN KEY (study_id, rater) REFERENCES study_raters(study_id, rater) ON DELETE CASCADE,
        FOREIGN KEY (study_id, item_key) REFERENCES study_items(study_id, item_key) ON DELETE CASCADE
    );
    """,
]


class Conflict(MicroverseError):
    """The answer changed since the rater saw it (duplicate vote, stale page)."""


class NotFound(MicroverseError):
    """An unknown study, item or rater."""


class Forbidden(MicroverseError):
    """A token that is unknown or belongs to another study."""


@dataclass(frozen=True)
class Study:
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    created_at: str

    @property
    def raters_per_item(self) -> int | None:
        """k where each item is assigned to k raters (``--raters-per-item``); None where every
        rater rates every item (no ``study_assignments`` rows)."""
        return self.config.get("raters_per_item")


@dataclass(frozen=True)
class Item:
    key: str
    ordinal: int
    task_index: int
    payload: dict[str, Any]


@dataclass(frozen=True)
class Answer:
    rater: str
    item_key: str
    question: str
    answer: str
    detail: dict[str, Any] | None
    revision: int
    answered_at: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_studies(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and migrate unless read-only) the database holding studies."""
    return open_component(
        path, COMPONENT, MIGRATIONS, readonly=readonly, marker_table="studies", what="study", error=NotFound,
        missing_fix="pass --db with the file `microverse human create-preference` (or create-annotation) wrote",
        empty_fix="create one with `microverse human create-preference` (or create-annotation)")


def create_study(conn: sqlite3.Connection, name: str, kind: str, config: dict[str, Any],
                 items: list[tuple[str, int, dict[str, Any]]]) -> Study:
    """Create a study with its items ``(key, task_index, payload)`` in one transaction."""
    with transaction(conn):
        if conn.execute("SELECT 1 FROM studies WHERE name = ?", (name,)).fetchone():
            raise Conflict(f"a study named {name!r} already exists", fix="choose another --name")
        cur = conn.execute("INSERT INTO studies(name, kind, config, created_at) VALUES (?, ?, ?, ?)",
                           (name, kind, json.dumps(config), _now()))
        study_id = cur.lastrowid
        conn.executemany(
            "INSERT INTO study_items(study_id, item_key, ordinal, task_index, payload) VALUES (?, ?, ?, ?, ?)",
            [(study_id, key, ordinal, task, json.dumps(payload))
             for ordinal, (key, task, payload) in enumerate(items)])
    return get_study(conn, name)


def _study(row: sqlite3.Row) -> Study:
    return Study(row["id"], row["name"], row["kind"], json.loads(row["config"]), row["created_at"])


def get_study(conn: sqlite3.Connection, name: str) -> Study:
    row = conn.execute("SELECT * FROM studies WHERE name = ?", (name,)).fetchone()
    if row is None:
        known = ", ".join(s.name for s in list_studies(conn)) or "none"
        raise NotFound(f"no study named {name!r} (known: {known})",
                       fix="create it with `microverse human create-preference` or `create-annotation`")
    return _study(row)


def list_studies(conn: sqlite3.Connection) -> list[Study]:
    return [_study(r) for r in conn.execute("SELECT * FROM studies ORDER BY id")]


def _item(row: sqlite3.Row) -> Item:
    return Item(row["item_key"], row["ordinal"], row["task_index"], json.loads(row["payload"]))


def list_items(conn: sqlite3.Connection, study: Study, *, assigned_to: str | None = None) -> list[Item]:
    """The study's items in creation order; with ``assigned_to``, only that rater's where the study
    assigns items (selected in SQL: a rater of a large study does not pay for every payload)."""
    if assigned_to is not None and study.raters_per_item:
        return [_item(r) for r in conn.execute(
            "SELECT i.* FROM study_items i JOIN study_assignments a ON a.study_id = i.study_id "
            "AND a.item_key = i.item_key WHERE i.study_id = ? AND a.rater = ? ORDER BY i.ordinal",
            (study.id, assigned_to))]
    return [_item(r) for r in conn.execute(
        "SELECT * FROM study_items WHERE study_id = ? ORDER BY ordinal", (study.id,))]


def get_item(conn: sqlite3.Connection, study: Study, key: str) -> Item:
    row = conn.execute("SELECT * FROM study_items WHERE study_id = ? AND item_key = ?", (study.id, key)).fetchone()
    if row is None:
        raise NotFound(f"study {study.name!r} has no item {key!r}", fix="pick an item from the study's list")
    return _item(row)


def add_rater(conn: sqlite3.Connection, study: Study, rater: str, token_hash: str) -> None:
    with transaction(conn):
        if study.raters_per_item:
            raise Conflict(f"study {study.name!r} assigns its items; a rater joins with a share of them",
                           fix="use `human add-raters`, which hands the newcomer unstarted items")
        if conn.execute("SELECT 1 FROM study_raters WHERE study_id = ? AND rater = ?",
                        (study.id, rater)).fetchone():
            raise Conflict(f"study {study.name!r} already has a rater {rater!r}",
                           fix="choose another name, or use `rotate-token` to issue a new token")
        conn.execute("INSERT INTO study_raters(study_id, rater, token_hash, created_at) VALUES (?, ?, ?, ?)",
                     (study.id, rater, token_hash, _now()))


def add_assigned_raters(conn: sqlite3.Connection, study: Study, token_hashes: dict[str, str],
                        assignment: dict[str, list[str]], design: dict[str, Any]) -> Study:
    """Register a fixed panel and the items each rater is assigned, in one transaction.

    ``design`` is merged into the study's config (``raters_per_item``…), which from then on
    marks the study as assigned: :func:`save_answer` refuses an answer to an item outside
    the rater's assignment.
    """
    with transaction(conn):
        if conn.execute("SELECT 1 FROM study_raters WHERE study_id = ?", (study.id,)).fetchone():
            raise Conflict(f"study {study.name!r} already has raters; an assignment is made for the whole panel "
                           "at once", fix="create a new study with --raters and --raters-per-item")
        now = _now()
        conn.executemany("INSERT INTO study_raters(study_id, rater, token_hash, created_at) VALUES (?, ?, ?, ?)",
                         [(study.id, rater, token_hash, now) for rater, token_hash in token_hashes.items()])
        conn.executemany("INSERT INTO study_assignments(study_id, rater, item_key) VALUES (?, ?, ?)",
                         [(study.id, rater, key) for rater, keys in assignment.items() for key in keys])
        conn.execute("UPDATE studies SET config = ? WHERE id = ?", (json.dumps({**study.config, **design}), study.id))
    return get_study(conn, study.name)


def hand_over(conn: sqlite3.Connection, study: Study, old: str, new: str, token_hash: str) -> list[str]:
    """Register ``new`` and move to them every item assigned to ``old`` that ``old`` has not
    answered at all, in one transaction; return the moved keys. Items ``old`` answered (even
    in part) stay theirs, so no answer ends up on an item its author no longer holds; with
    none unanswered nothing is registered."""
    with transaction(conn):
        if not study.raters_per_item:
            raise Conflict(f"study {study.name!r} does not assign items", fix="add raters with `human add-raters`")
        if not conn.execute("SELECT 1 FROM study_raters WHERE study_id = ? AND rater = ?", (study.id, old)).fetchone():
            raise NotFound(f"study {study.name!r} has no rater {old!r}")
        if conn.execute("SELECT 1 FROM study_raters WHERE study_id = ? AND rater = ?", (study.id, new)).fetchone():
            raise Conflict(f"study {study.name!r} already has a rater {new!r}", fix="hand over to a new name")
        moved = [r[0] for r in conn.execute(
            "SELECT a.item_key FROM study_assignments a JOIN study_items i ON i.study_id = a.study_id "
            "AND i.item_key = a.item_key WHERE a.study_id = ? AND a.rater = ? AND NOT EXISTS (SELECT 1 FROM "
            "study_answers x WHERE x.study_id = a.study_id AND x.rater = a.rater AND x.item_key = a.item_key) "
            "ORDER BY i.ordinal", (study.id, old))]
        if not moved:   # as join_assigned: no token for a rater with nothing to do
            raise Conflict(f"rater {old!r} has started every item assigned to them, and started items stay with "
                           "their author: nothing to hand over", fix=f"let {old} finish, or use `rotate-token` "
                           "if the token was lost")
        conn.execute("INSERT INTO study_raters(study_id, rater, token_hash, created_at) VALUES (?, ?, ?, ?)",
                     (study.id, new, token_hash, _now()))
        conn.executemany("UPDATE study_assignments SET rater = ? WHERE study_id = ? AND rater = ? AND item_key = ?",
                         [(new, study.id, old, key) for key in moved])
    return moved


Move = tuple[str, str, str]   # (from rater, to rater, item key)


def join_assigned(conn: sqlite3.Connection, study: Study, token_hashes: dict[str, str],
                  plan: Callable[[dict[str, list[str]], list[Answer]], list[Move]]) -> list[Move]:
    """Register newcomers to an assigned study and move to them the assignments ``plan`` picks,
    in one transaction; return the moves.

    ``plan`` is called with the current assignment and every answer, read inside the
    transaction: BEGIN IMMEDIATE holds the write lock, so no answer can land on an item
    between choosing it and moving it. Each move is checked here as well: the giver holds the
    item and has not answered it, the receiver is a newcomer not already on it. An error
    raised by ``plan`` (nothing to share) rolls everything back.
    """
    with transaction(conn):
        if not study.raters_per_item:
            raise Conflict(f"study {study.name!r} does not assign items", fix="add raters with `human add-raters`")
        taken = sorted(set(token_hashes) & set(list_raters(conn, study)))
        if taken:
            raise Conflict(f"study {study.name!r} already has rater(s) {', '.join(taken)}",
                           fix="choose new names, or use `rotate-token` to issue a new token")
        moves = plan(assignment(conn, study), list_answers(conn, study))
        now = _now()
        conn.executemany("INSERT INTO study_raters(study_id, rater, token_hash, created_at) VALUES (?, ?, ?, ?)",
                         [(study.id, rater, token_hash, now) for rater, token_hash in token_hashes.items()])
        for giver, receiver, key in moves:
            on_it = conn.execute("SELECT 1 FROM study_assignments WHERE study_id = ? AND rater = ? AND item_key = ?",
                                 (study.id, receiver, key)).fetchone()
            moved = 0 if on_it or receiver not in token_hashes else conn.execute(
                "UPDATE study_assignments SET rater = ? WHERE study_id = ? AND rater = ? AND item_key = ? AND NOT "
                "EXISTS (SELECT 1 FROM study_answers x WHERE x.study_id = ? AND x.rater = ? AND x.item_key = ?)",
                (receiver, study.id, giver, key, study.id, giver, key)).rowcount
            if moved != 1:
                raise Conflict(f"cannot move item {key!r} from {giver!r} to {receiver!r}: only an unstarted item "
                               "moves, and only to a newcomer not already rating it")
    return moves


def assigned_items(conn: sqlite3.Connection, study: Study, rater: str) -> set[str] | None:
    """The item keys assigned to ``rater``; None where the study assigns nothing (every item)."""
    if not study.raters_per_item:
        return None
    return {r[0] for r in conn.execute("SELECT item_key FROM study_assignments WHERE study_id = ? AND rater = ?",
                                       (study.id, rater))}


def assignment(conn: sqlite3.Connection, study: Study) -> dict[str, list[str]]:
    """Rater -> assigned item keys (in item order); empty where the study assigns nothing."""
    found: dict[str, list[str]] = {}
    for rater, key in conn.execute(
            "SELECT a.rater, a.item_key FROM study_assignments a JOIN study_items i "
            "ON i.study_id = a.study_id AND i.item_key = a.item_key WHERE a.study_id = ? ORDER BY a.rater, i.ordinal",
            (study.id,)):
        found.setdefault(rater, []).append(key)
    return found


def replace_token(conn: sqlite3.Connection, study: Study, rater: str, token_hash: str) -> None:
    with transaction(conn):
        cur = conn.execute("UPDATE study_raters SET token_hash = ? WHERE study_id = ? AND rater = ?",
                           (token_hash, study.id, rater))
        if cur.rowcount == 0:
            raise NotFound(f"study {study.name!r} has no rater {rater!r}")


def list_raters(conn: sqlite3.Connection, study: Study) -> list[str]:
    return [r[0] for r in conn.execute("SELECT rater FROM study_raters WHERE study_id = ? ORDER BY rater",
                                       (study.id,))]


def rater_for_token_hash(conn: sqlite3.Connection, token_hash: str) -> tuple[Study, str] | None:
    row = conn.execute("SELECT s.*, r.rater FROM study_raters r JOIN studies s ON s.id = r.study_id "
                       "WHERE r.token_hash = ?", (token_hash,)).fetchone()
    return (_study(row), row["rater"]) if row else None


def _answer(row: sqlite3.Row) -> Answer:
    detail = json.loads(row["detail"]) if row["detail"] else None
    return Answer(row["rater"], row["item_key"], row["question"], row["answer"], detail, row["revision"],
                  row["answered_at"])


def list_answers(conn: sqlite3.Connection, study: Study, rater: str | None = None) -> list[Answer]:
    sql = "SELECT * FROM study_answers WHERE study_id = ?"
    args: list[Any] = [study.id]
    if rater is not None:
        sql += " AND rater = ?"
        args.append(rater)
    return [_answer(r) for r in conn.execute(sql + " ORDER BY rater, item_key, question", args)]


def save_answer(conn: sqlite3.Connection, study: Study, rater: str, item_key: str, question: str, answer: str,
                detail: dict[str, Any] | None, seen_revision: int | None) -> Answer:
    """Write one answer. ``seen_revision`` is None for a first answer, else the revision the rater changes.

    Anything else (an answer already there for a first answer, or a newer revision than the
    one seen) is a :class:`Conflict` and writes nothing.
    """
    with transaction(conn):
        if study.raters_per_item and not conn.execute(
                "SELECT 1 FROM study_assignments WHERE study_id = ? AND rater = ? AND item_key = ?",
                (study.id, rater, item_key)).fetchone():
            raise Forbidden(f"item {item_key!r} is not assigned to {rater!r}",
                            fix="answer the items of your own list (the study overview)")
        row = conn.execute("SELECT revision FROM study_answers WHERE study_id = ? AND rater = ? AND item_key = ? "
                           "AND question = ?", (study.id, rater, item_key, question)).fetchone()
        current = row[0] if row else None
        if current != seen_revision:
            if seen_revision is None:
                raise Conflict(f"{rater!r} already answered {question!r} for item {item_key!r}",
                               fix="reload the page and change the answer there")
            raise Conflict(f"the answer to {question!r} for item {item_key!r} changed since it was shown",
                           fix="reload the page and answer again")
        revision = 1 if current is None else current + 1
        now = _now()
        detail_json = json.dumps(detail) if detail is not None else None
        conn.execute("INSERT INTO study_answers(study_id, rater, item_key, question, answer, detail, revision, "
                     "answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(study_id, rater, item_key, question) "
                     "DO UPDATE SET answer = excluded.answer, detail = excluded.detail, revision = excluded.revision, "
                     "answered_at = excluded.answered_at",
                     (study.id, rater, item_key, question, answer, detail_json, revision, now))
        conn.execute("INSERT INTO study_answer_log(study_id, rater, item_key, question, answer, detail, revision, "
                     "answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (study.id, rater, item_key, question, answer, detail_json, revision, now))
    return Answer(rater, item_key, question, answer, detail, revision, now)


def answer_log(conn: sqlite3.Connection, study: Study) -> list[Answer]:
    return [_answer(r) for r in conn.execute(
        "SELECT * FROM study_answer_log WHERE study_id = ? ORDER BY id", (study.id,))]
