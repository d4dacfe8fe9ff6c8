"""Screening and rubric revision as web studies: experts click, the build gets votes and actions.

A build's database can also hold studies (same file, separate tables), so an expert panel
uses the same login, per-click saving and answer revisions as raters do:

- a ``screening`` study has one item per candidate task and one question, ``approve``
  (1 or 0, with an optional rationale); ``build screen --from-study`` turns the answers
  into votes;
- a ``revision`` study has one item per drafted task and one question per drafted
  criterion (``c3``): the answer is ``keep``, ``delete``, ``reweight`` or ``edit`` with its
  values and a rationale, checked exactly like a line of an actions file; the optional
  ``supplements`` question holds the expert's added criteria (``add`` appends one, ``remove``
  drops one by position, both checked against the revision seen). ``build revise --from-study``
  turns the answers into actions.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from microverse.build.revision import RevisionAction, action_from_json
from microverse.errors import MicroverseError
from microverse.human import study as hs
from microverse.store import builds as builds
from microverse.store import studies as store
from microverse.store.studies import Answer, Study

SCREENING = "screening"
REVISION = "revision"
APPROVE = "approve"
SUPPLEMENTS = "supplements"
REVIEW_OPS = ("keep", "delete", "reweight", "edit")
OP_FIELDS = {"keep": ("rationale",), "delete": ("rationale",), "reweight": ("weight", "rationale"),
             "edit": ("description", "polarity", "dimension", "rationale")}


def create_screening_study(conn: sqlite3.Connection, name: str, *, seed: int = 0) -> Study:
    rows = builds.tasks(conn)
    if not rows:
        raise MicroverseError("the build has no tasks to screen", fix="run `microverse build tasks` first")
    source = {sid: meta for sid, _, meta in builds.sources(conn)}
    items = [(str(r["task"]), r["task"], {"prompt": r["prompt"], "requirement": r["requirement"], "level": r["level"],
                                         "source": source.get(r["source_id"], {}), "questions": [APPROVE]})
             for r in rows]
    return store.create_study(conn, name, SCREENING, {"seed": seed}, items)


def create_revision_study(conn: sqlite3.Connection, name: str, *, seed: int = 0) -> Study:
    drafts = builds.drafts(conn)
    chosen = builds.selection(conn)
    rows = {r["task"]: r for r in builds.tasks(conn)}
    tasks = [t for t in sorted(drafts) if chosen is None or t in set(chosen)]
    if not tasks:
        raise MicroverseError("the build has no rubric drafts to revise", fix="run `microverse build rubrics` first")
    items = [(str(t), t, {"prompt": rows[t]["prompt"], "requirement": rows[t]["requirement"], "level": rows[t]["level"],
                          "criteria": drafts[t], "questions": [f"c{c['number']}" for c in drafts[t]],
                          "optional_questions": [SUPPLEMENTS]}) for t in tasks]
    return store.create_study(conn, name, REVISION, {"seed": seed}, items)


def record_screening(conn: sqlite3.Connection, study: Study, rater: str, item_key: str, choice: str,
                     rationale: str, seen_revision: int | None) -> Answer:
    hs.answerable_item(conn, study, SCREENING, item_key)
    if choice not in ("1", "0"):
        raise MicroverseError(f"invalid choice {choice!r}", fix="approve (1) or reject (0)")
    return store.save_answer(conn, study, rater, item_key, APPROVE, choice,
                             {"rationale": rationale.strip()} if rationale.strip() else None, seen_revision)


def record_revision(conn: sqlite3.Connection, study: Study, rater: str, item_key: str, question: str,
                    fields: dict[str, Any], seen_revision: int | None) -> Answer:
    """One criterion decision (or the supplements list), checked like an actions-file line."""
    item = hs.answerable_item(conn, study, REVISION, item_key, question)
    task = item.task_index
    if question == SUPPLEMENTS:
        previous = hs.rater_answers(conn, study, rater).get((item_key, SUPPLEMENTS))
        listed = list((previous.detail or {}).get("supplements", [])) if previous else []
        if str(fields.get("op", "")).strip() == "remove":
            try:
                position = int(str(fields.get("index", "")).strip())
                if position < 0:
                    raise IndexError
                listed.pop(position)
            except (ValueError, IndexError):
                raise MicroverseError(f"no supplement {fields.get('index')!r} to remove",
                                      fix="reload the page and remove one of the listed supplements") from None
            return store.save_answer(conn, study, rater, item_key, SUPPLEMENTS, str(len(listed)),
                                     {"supplements": listed}, seen_revision)
        values = _clean({k: v for k, v in fields.items() if k not in ("op", "index")})
        record = {"expert": rater, "task": task, "op": "supplement", **values}
        action_from_json(record, f"task {task} supplement")
        listed.append({k: v for k, v in record.items() if k not in ("expert", "task", "op")})
        return store.save_answer(conn, study, rater, item_key, SUPPLEMENTS, str(len(listed)),
                                 {"supplements": listed}, seen_revision)
    op = str(fields.get("op", "")).strip()
    if op not in REVIEW_OPS:
        raise MicroverseError(f"invalid decision {op!r}", fix=f"choose one of {', '.join(REVIEW_OPS)}")
    # Each button takes the fields it is about: the form shows the last decision's values, so a
    # switch from re-weight to delete must not carry the old weight along.
    detail = _clean({k: v for k, v in fields.items() if k in OP_FIELDS[op]})
    if op != "keep":
        action_from_json({"expert": rater, "task": task, "op": op, "criterion": int(question[1:]), **detail},
                         f"task {task} criterion {question[1:]}")
    return store.save_answer(conn, study, rater, item_key, question, op, detail or None, seen_revision)


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields without the empty ones (a blank weight box means 'no weight')."""
    return {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()
            if v is not None and not (isinstance(v, str) and not v.strip())}


