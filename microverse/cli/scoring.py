"""``microverse score`` and ``microverse compare``: scores, intervals and paired tests from judgments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from microverse.bench.aggregate import DEFAULT_RESAMPLES, DEFAULT_SEED, compare_models, summarise
from microverse.bench.judgments import ModelJudgments
from microverse.bench.loading import load_benchmark
from microverse.bench.official_results import read_official_results
from microverse.bench.scoring import score_model
from microverse.cli.common import BenchmarkOption, clean_errors, console, write_output
from microverse.errors import MicroverseError


class PolicyName(str, Enum):
    corrected = "corrected"
    official = "official"


class WeightsName(str, Enum):
    normalised = "normalised"
    raw = "raw"


class ReportFormat(str, Enum):
    md = "md"
    json = "json"
    html = "html"


OfficialResultsOption = Annotated[
    Path | None, typer.Option("--official-results", help="Folder of <Model>_result.json from the official evaluator.")]
DbOption = Annotated[Path | None, typer.Option("--db", help="SQLite store written by `microverse eval`.")]
JudgeOption = Annotated[str | None, typer.Option(help="Only judgments by this judge model (--db).")]
PromptVersionOption = Annotated[str | None, typer.Option(help="Only judgments with this prompt version (--db).")]
SettingsOption = Annotated[str | None, typer.Option(help="Only judgments with this frame-settings hash (--db).")]


@dataclass
class RunSelection:
    """Which judge run to read from the store: runs with different settings are never mixed."""

    judge: str | None = None
    prompt_version: str | None = None
    settings: str | None = None


def load_judgments(official_results: Path | None, db: Path | None, model: str | None = None,
                   run: RunSelection | None = None) -> list[ModelJudgments]:
    """Judgments from exactly one source: the official layout or our store."""
    if (official_results is None) == (db is None):
        raise MicroverseError("give exactly one of --official-results DIR or --db PATH",
                              fix="--official-results for the official evaluator's output, --db for ours")
    if official_results is not None:
        found = read_official_results(official_results)
    else:
        from microverse.store.judgments import load_model_judgments

        if not db.is_file():
            raise MicroverseError("database not found", file=str(db), fix="run `microverse eval` first or fix --db")
        run = run or RunSelection()
        found = load_model_judgments(db, model=model, judge=run.judge, prompt_version=run.prompt_version,
                                     settings_hash=run.settings)
    if model is not None:
        found = [m for m in found if m.model == model]
        if not found:
            raise MicroverseError(f"no judgments for model {model!r}", fix="check --model")
    return found


def judge_agreement(db: Path, models: list[str]) -> dict[str, dict[str, dict]]:
    """Per model and dimension, agreement between the judge runs stored for it (only where there are several)."""
    from microverse.bench.agreement import agreement_summary
    from microverse.store.judgments import judge_ratings

    found: dict[str, dict[str, dict]] = {}
    for model in models:
        per_dim = {dim.value: ratings for dim, ratings in judge_ratings(db, model).items()
                   if len({rater for rater, _, _ in ratings}) > 1}
        if per_dim:
            found[model] = {dim: agreement_summary(ratings, source=str(db)) for dim, ratings in per_dim.items()}
    return found


def register(app: typer.Typer) -> None:
    app.command("score")(score)
    app.command("compare")(compare)


@clean_errors
def score(
    official_results: OfficialResultsOption = None,
    db: DbOption = None,
    benchmark: BenchmarkOption = None,
    policy: Annotated[PolicyName, typer.Option(help="official: number for number as calculate_scores.py; "
                                                    "corrected: fixes C1-C8 (docs/scoring.md).")] = PolicyName.corrected,
    weights: Annotated[WeightsName, typer.Option(help="Score with the normalised (official) or the experts' raw "
                                                      "weights (corrected policy only).")] = WeightsName.normalised,
    format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.md,
    out: Annotated[Path | None, typer.Option("--out", help="Write the report here instead of stdout.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    judge: JudgeOption = None,
    prompt_version: PromptVersionOption = None,
    settings: SettingsOption = None,
    reference: Annotated[bool, typer.Option(help="Add the paper's published rows, labelled.")] = False,
    per_task: Annotated[bool, typer.Option("--per-task", help="JSON: add every task's scores, statuses and hits.")] = False,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples over tasks.")] = DEFAULT_RESAMPLES,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = DEFAULT_SEED,
) -> None:
    """Score judgments per dimension, task, level and model, with 95% bootstrap intervals."""
    if policy == PolicyName.official and weights != WeightsName.normalised:
        raise MicroverseError("the official policy scores with the normalised weights only",
                              fix="drop --weights raw or use --policy corrected")
    if format == ReportFormat.html and out is None:
        raise MicroverseError("--format html needs --out FILE.html")
    loaded = load_benchmark(benchmark)
    if weights == WeightsName.raw and not loaded.benchmark.has_raw_weights:
        raise MicroverseError("this benchmark carries no raw weights for every criterion", file=str(loaded.path),
                              fix="score with --weights normalised, or use the official three-file layout")
    judgments = load_judgments(official_results, db, model, RunSelection(judge, prompt_version, settings))
    summaries = [summarise(score_model(loaded.benchmark, j, policy.value, weights.value), resamples=resamples,
                           seed=seed) for j in judgments]
    settings = dict(policy=policy.value, weights=weights.value, resamples=resamples)
    agreement = judge_agreement(db, [j.model for j in judgments]) if db is not None else {}
    if format == ReportFormat.json:
        from microverse.report.json_report import results_json

        data = results_json(summaries, seed=seed, per_task=per_task, agreement=agreement, **settings)
        write_output(json.dumps(data, ensure_ascii=False, indent=2), out)
    elif format == ReportFormat.md:
        from microverse.report.markdown import markdown_report

        write_output(markdown_report(summaries, reference=reference, agreement=agreement, **settings), out)
    else:
        from microverse.report.html import html_report

        write_output(html_report(summaries, loaded.benchmark, reference=reference, agreement=agreement, **settings),
                     out)


@clean_errors
def compare(
    model_a: Annotated[str, typer.Argument(help="Model A.")],
    model_b: Annotated[str, typer.Argument(help="Model B.")],
    official_results: OfficialResultsOption = None,
    db: DbOption = None,
    benchmark: BenchmarkOption = None,
    policy: Annotated[PolicyName, typer.Option()] = PolicyName.corrected,
    judge: JudgeOption = None,
    prompt_version: PromptVersionOption = None,
    settings: SettingsOption = None,
    format: Annotated[ReportFormat, typer.Option("--format", help="md or json.")] = ReportFormat.md,
    alpha: Annotated[float, typer.Option(help="Family-wise significance level (Holm).")] = 0.05,
    resamples: Annotated[int, typer.Option(help="Bootstrap and permutation resamples.")] = 10000,
    seed: Annotated[int, typer.Option()] = DEFAULT_SEED,
) -> None:
    """Does A beat B? Paired tests over shared tasks per level and dimension (Holm-adjusted)."""
    loaded = load_benchmark(benchmark)
    judgments = {j.model: j for j in load_judgments(official_results, db,
                                                    run=RunSelection(judge, prompt_version, settings))}
    for name in (model_a, model_b):
        if name not in judgments:
            raise MicroverseError(f"no judgments for model {name!r}", fix=f"known models: {', '.join(sorted(judgments))}")
    a = score_model(loaded.benchmark, judgments[model_a], policy.value)
    b = score_model(loaded.benchmark, judgments[model_b], policy.value)
    results = compare_models(a, b, resamples=resamples, seed=seed)
    if format == ReportFormat.json:
        write_output(json.dumps({"a": model_a, "b": model_b, "policy": policy.value, "alpha": alpha,
                                 "comparisons": {k: {**vars(c), "verdict": c.verdict(alpha)} for k, c in results.items()}},
                                indent=2), None)
        return
    table = Table(title=f"{model_a} (A) vs {model_b} (B), policy {policy.value}, paired over shared tasks")
    for column in ("row", "tasks", "A", "B", "A - B", "95% CI", "p (Holm)", "verdict"):
        table.add_column(column)
    for name, c in results.items():
        fmt = lambda v: "n/a" if v is None else f"{v:.1f}"  # noqa: E731
        table.add_row(name, str(c.n), fmt(c.mean_a), fmt(c.mean_b), fmt(c.difference),
                      "n/a" if c.low is None else f"[{c.low:.1f}, {c.high:.1f}]",
                      "n/a" if c.p_adjusted is None else f"{c.p_adjusted:.4f}", c.verdict(alpha))
    console.print(table)
