"""SQL for building a benchmark: video sources, LLM answers per stage, tasks, levels, screening
votes, the selection, rubric drafts and expert revision actions.

One build per database file. Every LLM answer is kept with its raw text, the template
(name and SHA-256) and model it was asked with, and a status (``ok``, ``failed``,
``parse_error``); the derived row (a task, a level, a draft) is written in the same
transaction as an ``ok`` answer, so a killed run never leaves one without the other, and a
rerun asks only what has no ``ok`` answer yet.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from microverse.errors import MicroverseError
from microverse.store.db import open_component, transaction

COMPONENT = "builds"

MIGRATIONS = [
    """
    CREATE TABLE build_sources (
        source_id TEXT PRIMARY KEY,
        ordinal INTEGER NOT NULL UNIQUE,
        metadata TEXT NOT NULL
    );
    CREATE TABLE build_answers (
        stage TEXT NOT NULL,
        item TEXT NOT NULL,
        template TEXT NOT NULL,
        template_sha256 TEXT NOT NULL,
        model TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'parse_error')),
        raw TEXT,
        parsed TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 1,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        answered_at TEXT NOT NULL,
        PRIMARY KEY (stage, item)
    );
    CREATE TABLE build_tasks (
        task INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL UNIQUE REFERENCES build_sources(source_id),
        prompt TEXT NOT NULL,
        requirement TEXT NOT NULL
    );
    CREATE TABLE build_levels (
        task INTEGER PRIMARY KEY REFERENCES build_tasks(task),
        level TEXT NOT NULL,
        origin TEXT NOT NULL
    );
    CREATE TABLE build_votes (
        expert TEXT NOT NULL,
        task INTEGER NOT NULL REFERENCES build_tasks(task),
        approve INTEGER NOT NULL,
        rationale TEXT,
        PRIMARY KEY (expert, task)
    );
    CREATE TABLE build_selection (
        task INTEGER PRIMARY KEY REFERENCES build_tasks(task)
    );
    CREATE TABLE build_drafts (
        task INTEGER PRIMARY KEY REFERENCES build_tasks(task),
        criteria TEXT NOT NULL
    );
    CREATE TABLE build_actions (
        id INTEGER PRIMARY KEY,
        expert TEXT NOT NULL,
        task INTEGER NOT NULL REFERENCES build_tasks(task),
        record TEXT NOT NULL,
        recorded_at TEXT NOT NULL
    );
    """,
    # 2: who reviewed which task in a web revision study (answered it, "keep" included), so a
    # split panel (k of n experts per task) is merged per task; a task without rows here was
    # reviewed by the whole panel.
    """
    CREATE TABLE build_reviewers (
        task INTEGER NOT NULL REFERENCES build_tasks(task),
        expert TEXT NOT NULL,
        origin TEXT NOT NULL,
        PRIMARY KEY (task, expert, origin)
    );
    """,
]


@dataclass(frozen=True)
class StoredAnswer:
    stage: str
    item: str
    template: str
    template_sha256: str
    model: str
    status: str
    raw: str | None
    parsed: Any
    error: str | None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def open_build(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (and migrate unless read-only) a build's database; read-only needs an existing build."""
    return open_component(path, COMPONENT, MIGRATIONS, readonly=readonly, marker_table="build_tasks", what="build",
                          missing_fix="pass --db with the file `microverse build tasks` wrote",
                          empty_fix="start one with `microverse build tasks VIDEOS.jsonl --db ...`")


# ---------------------------------------------------------------- sources and tasks

def add_sources(conn: sqlite3.Connection, sources: list[tuple[str, dict[str, Any]]]) -> int:
    """Append new sources (id, metadata); a known id with the same metadata is skipped, with other
    metadata it is an error (two videos under one id). Returns how many were new."""
    with transaction(conn):
        known = {r[0]: json.loads(r[1]) for r in conn.execute("SELECT source_id, metadata FROM build_sources")}
        ordinal = conn.execute("SELECT coalesce(max(ordinal), 0) FROM build_sources").fetchone()[0]
        added = 0
        for source_id, metadata in sources:
            if source_id in known:
                if known[source_id] != metadata:
                    raise MicroverseError(f"source {source_id!r} is already in the build with other metadata",
                                          fix="give each video a unique 'id' (or 'url')")
                continue
            ordinal += 1
            added += 1
            known[source_id] = metadata
            conn.execute("INSERT INTO build_sources(source_id, ordinal, metadata) VALUES (?, ?, ?)",
                         (source_id, ordinal, json.dumps(metadata, ensure_ascii=False)))
    return added


