"""Commands of the `human` capability: preference and annotation studies, their results, agreement."""

from __future__ import annotations

import json
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from microverse.cli.common import BenchmarkOption, clean_errors, console, err_console, write_output
from microverse.errors import MicroverseError

human_app = typer.Typer(help="Human evaluation: preference studies, criterion annotation, agreement.",
                        no_args_is_help=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


StudyDb = Annotated[Path, typer.Option("--db", help="SQLite file holding the studies (created if new).")]
StudyName = Annotated[str, typer.Option("--study", help="Study name.")]
ModelOption = Annotated[list[str], typer.Option("--model", help="NAME=FOLDER with <task index>.mp4 videos; repeat.")]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json.")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")]
RatersOption = Annotated[str | None, typer.Option(
    "--raters", help="Comma-separated rater names (alice,bob,carol): registers them and prints their tokens.")]
PerItemOption = Annotated[int | None, typer.Option(
    "--raters-per-item", help="Assign each item to this many of --raters (balanced loads, deterministic from "
                              "--seed); each rater then sees only their items. Default: every rater, every item.")]


def parse_pairs(values: list[str], what: str) -> dict[str, Path]:
    """``NAME=PATH`` options into a dict, with a clear error for a malformed or repeated one."""
    pairs: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise MicroverseError(f"{what} {value!r} is not NAME=PATH", fix=f"write {what} NAME=/path/to/folder")
        if name.strip() in pairs:
            raise MicroverseError(f"{what} {name.strip()!r} given twice")
        pairs[name.strip()] = Path(path.strip())
    return pairs


def panel_names(raters: str | None, per_item: int | None) -> list[str] | None:
    """``--raters`` as a checked list, before any study is created (a bad panel leaves nothing behind)."""
    from microverse.human.assignment import check_panel

    if raters is None:
        if per_item is not None:
            raise MicroverseError("--raters-per-item needs --raters", fix="add --raters alice,bob,carol")
        return None
    return check_panel(raters.split(","), per_item)


def register_panel(conn, study, names: list[str] | None, per_item: int | None) -> None:
    """Register ``names`` (assigned when ``per_item``), print one ``name<TAB>token`` line each, and the loads."""
    from microverse.human.study import add_panel
    from microverse.store.studies import assignment

    if names is None:
        return
    tokens = add_panel(conn, study, names, per_item)
    for name, token in tokens.items():
        typer.echo(f"{name}\t{token}")
    plan = assignment(conn, study)
    if plan:
        loads = ", ".join(f"{r} {len(keys)}" for r, keys in plan.items())
        err_console.print(f"each item assigned to {per_item} of {len(names)} raters; items per rater: {loads}")
    err_console.print("give each rater their token; it is not stored and cannot be shown again")


@human_app.command("create-preference")
@clean_errors
def create_preference(
    db: StudyDb, name: Annotated[str, typer.Option("--name", help="Name of the new study.")],
    model: ModelOption, benchmark: BenchmarkOption = None,
    dimension: Annotated[list[str] | None, typer.Option(
        "--dimension", help="Ask per dimension (scientific, visual, instruction); default one 'overall' choice.")] = None,
    per_level: Annotated[int | None, typer.Option("--per-level", help="Sample this many tasks per level "
                                                  "(paper: 20).")] = None,
    task: Annotated[list[int] | None, typer.Option("--task", help="Use exactly these task indices.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling, the blinded layouts and the assignment.")] = 0,
    raters: RatersOption = None, raters_per_item: PerItemOption = None,
) -> None:
    """Create a blinded preference study over 2-3 models' videos."""
    from microverse.bench.loading import load_benchmark
    from microverse.human.study import create_preference_study
    from microverse.store.studies import open_studies

    names = panel_names(raters, raters_per_item)
    lb = load_benchmark(benchmark)
    conn = open_studies(db)
    study = create_preference_study(conn, name, lb.benchmark, str(lb.path.resolve()), parse_pairs(model, "--model"),
                                    dimensions=dimension, per_level=per_level, tasks=task, seed=seed)
    _created(conn, study, names is not None)
    register_panel(conn, study, names, raters_per_item)


