"""Commands of the `build` capability: build a rubric benchmark with LLM drafts and expert revision."""

from __future__ import annotations

import csv
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from microverse.cli.common import clean_errors, console, err_console, write_output
from microverse.cli.human import PerItemOption, RatersOption, panel_names, register_panel
from microverse.errors import MicroverseError

build_app = typer.Typer(help="Build a rubric benchmark: LLM task/level/rubric drafts, expert screening and revision, "
                             "export.", no_args_is_help=True)

DEFAULT_DB = Path("microverse-build.sqlite")
BuildDb = Annotated[Path, typer.Option("--db", help="SQLite file of this build (created if absent).")]
ModelOption = Annotated[str, typer.Option("--model", help="LLM: an OpenAI-compatible model name, or hf:MODEL.")]
BaseUrl = Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint; default "
                                             "$OPENAI_BASE_URL or api.openai.com.")]
Concurrency = Annotated[int, typer.Option(min=1, max=1000, help="Requests in flight at most.")]
Timeout = Annotated[float, typer.Option(help="Seconds per request before it is retried.")]
TemplateVersion = Annotated[int | None, typer.Option("--template-version", help="Prompt template version "
                                                     "(default: latest).")]
Redo = Annotated[bool, typer.Option("--redo", help="Ask again even items that have an answer.")]
Temperature = Annotated[float | None, typer.Option(help="Sampling temperature (default: the server's).")]


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