def sources(conn: sqlite3.Connection) -> list[tuple[str, int, dict[str, Any]]]:
    return [(r[0], r[1], json.loads(r[2])) for r in
            conn.execute("SELECT source_id, ordinal, metadata FROM build_sources ORDER BY ordinal")]


def tasks(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT t.task, t.source_id, t.prompt, t.requirement, l.level, l.origin AS level_origin "
                        "FROM build_tasks t LEFT JOIN build_levels l USING (task) ORDER BY t.task").fetchall()


def set_level(conn: sqlite3.Connection, task: int, level: str, origin: str) -> None:
    with transaction(conn):
        _require_task(conn, task)
        conn.execute("INSERT INTO build_levels(task, level, origin) VALUES (?, ?, ?) ON CONFLICT(task) "
                     "DO UPDATE SET level = excluded.level, origin = excluded.origin", (task, level, origin))


def _require_task(conn: sqlite3.Connection, task: int) -> None:
    if conn.execute("SELECT 1 FROM build_tasks WHERE task = ?", (task,)).fetchone() is None:
        raise MicroverseError(f"unknown task {task}", fix="list the build's tasks with `microverse build status`")


# ---------------------------------------------------------------- LLM answers

def answers(conn: sqlite3.Connection, stage: str) -> dict[str, StoredAnswer]:
    rows = conn.execute("SELECT * FROM build_answers WHERE stage = ?", (stage,)).fetchall()
    return {r["item"]: StoredAnswer(r["stage"], r["item"], r["template"], r["template_sha256"], r["model"],
                                    r["status"], r["raw"], json.loads(r["parsed"]) if r["parsed"] else None,
                                    r["error"]) for r in rows}