@human_app.command("create-annotation")
@clean_errors
def create_annotation(
    db: StudyDb, name: Annotated[str, typer.Option("--name", help="Name of the new study.")],
    model: ModelOption, benchmark: BenchmarkOption = None,
    per_level: Annotated[int | None, typer.Option("--per-level", help="Sample this many tasks per level.")] = None,
    task: Annotated[list[int] | None, typer.Option("--task", help="Use exactly these task indices.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for sampling and the assignment.")] = 0,
    raters: RatersOption = None, raters_per_item: PerItemOption = None,
) -> None:
    """Create a criterion-level annotation study: experts mark each rubric criterion 0/1 per video."""
    from microverse.bench.loading import load_benchmark
    from microverse.human.study import create_annotation_study
    from microverse.store.studies import open_studies

    names = panel_names(raters, raters_per_item)
    lb = load_benchmark(benchmark)
    conn = open_studies(db)
    study = create_annotation_study(conn, name, lb.benchmark, str(lb.path.resolve()), parse_pairs(model, "--model"),
                                    per_level=per_level, tasks=task, seed=seed)
    _created(conn, study, names is not None)
    register_panel(conn, study, names, raters_per_item)


def _created(conn, study, panel: bool) -> None:
    from microverse.store.studies import list_items

    items = list_items(conn, study)
    levels: dict[str, int] = {}
    for item in items:
        levels[item.payload.get("level") or "no level"] = levels.get(item.payload.get("level") or "no level", 0) + 1
    console.print(f"created {study.kind} study [bold]{study.name}[/] with {len(items)} items "
                  f"({', '.join(f'{k}: {v}' for k, v in sorted(levels.items()))})"
                  + ("" if panel else "; add raters with `microverse human add-raters`"))


@human_app.command("add-raters")
@clean_errors
def add_raters(db: StudyDb, study: StudyName,
               rater: Annotated[list[str], typer.Option("--rater", help="Rater name; repeat.")]) -> None:
    """Register raters and print their tokens (shown once: only a hash is stored). In an assigned
    study they join midway, taking unstarted items from the raters with the most left to do."""
    from microverse.human.study import add_raters as add
    from microverse.human.study import join_panel, progress
    from microverse.store.studies import get_study, list_raters, open_studies

    conn = open_studies(db)
    s = get_study(conn, study)
    if not s.raters_per_item:
        tokens, moves = add(conn, s, rater), None
    else:
        tokens, moves = join_panel(conn, s, rater)
    for name, token in tokens.items():
        typer.echo(f"{name}\t{token}")
    if moves is not None:
        for name in tokens:
            givers = Counter(giver for giver, to, _ in moves if to == name)
            err_console.print(f"{name} takes {sum(givers.values())} unstarted item(s) from "
                              + ", ".join(f"{g} {n}" for g, n in sorted(givers.items())))
        left = {r: progress(conn, s, r) for r in list_raters(conn, s)}
        err_console.print("items left per rater: "
                          + ", ".join(f"{r} {p.total_items - p.answered_items}" for r, p in left.items()))
    err_console.print("give each rater their token; it is not stored and cannot be shown again")


@human_app.command("hand-over")
@clean_errors
def hand_over(db: StudyDb, study: StudyName,
              from_rater: Annotated[str, typer.Option("--from", help="The rater who leaves.")],
              to_rater: Annotated[str, typer.Option("--to", help="The new rater (gets a token).")]) -> None:
    """In an assigned study, give a leaving rater's unstarted items to a new rater (prints the token)."""
    from microverse.human.study import hand_over as move
    from microverse.store.studies import assigned_items, get_study, open_studies

    conn = open_studies(db)
    s = get_study(conn, study)
    token, moved = move(conn, s, from_rater, to_rater)
    typer.echo(f"{to_rater}\t{token}")
    kept = len(assigned_items(conn, s, from_rater) or ())
    err_console.print(f"{len(moved)} item(s) moved from {from_rater} to {to_rater}; {kept} item(s) {from_rater} "
                      "has answered (in whole or part) stay with them")


@human_app.command("rotate-token")
@clean_errors
def rotate_token(db: StudyDb, study: StudyName, rater: Annotated[str, typer.Option("--rater")]) -> None:
    """Issue a new token for a rater (the old one stops working)."""
    from microverse.human.study import rotate_token as rotate
    from microverse.store.studies import get_study, open_studies

    conn = open_studies(db)
    typer.echo(f"{rater}\t{rotate(conn, get_study(conn, study), rater)}")


