"""Judge answers and judgments in SQLite: what ``eval`` writes, resumes from, and ``score`` reads.

Two tables (component ``judgments``):

* ``judge_answers`` — one row per *answer*: (model, task, dimension, judge, prompt
  version, frame/temperature settings, repeat). Written the moment the answer arrives, in
  its own transaction, so ``kill -9`` loses only calls in flight. Resume re-asks exactly
  the answers that are missing, failed, or were given for a different prompt text.
* ``judgments`` — one row per (model, task, dimension, judge, prompt version, settings)
  where settings include ``repeats``: the per-criterion majority of the K answers, or
  ``failed`` with the reason. This is what scoring reads.

Answers do not depend on K, so ``--repeats 3`` after a ``--repeats 1`` run asks only for
repeats 1 and 2; judgments do, so K=1 and K=3 results are never mixed in one score.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from microverse.bench.judgments import DimensionJudgment, ModelJudgments, TaskJudgments
from microverse.bench.models import Dimension
from microverse.errors import MicroverseError
from microverse.judge.answers import majority
from microverse.judge.engine import Answer, RunIdentity
from microverse.store.db import connect, migrate, transaction

COMPONENT = "judgments"

MIGRATIONS = [
    """
    CREATE TABLE judge_settings (
        settings_hash TEXT PRIMARY KEY,
        settings TEXT NOT NULL
    );
    CREATE TABLE judge_answers (
        model TEXT NOT NULL, task INTEGER NOT NULL, dimension TEXT NOT NULL, judge TEXT NOT NULL,
        prompt_version TEXT NOT NULL, settings_hash TEXT NOT NULL, repeat INTEGER NOT NULL,
        prompt_sha TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        scores TEXT, reasoning TEXT, raw_response TEXT, failure TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
        latency_s REAL, attempts INTEGER NOT NULL DEFAULT 0, asks INTEGER NOT NULL DEFAULT 0,
        response_format TEXT, image_width INTEGER, image_height INTEGER, payload_bytes INTEGER,
        video TEXT, created_at TEXT NOT NULL,
        PRIMARY KEY (model, task, dimension, judge, prompt_version, settings_hash, repeat)
    );
    CREATE TABLE judgments (
        model TEXT NOT NULL, task INTEGER NOT NULL, dimension TEXT NOT NULL, judge TEXT NOT NULL,
        prompt_version TEXT NOT NULL, settings_hash TEXT NOT NULL,
        answer_settings_hash TEXT NOT NULL, repeats INTEGER NOT NULL, prompt_sha TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        scores TEXT, reasoning TEXT, raw_response TEXT, failure TEXT, n_criteria INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
        latency_s REAL, attempts INTEGER NOT NULL DEFAULT 0,
        video TEXT, updated_at TEXT NOT NULL,
        PRIMARY KEY (model, task, dimension, judge, prompt_version, settings_hash)
    );
    CREATE INDEX judgments_by_model ON judgments (model, judge, prompt_version, settings_hash);
    """,
]


def _answer_key(identity: RunIdentity) -> tuple:
    return (identity.model, identity.judge, identity.prompt_version, identity.answer_settings_hash)


def finished_answers(conn: sqlite3.Connection, identity: RunIdentity) -> dict[tuple[int, str, int], str]:
    """(task, dimension, repeat) -> prompt hash of every usable answer stored for this run identity."""
    rows = conn.execute(
        "SELECT task, dimension, repeat, prompt_sha FROM judge_answers WHERE model = ? AND judge = ? "
        "AND prompt_version = ? AND settings_hash = ? AND status = 'ok'", _answer_key(identity))
    return {(r["task"], r["dimension"], r["repeat"]): r["prompt_sha"] for r in rows}


def peek_finished(db_path: str | Path, identity: RunIdentity) -> dict[tuple[int, str, int], str]:
    """Like :func:`finished_answers` without creating or changing anything (for ``--dry-run``)."""
    if not Path(db_path).is_file():
        return {}
    conn = connect(db_path, readonly=True)
    if not _has_table(conn):
        return {}
    return finished_answers(conn, identity)


def open_store(path: str | Path) -> sqlite3.Connection:
    conn = connect(path)
    migrate(conn, COMPONENT, MIGRATIONS)
    return conn


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class JudgmentStore:
    """The engine's sink for one run identity (model, judge, prompt version, settings)."""

    def __init__(self, conn: sqlite3.Connection, identity: RunIdentity) -> None:
        self.conn = conn
        self.id = identity
        self._usable: set[tuple[int, str, str]] | None = None
        with transaction(conn):
            for digest, settings in ((identity.answer_settings_hash, identity.answer_settings),
                                     (identity.settings_hash, identity.settings)):
                conn.execute("INSERT OR IGNORE INTO judge_settings(settings_hash, settings) VALUES (?, ?)",
                             (digest, json.dumps(settings, sort_keys=True)))

    def _key(self) -> tuple:
        return _answer_key(self.id)

    def finished(self) -> dict[tuple[int, str, int], str]:
        return finished_answers(self.conn, self.id)

    def record(self, answer: Answer) -> bool:
        """Store one answer (replacing an older one for the same repeat) and, once all K answers of its
        (task, dimension) are in, its judgment — in one transaction. True if the judgment was written."""
        i = self.id
        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO judge_answers(model, task, dimension, judge, prompt_version, settings_hash, "
                "repeat, prompt_sha, status, scores, reasoning, raw_response, failure, prompt_tokens, "
                "completion_tokens, latency_s, attempts, asks, response_format, image_width, image_height, "
                "payload_bytes, video, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (i.model, answer.task, answer.dimension.value, i.judge, i.prompt_version, i.answer_settings_hash,
                 answer.repeat, answer.prompt_sha, "ok" if answer.scores is not None else "failed",
                 json.dumps(answer.scores) if answer.scores is not None else None, answer.reasoning,
                 answer.raw_response, answer.failure, answer.prompt_tokens, answer.completion_tokens,
                 answer.latency_s, answer.attempts, answer.asks, answer.response_format, answer.image_width,
                 answer.image_height, answer.payload_bytes, answer.video, _now()))
            return self._settle(answer.task, answer.dimension, answer.prompt_sha, answer.n_criteria, answer.video)

    def settle(self, task: int, dimension: Dimension, prompt_sha: str, n_criteria: int, video: str | None) -> bool:
        """(Re)write the judgment of (task, dimension) from stored answers; False while some are missing.

        A usable judgment already written for the same prompt is kept as it is: usable answers are
        never asked again, so it cannot be stale (this keeps a resumed full run from rewriting 1377 rows).
        """
        if self._usable is None:
            self._usable = {(r["task"], r["dimension"], r["prompt_sha"]) for r in self.conn.execute(
                "SELECT task, dimension, prompt_sha FROM judgments WHERE model = ? AND judge = ? AND "
                "prompt_version = ? AND settings_hash = ? AND status = 'ok'",
                (self.id.model, self.id.judge, self.id.prompt_version, self.id.settings_hash))}
        if (task, dimension.value, prompt_sha) in self._usable:
            return True
        with transaction(self.conn):
            return self._settle(task, dimension, prompt_sha, n_criteria, video)

    def _settle(self, task: int, dimension: Dimension, prompt_sha: str, n_criteria: int, video: str | None) -> bool:
        i = self.id
        rows = self.conn.execute(
            "SELECT * FROM judge_answers WHERE model = ? AND judge = ? AND prompt_version = ? AND settings_hash = ? "
            "AND task = ? AND dimension = ? AND repeat < ? AND prompt_sha = ? ORDER BY repeat",
            self._key() + (task, dimension.value, i.repeats, prompt_sha)).fetchall()
        if len(rows) < i.repeats:
            return False
        failed = [r for r in rows if r["status"] != "ok"]
        if failed:
            scores = None
            failure = "; ".join((f"repeat {r['repeat'] + 1}: " if i.repeats > 1 else "") + (r["failure"] or "failed")
                                for r in failed)
        else:
            scores = json.dumps(majority([json.loads(r["scores"]) for r in rows]))
            failure = None
        first = rows[0]
        self.conn.execute(
            "INSERT OR REPLACE INTO judgments(model, task, dimension, judge, prompt_version, settings_hash, "
            "answer_settings_hash, repeats, prompt_sha, status, scores, reasoning, raw_response, failure, "
            "n_criteria, prompt_tokens, completion_tokens, latency_s, attempts, video, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (i.model, task, dimension.value, i.judge, i.prompt_version, i.settings_hash, i.answer_settings_hash,
             i.repeats, prompt_sha, "failed" if failed else "ok", scores, first["reasoning"],
             first["raw_response"], failure, n_criteria, sum(r["prompt_tokens"] for r in rows),
             sum(r["completion_tokens"] for r in rows), sum(r["latency_s"] or 0.0 for r in rows),
             sum(r["attempts"] for r in rows), video, _now()))
        return True