def votes_from_study(conn: sqlite3.Connection, study: Study) -> list[tuple[str, int, bool, str | None]]:
    if study.kind != SCREENING:
        raise MicroverseError(f"study {study.name!r} is a {study.kind} study, not screening")
    items = {i.key: i.task_index for i in store.list_items(conn, study)}
    return [(a.rater, items[a.item_key], a.answer == "1", (a.detail or {}).get("rationale"))
            for a in store.list_answers(conn, study) if a.question == APPROVE]


def reviewers_from_study(conn: sqlite3.Connection, study: Study) -> dict[int, list[str]]:
    """Task -> the experts who answered it (a "keep" counts: they saw the task and left it as drafted)."""
    if study.kind != REVISION:
        raise MicroverseError(f"study {study.name!r} is a {study.kind} study, not revision")
    items = {i.key: i.task_index for i in store.list_items(conn, study)}
    found: dict[int, set[str]] = {}
    for a in store.list_answers(conn, study):
        found.setdefault(items[a.item_key], set()).add(a.rater)
    return {task: sorted(experts) for task, experts in found.items()}


def actions_from_study(conn: sqlite3.Connection, study: Study) -> list[RevisionAction]:
    if study.kind != REVISION:
        raise MicroverseError(f"study {study.name!r} is a {study.kind} study, not revision")
    items = {i.key: i.task_index for i in store.list_items(conn, study)}
    actions = []
    for a in store.list_answers(conn, study):
        task = items[a.item_key]
        if a.question == SUPPLEMENTS:
            for k, s in enumerate((a.detail or {}).get("supplements", []), start=1):
                actions.append(action_from_json({"expert": a.rater, "task": task, "op": "supplement", **s},
                                                f"{study.name}: {a.rater}, task {task}, supplement {k}"))
        elif a.answer != "keep":
            actions.append(action_from_json({"expert": a.rater, "task": task, "op": a.answer,
                                             "criterion": int(a.question[1:]), **(a.detail or {})},
                                            f"{study.name}: {a.rater}, task {task}, {a.question}"))
    return actions