@human_app.command("list")
@clean_errors
def list_studies(db: StudyDb, format: FormatOption = OutputFormat.table) -> None:
    """Studies in the database with each rater's progress."""
    from rich.table import Table

    from microverse.human.study import study_summary
    from microverse.store.studies import list_studies as all_studies
    from microverse.store.studies import open_studies

    conn = open_studies(db, readonly=True)
    summaries = [study_summary(conn, s) for s in all_studies(conn)]
    if format == OutputFormat.json:
        write_output(json.dumps(summaries, indent=2), None)
        return
    table = Table("study", "kind", "items", "raters per item", "rater", "items done", "answers")
    for s in summaries:
        per_item = str(s["raters_per_item"] or "all")
        for rater, p in (s["raters"] or {"-": None}).items():
            done = f"{p['answered_items']}/{p['total_items']}" if p else "-"
            answers = f"{p['answered_questions']}/{p['total_questions']}" if p else "-"
            table.add_row(s["name"], s["kind"], str(s["items"]), per_item, rater, done, answers)
    console.print(table)


@human_app.command("results")
@clean_errors
def results(
    db: StudyDb, study: StudyName,
    judge: Annotated[list[str] | None, typer.Option(
        "--judge", help="NAME=SOURCE: a folder of <Model>_result.json, or a `microverse eval` database (its "
                        "judgments by judge NAME); repeat.")] = None,
    benchmark: BenchmarkOption = None,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    format: FormatOption = OutputFormat.table, out: OutOption = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw a Figure 6-style PNG (preference "
                                              "studies): vote shares with CIs, and the agreement matrix.")] = None,
) -> None:
    """Preference ratios with 95% intervals, rater agreement and judge-vs-human agreement
    (or, for an annotation study, per-criterion judge accuracy against the experts)."""
    from microverse.bench.loading import load_benchmark
    from microverse.human.judges import load_judge
    from microverse.human.stats import annotation_results, preference_results
    from microverse.human.study import PREFERENCE
    from microverse.store.studies import get_study, list_answers, list_items, open_studies

    conn = open_studies(db, readonly=True)
    s = get_study(conn, study)
    judges = []
    if judge:
        lb = load_benchmark(benchmark if benchmark is not None else Path(s.config["benchmark"]))
        judges = [load_judge(name, path, lb.benchmark) for name, path in parse_pairs(judge, "--judge").items()]
    items, answers = list_items(conn, s), list_answers(conn, s)
    if s.kind == PREFERENCE:
        summary = preference_results(s, items, answers, judges=judges, seed=seed)
        if plot is not None:
            from microverse.human.figure import plot_preference

            err_console.print(f"wrote {plot_preference(summary, plot)}")
    else:
        if plot is not None:
            raise MicroverseError("--plot draws preference studies only", fix="leave out --plot")
        summary = annotation_results(s, items, answers, judges=judges)
    if format == OutputFormat.json:
        write_output(json.dumps(summary, indent=2), out)
    else:
        from microverse.human.report import render_results

        write_output(render_results(summary), out)


@human_app.command("export")
@clean_errors
def export(db: StudyDb, study: StudyName,
           out: Annotated[Path, typer.Option("--out", help="CSV file to write (rater,item,question,label).")]) -> None:
    """Every answer as CSV; `--question` columns make it ready for `microverse human agreement`."""
    import csv
    import io

    from microverse.store.studies import get_study, list_answers, open_studies

    conn = open_studies(db, readonly=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["rater", "item", "question", "label", "revision", "answered_at"])
    for a in list_answers(conn, get_study(conn, study)):
        writer.writerow([a.rater, f"{a.item_key}|{a.question}", a.question, a.answer, a.revision, a.answered_at])
    write_output(buffer.getvalue(), out)


@human_app.command("agreement")
@clean_errors
def agreement(
    ratings: Annotated[Path, typer.Argument(help="CSV with columns rater,item,label (blank label = skipped).")],
    format: FormatOption = OutputFormat.table, out: OutOption = None,
) -> None:
    """Pairwise Cohen's kappa, Fleiss' kappa and Krippendorff's alpha (nominal) of a ratings file.

    Items may be rated by different subsets of raters: each pair's kappa then uses the items both
    rated, and Fleiss' kappa the items with the most common number of ratings (the output says so)."""
    from microverse.bench.agreement import agreement_summary
    from microverse.human.ratings_csv import read_ratings_csv

    summary = agreement_summary(read_ratings_csv(ratings), source=str(ratings))
    if format == OutputFormat.json:
        write_output(json.dumps(summary, indent=2), out)
        return
    from microverse.human.report import render_agreement

    write_output(render_agreement(summary), out)


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.add_typer(human_app, name="human")