_OPTIONS = {"judge": "--judge", "prompt_version": "--prompt-version", "settings_hash": "--settings"}


def judgment_groups(db_path: str | Path) -> list[sqlite3.Row]:
    """Every (model, judge, prompt version, settings) in the store with counts, for listings."""
    conn = _reader(db_path)
    return conn.execute(
        "SELECT j.model, j.judge, j.prompt_version, j.settings_hash, s.settings, count(*) AS judgments, "
        "sum(j.status = 'failed') AS failed FROM judgments j LEFT JOIN judge_settings s USING (settings_hash) "
        "GROUP BY j.model, j.judge, j.prompt_version, j.settings_hash ORDER BY j.model, j.judge").fetchall()


def _reader(db_path: str | Path) -> sqlite3.Connection:
    conn = connect(db_path, readonly=True)
    if not _has_table(conn):
        raise MicroverseError("the database holds no judgments", file=str(db_path),
                              fix="run `microverse eval` with this --db first")
    return conn


def _has_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'judgments'").fetchone() is not None


def load_model_judgments(db_path: str | Path, *, model: str | None = None, judge: str | None = None,
                         prompt_version: str | None = None, settings_hash: str | None = None) -> list[ModelJudgments]:
    """One ModelJudgments per model, each from exactly one (judge, prompt version, settings).

    Failed judgments come back with ``failure`` set (never as zeros). A model judged under
    several judges / prompt versions / settings is refused with the option that picks one.
    """
    conn = _reader(db_path)
    filters = {"model": model, "judge": judge, "prompt_version": prompt_version, "settings_hash": settings_hash}
    where = " AND ".join(f"j.{k} = ?" for k, v in filters.items() if v is not None) or "1"
    params = tuple(v for v in filters.values() if v is not None)
    groups = conn.execute(
        f"SELECT j.model, j.judge, j.prompt_version, j.settings_hash, s.settings FROM judgments j "
        f"LEFT JOIN judge_settings s USING (settings_hash) WHERE {where} "
        f"GROUP BY j.model, j.judge, j.prompt_version, j.settings_hash ORDER BY j.model", params).fetchall()
    if not groups:
        chosen = ", ".join(f"{k}={v!r}" for k, v in filters.items() if v is not None)
        raise MicroverseError("no judgments" + (f" match {chosen}" if chosen else " in the database"),
                              file=str(db_path), fix="check the options against `microverse judgments list --db`")
    by_model: dict[str, list[sqlite3.Row]] = {}
    for row in groups:
        by_model.setdefault(row["model"], []).append(row)
    result = []
    for name, rows in by_model.items():
        if len(rows) > 1:
            raise MicroverseError(_mixing_message(name, rows), file=str(db_path))
        result.append(_model_judgments(conn, rows[0], str(db_path)))
    return result