def save_answer(conn: sqlite3.Connection, answer: StoredAnswer, *, attempts: int = 1, prompt_tokens: int = 0,
                completion_tokens: int = 0) -> None:
    """Store one answer and, if it is ``ok``, what it yields (task, level or draft), atomically."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO build_answers(stage, item, template, template_sha256, model, status, raw, parsed, error, "
            "attempts, prompt_tokens, completion_tokens, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(stage, item) DO UPDATE SET template = excluded.template, "
            "template_sha256 = excluded.template_sha256, model = excluded.model, status = excluded.status, "
            "raw = excluded.raw, parsed = excluded.parsed, error = excluded.error, attempts = excluded.attempts, "
            "prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, "
            "answered_at = excluded.answered_at",
            (answer.stage, answer.item, answer.template, answer.template_sha256, answer.model, answer.status,
             answer.raw, json.dumps(answer.parsed, ensure_ascii=False) if answer.parsed is not None else None,
             answer.error, attempts, prompt_tokens, completion_tokens, _now()))
        if answer.status != "ok":
            return
        if answer.stage == "tasks":
            ordinal = conn.execute("SELECT ordinal FROM build_sources WHERE source_id = ?",
                                   (answer.item,)).fetchone()[0]
            conn.execute("INSERT INTO build_tasks(task, source_id, prompt, requirement) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(task) DO UPDATE SET prompt = excluded.prompt, requirement = excluded.requirement",
                         (ordinal, answer.item, answer.parsed["prompt"], answer.parsed["requirement"]))
        elif answer.stage == "classify":
            # a level an expert set by hand is never overwritten by the classifier
            conn.execute("INSERT INTO build_levels(task, level, origin) VALUES (?, ?, 'llm') ON CONFLICT(task) "
                         "DO UPDATE SET level = excluded.level WHERE build_levels.origin = 'llm'",
                         (int(answer.item), answer.parsed["level"]))
        elif answer.stage == "rubrics":
            conn.execute("INSERT INTO build_drafts(task, criteria) VALUES (?, ?) ON CONFLICT(task) "
                         "DO UPDATE SET criteria = excluded.criteria",
                         (int(answer.item), json.dumps(answer.parsed, ensure_ascii=False)))


# ---------------------------------------------------------------- screening

def add_votes(conn: sqlite3.Connection, votes: list[tuple[str, int, bool, str | None]], *, replace: bool) -> int:
    """Record (expert, task, approve, rationale); a different existing vote is an error unless ``replace``."""
    with transaction(conn):
        added = 0
        for expert, task, approve, rationale in votes:
            _require_task(conn, task)
            row = conn.execute("SELECT approve FROM build_votes WHERE expert = ? AND task = ?",
                               (expert, task)).fetchone()
            if row is not None and bool(row[0]) != approve and not replace:
                raise MicroverseError(f"{expert} already voted {'approve' if row[0] else 'reject'} on task {task}",
                                      fix="pass --replace to change recorded votes")
            conn.execute("INSERT INTO build_votes(expert, task, approve, rationale) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT(expert, task) DO UPDATE SET approve = excluded.approve, "
                         "rationale = excluded.rationale", (expert, task, int(approve), rationale))
            added += row is None
    return added


def votes(conn: sqlite3.Connection) -> list[tuple[str, int, bool]]:
    return [(r[0], r[1], bool(r[2])) for r in conn.execute("SELECT expert, task, approve FROM build_votes")]


def set_selection(conn: sqlite3.Connection, selected: list[int]) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM build_selection")
        conn.executemany("INSERT INTO build_selection(task) VALUES (?)", [(t,) for t in selected])


def selection(conn: sqlite3.Connection) -> list[int] | None:
    """The screened selection, or None if screening has not been run."""
    if conn.execute("SELECT count(*) FROM build_votes").fetchone()[0] == 0:
        return None
    return [r[0] for r in conn.execute("SELECT task FROM build_selection ORDER BY task")]


# ---------------------------------------------------------------- drafts and revisions

def drafts(conn: sqlite3.Connection) -> dict[int, list[dict[str, Any]]]:
    return {r[0]: json.loads(r[1]) for r in conn.execute("SELECT task, criteria FROM build_drafts ORDER BY task")}


def add_actions(conn: sqlite3.Connection, records: list[dict[str, Any]], *, replace_origin: str | None = None,
                reviewers: dict[int, list[str]] | None = None) -> None:
    """Append checked revision actions (all or none); ``replace_origin`` first drops the actions
    previously imported from the same origin (a web study imported again after more clicks).

    ``reviewers`` (task -> the experts who answered it in a web study) replaces what that
    origin recorded before, in the same transaction: actions never stand without the panels
    they are merged over (a split panel's merge would silently fall back to everyone).
    """
    if reviewers is not None and replace_origin is None:
        raise ValueError("reviewers are recorded per origin")
    with transaction(conn):
        if replace_origin is not None:
            conn.execute("DELETE FROM build_actions WHERE json_extract(record, '$.origin') = ?", (replace_origin,))
        conn.executemany("INSERT INTO build_actions(expert, task, record, recorded_at) VALUES (?, ?, ?, ?)",
                         [(r["expert"], r["task"], json.dumps(r, ensure_ascii=False), _now()) for r in records])
        if reviewers is not None:
            conn.execute("DELETE FROM build_reviewers WHERE origin = ?", (replace_origin,))
            conn.executemany("INSERT INTO build_reviewers(task, expert, origin) VALUES (?, ?, ?)",
                             [(task, expert, replace_origin) for task, experts in reviewers.items()
                              for expert in experts])


def reviewers(conn: sqlite3.Connection) -> dict[int, set[str]]:
    """Task -> the experts who answered it in a web revision study (other tasks: the whole panel)."""
    found: dict[int, set[str]] = {}
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'build_reviewers'").fetchone() is None:
        return found  # a build written before the table existed, opened read-only (not migrated)
    for task, expert in conn.execute("SELECT task, expert FROM build_reviewers ORDER BY task, expert"):
        found.setdefault(task, set()).add(expert)
    return found


def actions(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [json.loads(r[0]) for r in conn.execute("SELECT record FROM build_actions ORDER BY id")]