def _run(db: Path, stage: str, model: str, base_url: str | None, concurrency: int, timeout: float,
         template_version: int | None, redo: bool, temperature: float | None, only: list[int] | None = None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from microverse.build.stages import run_stage
    from microverse.judge.providers.factory import make_provider
    from microverse.store.builds import open_build

    conn = open_build(db)
    with Progress(TextColumn(f"{stage}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        def progress(total: int):
            task = bar.add_task(stage, total=total)
            return lambda: bar.advance(task)

        report = run_stage(conn, stage, lambda: make_provider(model, base_url=base_url, concurrency=concurrency,
                                                              timeout_s=timeout),
                           template_version=template_version, redo=redo, only=only, temperature=temperature,
                           progress=progress)
    console.print(f"{stage}: {report.ok} answered, {report.skipped} already done, {report.failed} failed, "
                  f"{report.parse_errors} unreadable")
    for line in report.errors[:10]:
        err_console.print(f"  {line}", markup=False, highlight=False)
    if report.stopped:
        raise MicroverseError(f"stopped: {report.stopped}", fix="fix the cause and rerun; finished answers are kept")
    if report.failed or report.parse_errors:
        raise MicroverseError(f"{report.failed + report.parse_errors} item(s) got no usable answer (raw answers kept)",
                              fix="rerun the same command to ask them again")


@build_app.command("tasks")
@clean_errors
def tasks(sources: Annotated[Path, typer.Argument(help="JSONL: one video per line with title, description, "
                                                  "optional url/id/licence/counts.")],
          model: ModelOption, db: BuildDb = DEFAULT_DB, base_url: BaseUrl = None, concurrency: Concurrency = 16,
          timeout: Timeout = 120.0, template_version: TemplateVersion = None, redo: Redo = False,
          temperature: Temperature = None) -> None:
    """Draft one task prompt per video with the paper's Appendix A prompt."""
    from microverse.build.sources import read_sources
    from microverse.store.builds import add_sources, open_build

    added = add_sources(open_build(db), read_sources(sources))
    err_console.print(f"{added} new video(s) in the build")
    _run(db, "tasks", model, base_url, concurrency, timeout, template_version, redo, temperature)


@build_app.command("classify")
@clean_errors
def classify(model: ModelOption, db: BuildDb = DEFAULT_DB, base_url: BaseUrl = None, concurrency: Concurrency = 16,
             timeout: Timeout = 120.0, template_version: TemplateVersion = None, redo: Redo = False,
             temperature: Temperature = None) -> None:
    """Classify each task as organ / cellular / subcellular level (Appendix B prompt)."""
    _run(db, "classify", model, base_url, concurrency, timeout, template_version, redo, temperature)


@build_app.command("set-level")
@clean_errors
def set_level(task: Annotated[int, typer.Option("--task")],
              level: Annotated[str, typer.Option("--level", help="organ, cellular or subcellular.")],
              db: BuildDb = DEFAULT_DB) -> None:
    """Set a task's level by hand (kept even if the classifier runs again)."""
    from microverse.build.parse_level import parse_level
    from microverse.store.builds import open_build
    from microverse.store.builds import set_level as store_level

    store_level(open_build(db), task, parse_level(level).value, "manual")
    console.print(f"task {task}: {parse_level(level).value}")


def _read_votes(path: Path) -> list[tuple[str, int, bool, str | None]]:
    if not path.is_file():
        raise MicroverseError("votes file not found", file=str(path), fix="CSV with columns expert,task,approve")
    votes = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"expert", "task", "approve"} <= set(reader.fieldnames or []):
            raise MicroverseError("columns expert,task,approve are required", file=str(path))
        for line, row in enumerate(reader, start=2):
            answer = (row["approve"] or "").strip().lower()
            if answer not in ("1", "0", "yes", "no", "true", "false", "approve", "reject"):
                raise MicroverseError(f"approve must be 1/0 or yes/no, got {row['approve']!r}", file=str(path),
                                      item=f"line {line}")
            try:
                task = int(row["task"])
            except (TypeError, ValueError):
                raise MicroverseError(f"task must be an integer, got {row['task']!r}", file=str(path),
                                      item=f"line {line}") from None
            votes.append(((row["expert"] or "").strip(), task, answer in ("1", "yes", "true", "approve"),
                          (row.get("rationale") or "").strip() or None))
    return votes


@build_app.command("screen")
@clean_errors
def screen(db: BuildDb = DEFAULT_DB,
           votes: Annotated[Path | None, typer.Option("--votes", help="CSV expert,task,approve[,rationale] "
                                                      "to record first.")] = None,
           replace: Annotated[bool, typer.Option("--replace", help="Let --votes change recorded votes.")] = False,
           from_study: Annotated[str | None, typer.Option("--from-study", help="Record the votes of this screening "
                                                          "study (web UI) first.")] = None,
           keep: Annotated[int, typer.Option("--keep", help="Approvals needed (paper: 2).")] = 2,
           of: Annotated[int | None, typer.Option("--of", help="Experts voting on each task (paper: 3). Default: "
                                                             "3, or the --raters-per-item of an assigned "
                                                             "--from-study.")] = None,
           target: Annotated[int | None, typer.Option("--target", help="Select this many kept tasks in the "
                                                      "candidates' level proportions.")] = None,
           seed: Annotated[int, typer.Option(help="Seed for --target sampling.")] = 0,
           format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table) -> None:
    """Keep tasks approved by at least --keep of --of experts; record the selection."""
    from microverse.build.screening import screen as apply
    from microverse.store import builds as store

    conn = store.open_build(db)
    if votes is not None:
        added = store.add_votes(conn, _read_votes(votes), replace=replace)
        err_console.print(f"{added} new vote(s) recorded")
    if from_study is not None:
        from microverse.build.review import votes_from_study
        from microverse.store.studies import get_study, open_studies

        studies = open_studies(db)
        study = get_study(studies, from_study)
        # the study is where experts change their minds: its answers replace earlier votes
        added = store.add_votes(conn, votes_from_study(studies, study), replace=True)
        err_console.print(f"{added} new vote(s) from study {from_study}")
        if of is None and study.raters_per_item:
            of = study.raters_per_item
            err_console.print(f"each task is screened by {of} experts (the study's assignment)")
    of = 3 if of is None else of
    levels = {r["task"]: r["level"] for r in store.tasks(conn)}
    result = apply(store.votes(conn), levels, k=keep, n=of, target=target, seed=seed)
    store.set_selection(conn, result.selected)
    if format == OutputFormat.json:
        write_output(json.dumps(result.to_json(), indent=2), None)
        return
    summary = result.to_json()
    console.print(f"kept {summary['kept']}, rejected {summary['rejected']}, pending {summary['pending']}; "
                  f"selected {len(result.selected)}")
    for level, row in result.levels.items():
        console.print(f"  {level}: {row['candidates']} candidates ({row['candidate_share']:.1%}), {row['kept']} kept, "
                      f"{row['selected']} selected")
    for note in result.notes:
        err_console.print(f"note: {note}")


@build_app.command("rubrics")
@clean_errors
def rubrics(model: ModelOption, db: BuildDb = DEFAULT_DB, base_url: BaseUrl = None, concurrency: Concurrency = 16,
            timeout: Timeout = 120.0, template_version: TemplateVersion = None, redo: Redo = False,
            temperature: Temperature = None,
            all_tasks: Annotated[bool, typer.Option("--all", help="Draft for every task, not only the screened "
                                                    "selection.")] = False) -> None:
    """Draft a rubric per selected task with the Appendix G prompt; flag out-of-range values."""
    from microverse.store.builds import open_build, selection

    chosen = None if all_tasks else selection(open_build(db))
    if chosen is None and not all_tasks:
        err_console.print("no screening recorded: drafting rubrics for every task")
    _run(db, "rubrics", model, base_url, concurrency, timeout, template_version, redo, temperature, only=chosen)


@build_app.command("revise")
@clean_errors
def revise(actions: Annotated[Path | None, typer.Argument(help="JSONL of expert actions (delete/reweight/edit/"
                                                          "supplement, each with a rationale).")] = None,
           db: BuildDb = DEFAULT_DB,
           from_study: Annotated[str | None, typer.Option("--from-study", help="Take the actions of this revision "
                                                          "study (web UI); importing it again replaces them.")] = None,
           ) -> None:
    """Record expert revision actions; everything is checked first and nothing is stored if any is wrong."""
    from microverse.build.export import load_drafts
    from microverse.build.revision import action_from_json, validate
    from microverse.store.builds import actions as stored_actions
    from microverse.store.builds import add_actions, open_build

    if (actions is None) == (from_study is None):
        raise MicroverseError("give an actions file or --from-study (one of them)")
    conn = open_build(db)
    origin, reviewers = None, None
    if from_study is not None:
        from microverse.build.review import actions_from_study, reviewers_from_study
        from microverse.store.studies import get_study, open_studies

        studies = open_studies(db)
        study = get_study(studies, from_study)
        new = actions_from_study(studies, study)
        # each task is merged over the experts who answered it, "keep" included (a split panel's
        # absentees are no silent votes, and an expert who kept everything still counts)
        reviewers = reviewers_from_study(studies, study)
        origin = f"study:{from_study}"
    else:
        if not actions.is_file():
            raise MicroverseError("actions file not found", file=str(actions))
        new = []
        for number, line in enumerate(actions.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise MicroverseError(f"not JSON ({exc.msg})", file=str(actions), item=f"line {number}") from None
                new.append(action_from_json(record, f"{actions}, line {number}"))
    kept = [action_from_json(r, "stored action") for r in stored_actions(conn)
            if origin is None or r.get("origin") != origin]
    validate(load_drafts(conn), kept + new)
    add_actions(conn, [a.to_json() | ({"origin": origin} if origin else {}) for a in new], replace_origin=origin,
                reviewers=reviewers)
    console.print(f"recorded {len(new)} action(s)")


@build_app.command("review-study")
@clean_errors
def review_study(kind: Annotated[str, typer.Option("--kind", help="screening or revision.")],
                 name: Annotated[str, typer.Option("--name", help="Name of the new study.")],
                 db: BuildDb = DEFAULT_DB, raters: RatersOption = None, raters_per_item: PerItemOption = None,
                 seed: Annotated[int, typer.Option(help="Seed for the assignment.")] = 0) -> None:
    """Create a web study in the build's database for expert screening or rubric revision
    (then `microverse human add-raters --db`, unless --raters, and `microverse serve --db`)."""
    from microverse.build.review import create_revision_study, create_screening_study
    from microverse.store.builds import open_build
    from microverse.store.studies import list_items, open_studies

    names = panel_names(raters, raters_per_item)
    open_build(db).close()
    conn = open_studies(db)
    if kind not in ("screening", "revision"):
        raise MicroverseError(f"unknown kind {kind!r}", fix="--kind screening or --kind revision")
    study = (create_screening_study if kind == "screening" else create_revision_study)(conn, name, seed=seed)
    console.print(f"created {kind} study {study.name} with {len(list_items(conn, study))} task(s)"
                  + ("" if names else f"; add experts with `microverse human add-raters --db {db} --study {name} "
                                      "--rater NAME`"))
    register_panel(conn, study, names, raters_per_item)


@build_app.command("revision-report")
@clean_errors
def revision_report(db: BuildDb = DEFAULT_DB,
                    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.table,
                    out: Annotated[Path | None, typer.Option("--out")] = None) -> None:
    """Actions per expert and operation (Figure 8), Cohen's kappa between experts (Table 6), conflicts."""
    from dataclasses import asdict

    from microverse.build.export import load_actions, load_drafts
    from microverse.build.revision import action_counts, expert_agreement, merge_revisions
    from microverse.store.builds import open_build, reviewers

    conn = open_build(db, readonly=True)
    drafts, actions, panels = load_drafts(conn), load_actions(conn), reviewers(conn)
    merged = merge_revisions(drafts, actions, reviewers=panels)
    experts = sorted({a.expert for a in actions if a.expert != "panel"} | set().union(*panels.values()))
    report = {"actions": action_counts(actions),
              "agreement": expert_agreement(drafts, actions, reviewers=panels) if len(experts) >= 2 else None,
              "conflicts": [asdict(c) for c in merged.conflicts], "overruled": [asdict(c) for c in merged.overruled]}
    if format == OutputFormat.json:
        write_output(json.dumps(report, indent=2, ensure_ascii=False), out)
        return
    from microverse.human.report import render_agreement

    lines = ["actions per expert (Figure 8):"]
    for expert, counts in report["actions"].items():
        lines.append(f"  {expert}: " + ", ".join(f"{op} {n}" for op, n in counts.items()))
    if report["agreement"]:
        lines.append("agreement between experts over the drafted criteria (Table 6):")
        lines.append(render_agreement(report["agreement"], indent="  "))
    open_conflicts = [c for c in merged.conflicts if c.outcome != "resolved by panel"]
    lines.append(f"{len(open_conflicts)} open conflict(s), {len(merged.overruled)} outvoted proposal(s)")
    lines += [f"  task {c.task} criterion {c.criterion} {c.attribute}: {c.votes}" for c in open_conflicts]
    write_output("\n".join(lines), out)


@build_app.command("export")
@clean_errors
def export(out: Annotated[Path, typer.Option("--out", help="Folder for the official three-file layout.")],
           db: BuildDb = DEFAULT_DB,
           canonical: Annotated[Path | None, typer.Option("--canonical", help="Also write the canonical JSON "
                                                          "(default: OUT/benchmark.json).")] = None,
           name: Annotated[str, typer.Option("--name", help="Benchmark name.")] = "MicroWorldBench-built",
           skip_incomplete: Annotated[bool, typer.Option("--skip-incomplete", help="Leave out criteria that still "
                                                         "fail checks and tasks without a rubric.")] = False) -> None:
    """Write the benchmark (canonical JSON and official layout), ready for `microverse eval --benchmark`."""
    from microverse.bench.canonical import write_canonical
    from microverse.bench.official import write_official
    from microverse.build.export import build_benchmark
    from microverse.store.builds import open_build

    report = build_benchmark(open_build(db, readonly=True), name=name, skip_incomplete=skip_incomplete)
    paths = write_official(report.benchmark, out)
    paths.append(write_canonical(report.benchmark, canonical or out / "benchmark.json"))
    n_criteria = sum(len(cs) for t in report.benchmark.tasks for cs in t.rubrics.values())
    console.print(f"exported {len(report.benchmark.tasks)} tasks, {n_criteria} criteria "
                  f"({'expert-revised' if report.revised else 'LLM drafts, no expert revision recorded'})")
    for path in paths:
        console.print(f"  {path}")
    for line in report.skipped_criteria:
        err_console.print(f"skipped {line}")
    if report.tasks_without_level:
        err_console.print(f"note: {len(report.tasks_without_level)} task(s) have no level: "
                          f"{report.tasks_without_level[:10]}")


@build_app.command("status")
@clean_errors
def status(db: BuildDb = DEFAULT_DB) -> None:
    """What the build has so far, stage by stage."""
    from collections import Counter

    from microverse.store import builds as store

    conn = store.open_build(db, readonly=True)
    console.print(f"videos: {len(store.sources(conn))}; tasks: {len(store.tasks(conn))}")
    for stage in ("tasks", "classify", "rubrics"):
        counts = Counter(a.status for a in store.answers(conn, stage).values())
        console.print(f"  {stage}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "not run"))
    levels = Counter(r["level"] or "no level" for r in store.tasks(conn))
    console.print("levels: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))
    chosen = store.selection(conn)
    console.print(f"screening: {'not run' if chosen is None else f'{len(chosen)} selected'}; "
                  f"drafts: {len(store.drafts(conn))}; revision actions: {len(store.actions(conn))}")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.add_typer(build_app, name="build")