def _mixing_message(model: str, rows: list[sqlite3.Row]) -> str:
    parts, fixes = [], []
    for column, option in _OPTIONS.items():
        values = sorted({r[column] for r in rows})
        if len(values) > 1:
            parts.append(f"{len(values)} {column.replace('_', ' ')}s ({', '.join(values)})")
            fixes.append(f"{option} {values[0]}")
    return (f"model {model!r} was judged under {' and '.join(parts)}; scores from different runs are never mixed. "
            f"Pick one, e.g. {' '.join(fixes)}")


def _model_judgments(conn: sqlite3.Connection, group: sqlite3.Row, source: str) -> ModelJudgments:
    rows = conn.execute(
        "SELECT * FROM judgments WHERE model = ? AND judge = ? AND prompt_version = ? AND settings_hash = ? "
        "ORDER BY task, dimension", (group["model"], group["judge"], group["prompt_version"], group["settings_hash"]))
    records: dict[int, TaskJudgments] = {}
    for r in rows:
        record = records.setdefault(r["task"], TaskJudgments(index=r["task"], video=r["video"]))
        if r["status"] == "ok":
            scores = json.loads(r["scores"])
            judgment = DimensionJudgment(scores=scores, reasoning=r["reasoning"],
                                         parsed={"scores": scores, "reasoning": r["reasoning"]})
        else:
            judgment = DimensionJudgment(scores=None, reasoning=r["reasoning"], failure=r["failure"] or "failed")
        record.dimensions[Dimension(r["dimension"])] = judgment
    settings = group["settings"] or "{}"
    return ModelJudgments(model=group["model"], source=source, records=list(records.values()),
                          judge=f"{group['judge']} (prompt {group['prompt_version']}, settings "
                                f"{group['settings_hash']} {settings})")


def judge_ratings(db_path: str | Path, model: str) -> dict[Dimension, list[tuple[str, tuple[int, int], int]]]:
    """Every usable per-criterion score of ``model`` by every judge run, as (rater, (task, criterion), 0/1).

    The long format :func:`microverse.bench.agreement.agreement_summary` takes, per dimension.
    A rater is the judge model; where one judge ran under several prompt versions or
    settings, each run is its own rater, labelled with them.
    """
    conn = _reader(db_path)
    rows = conn.execute("SELECT judge, prompt_version, settings_hash, task, dimension, scores FROM judgments "
                        "WHERE model = ? AND status = 'ok' ORDER BY judge, task, dimension", (model,)).fetchall()
    if not rows:
        raise MicroverseError(f"no usable judgments of model {model!r}", file=str(db_path),
                              fix="check --model against `microverse judgments list`")
    runs: dict[str, set[tuple[str, str]]] = {}
    for r in rows:
        runs.setdefault(r["judge"], set()).add((r["prompt_version"], r["settings_hash"]))
    ratings: dict[Dimension, list[tuple[str, tuple[int, int], int]]] = {}
    for r in rows:
        rater = r["judge"] if len(runs[r["judge"]]) == 1 else f"{r['judge']} [{r['prompt_version']} {r['settings_hash']}]"
        for k, score in enumerate(json.loads(r["scores"])):
            ratings.setdefault(Dimension(r["dimension"]), []).append((rater, (r["task"], k), score))
    return ratings
