"""``microverse eval`` (judge a model's videos) and ``microverse judgments`` (list runs, judge agreement)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from microverse.cli.common import BenchmarkOption, clean_errors, console, err_console, write_output
from microverse.errors import MicroverseError

DEFAULT_DB = Path("microverse.sqlite")

judgments_app = typer.Typer(help="Inspect judge runs stored by `microverse eval`.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_videos)
    app.add_typer(judgments_app, name="judgments")


def _load_or_fetch(benchmark: Path | None):
    """The benchmark from --benchmark, the cache, or (first use) fetched into the cache."""
    from microverse.bench.fetch import cached_benchmark_dir, fetch_benchmark, is_complete
    from microverse.bench.loading import load_benchmark

    if benchmark is None and not is_complete(cached_benchmark_dir()):
        err_console.print(f"MicroWorldBench is not in the cache yet; fetching it once into {cached_benchmark_dir()} …")
        try:
            fetch_benchmark()
        except MicroverseError as exc:
            raise MicroverseError(f"could not fetch the benchmark ({exc.message})",
                                  fix="pass --benchmark PATH (a folder with the official files or a canonical "
                                      ".json), or run `microverse bench fetch --from DIR`") from None
    return load_benchmark(benchmark)


@clean_errors
def eval_videos(
    videos: Annotated[Path, typer.Argument(help="Folder of the model's videos named by task index: 1.mp4 … 459.mp4.")],
    name: Annotated[str, typer.Option("--name", help="Model name the results are stored under.")],
    benchmark: BenchmarkOption = None,
    judge_model: Annotated[str, typer.Option(
        "--judge-model", "--judge",
        help="Judge: an API model name (OpenAI-compatible endpoint) or hf:MODEL_ID_OR_PATH for a local model.")]
        = "gpt-4o",
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="OpenAI-compatible endpoint; default $OPENAI_BASE_URL or api.openai.com.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=1000, help="Requests in flight at most.")] = 16,
    db: Annotated[Path, typer.Option("--db", help="SQLite store (created if absent).")] = DEFAULT_DB,
    frames: Annotated[int, typer.Option("--frames", min=1, max=64, help="Frames per video (paper: 8).")] = 8,
    frame_size: Annotated[int, typer.Option(
        "--frame-size", help="Longest frame side in pixels (never upscaled); 0 = native.")] = 1024,
    jpeg_quality: Annotated[int, typer.Option("--jpeg-quality", min=1, max=100)] = 90,
    prompt_version: Annotated[str, typer.Option(
        "--prompt-version", help="Judge prompt: paper-v1 (default) or reasoning-first-v1.")] = "paper-v1",
    repeats: Annotated[int, typer.Option("--repeats", min=1, help="Ask K times (odd) and keep the majority.")] = 1,
    reasks: Annotated[int, typer.Option("--reasks", min=0, max=5, help="Re-asks after an unusable answer.")] = 2,
    temperature: Annotated[float | None, typer.Option(help="Judge temperature (dropped if the model refuses it).")]
        = 0.0,
    timeout: Annotated[float, typer.Option(help="Seconds per request before it is retried.")] = 120.0,
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts per request (429/5xx/timeouts).")] = 6,
    max_failures: Annotated[int, typer.Option(
        min=1, help="Stop after this many requests in a row fail for good.")] = 5,
    max_tokens: Annotated[int | None, typer.Option(
        min=16, help="Longest answer in tokens (default: the server's; 1024 for hf: judges).")] = None,
    workers: Annotated[int | None, typer.Option(help="Frame-extraction processes (default: CPU count, at most 8).")] = None,
    tasks: Annotated[str | None, typer.Option(
        "--tasks", help="Judge only these tasks, e.g. 1-20,33 (a trial run).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show calls, payload and tokens; send nothing.")] = False,
) -> None:
    """Judge a model's videos on MicroWorldBench (paper protocol), resuming whatever a past run finished."""
    from microverse.judge.engine import Engine, RunIdentity, RunStats, plan
    from microverse.judge.frames import FrameSettings
    from microverse.judge.videos import parse_tasks, restrict, scan_videos

    try:
        identity = RunIdentity(model=name, judge=judge_model, repeats=repeats, temperature=temperature,
                               prompt_version=prompt_version,
                               frames=FrameSettings(count=frames, max_side=frame_size, jpeg_quality=jpeg_quality))
    except ValueError as exc:
        raise MicroverseError(str(exc)) from None
    loaded = _load_or_fetch(benchmark)
    scan = scan_videos(videos, loaded.benchmark)
    if tasks is not None:
        scan = restrict(scan, parse_tasks(tasks))
    _report_scan(scan)
    stats = RunStats()
    if dry_run:
        from microverse.store.judgments import peek_finished

        _dry_run(plan(loaded.benchmark, scan, identity, peek_finished(db, identity), stats), identity, stats)
        return

    from microverse.judge.providers import ProviderStopped
    from microverse.judge.providers.factory import make_provider
    from microverse.store.judgments import JudgmentStore, open_store

    provider = make_provider(judge_model, base_url=base_url, concurrency=concurrency, timeout_s=timeout,
                             max_attempts=max_attempts, breaker_threshold=max_failures)
    store = JudgmentStore(open_store(db), identity)
    planned = plan(loaded.benchmark, scan, identity, store.finished(), stats)
    console.print(f"judging [bold]{name}[/] with [bold]{judge_model}[/]: {stats.calls_total} calls for "
                  f"{stats.videos_total} videos ({stats.already_done} answers already stored in {db})")
    engine = Engine(provider, store, identity, reasks=reasks, concurrency=concurrency, workers=workers,
                    max_tokens=max_tokens, stats=stats)
    started = time.monotonic()
    stopped: ProviderStopped | None = None
    with _progress(enabled=stats.calls_total > 0) as progress:
        bar = progress.add_task("judging", total=stats.calls_total, failed=0, retries=0, tokens=0)

        def update(s: RunStats) -> None:
            m = provider.meter
            progress.update(bar, completed=s.calls_done, failed=s.answers_failed, retries=m.retries + s.reasks,
                            tokens=m.total_tokens)

        engine.progress = update

        async def go() -> None:
            try:
                await engine.run(planned)
            finally:
                await provider.aclose()

        try:
            asyncio.run(go())
        except ProviderStopped as exc:
            stopped = exc
    if stats.calls_total:
        _report_run(stats, provider.meter, time.monotonic() - started)
    if stopped is not None:
        raise MicroverseError(f"the judge stopped the run: {stopped}",
                              fix="fix the cause and rerun the same command; finished judgments are kept")
    _print_scores(db, loaded.benchmark, identity)


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed[/] · {task.fields[retries]} retries · "
                   "{task.fields[tokens]:,} tokens"),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=err_console, transient=False, refresh_per_second=4, disable=not enabled)


def _report_scan(scan) -> None:
    if scan.stray:
        err_console.print(f"[yellow]{len(scan.stray)} file(s) in {scan.directory} not used:[/]")
        for file, why in scan.stray[:20]:
            err_console.print(f"  {file}: {why}", highlight=False)
        if len(scan.stray) > 20:
            err_console.print(f"  … and {len(scan.stray) - 20} more")
    if scan.missing:
        shown = ", ".join(map(str, scan.missing[:20])) + (" …" if len(scan.missing) > 20 else "")
        err_console.print(f"[yellow]{len(scan.missing)} task(s) have no video:[/] {shown}")


def _dry_run(planned, identity, stats) -> None:
    from microverse.judge.estimate import estimate
    from microverse.judge.frames import BadVideo, extract_frames

    calls = [(dim.prompt, len(dim.repeats)) for w in planned.work for dim in w.dimensions]
    sample = None
    for item in planned.work:
        try:
            sample = extract_frames(item.path, identity.frames)
            break
        except BadVideo as exc:
            err_console.print(f"[yellow]{item.path.name}: {exc}[/]")
    table = Table(title=f"dry run: {identity.model} judged by {identity.judge} (nothing sent)", show_header=False)
    table.add_row("calls to send", f"{stats.calls_total} ({stats.videos_total} videos; "
                                   f"{stats.already_done} answers already stored)")
    if sample is not None:
        est = estimate([len(p.text) for p, k in calls for _ in range(k)], [p.n_criteria for p, k in calls for _ in range(k)],
                       len(sample.image_urls), sample.width, sample.height, sample.payload_bytes)
        table.add_row("images per call", f"{len(sample.image_urls)} JPEG frames, {sample.width}×{sample.height}, "
                                         f"quality {identity.frames.jpeg_quality}")
        table.add_row("image payload per call", f"{sample.payload_bytes / 1e6:.2f} MB (base64, from {item.path.name})")
        table.add_row("total upload", f"{sample.payload_bytes * stats.calls_total / 1e9:.2f} GB")
        table.add_row("tokens (estimate, GPT-4o rules)",
                      f"{est.prompt_tokens:,} prompt + {est.completion_tokens:,} completion = {est.total_tokens:,}")
    table.add_row("settings", f"prompt {identity.prompt_version}, {identity.settings} (hash {identity.settings_hash})")
    console.print(table)


def _report_run(stats, meter, wall_s: float) -> None:
    table = Table(title="judge run", show_header=False)
    table.add_row("answers", f"{stats.answers_ok} usable, {stats.answers_failed} failed, "
                             f"{stats.calls_total - stats.calls_done} not reached")
    table.add_row("requests", f"{meter.calls} sent, {meter.retries} retried, {meter.downscales} downscaled (413), "
                              f"{stats.reasks} re-asked")
    table.add_row("tokens", f"{meter.prompt_tokens:,} prompt + {meter.completion_tokens:,} completion")
    frames_ms = 1000 * stats.frames_cpu_s / max(1, stats.videos_done - len(stats.bad_videos))
    table.add_row("time", f"{wall_s:.1f} s wall; {frames_ms:.0f} ms CPU per video for frames")
    console.print(table)
    for file, why in stats.bad_videos[:20]:
        err_console.print(f"[yellow]bad video[/] {file}: {why}", highlight=False)
    for task, dim, why in [f for f in stats.failures if not f[2].startswith("video:")][:20]:
        err_console.print(f"[yellow]failed[/] task {task} {dim}: {why}", highlight=False)
    if stats.answers_failed:
        err_console.print("failed judgments are stored as failed (never as 0); rerun the same command to retry them")


def _print_scores(db: Path, benchmark, identity) -> None:
    """The model's Table 1 / Table 2 rows (corrected policy), with coverage."""
    from rich.markdown import Markdown

    from microverse.bench.aggregate import summarise
    from microverse.bench.scoring import score_model
    from microverse.report.markdown import table_rows
    from microverse.store.judgments import load_model_judgments

    [judgments] = load_model_judgments(db, model=identity.model, judge=identity.judge,
                                       prompt_version=identity.prompt_version, settings_hash=identity.settings_hash)
    summary = summarise(score_model(benchmark, judgments, "corrected"))
    console.print(Markdown(table_rows([summary])))
    scores = summary.scores
    console.print(f"{scores.valid_tasks} of {scores.benchmark_tasks} tasks scored; coverage per dimension: "
                  + "; ".join(f"{d.value} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()))
                              for d, c in summary.dimension_status.items()), highlight=False)
    console.print(f"full report: microverse score --db {db} --model {identity.model!r} --judge {identity.judge!r}",
                  highlight=False)


@judgments_app.command("list")
@clean_errors
def list_runs(db: Annotated[Path, typer.Option("--db")] = DEFAULT_DB) -> None:
    """Every (model, judge, prompt version, settings) in the store, with counts."""
    from microverse.store.judgments import judgment_groups

    table = Table(title=f"judge runs in {db}")
    for column in ("model", "judge", "prompt", "settings", "judgments", "failed"):
        table.add_column(column)
    for row in judgment_groups(db):
        table.add_row(row["model"], row["judge"], row["prompt_version"], f"{row['settings_hash']} {row['settings']}",
                      str(row["judgments"]), str(row["failed"]))
    console.print(table)


@judgments_app.command("agreement")
@clean_errors
def agreement(
    model: Annotated[str, typer.Option("--model", help="The model whose videos several judges scored.")],
    db: Annotated[Path, typer.Option("--db")] = DEFAULT_DB,
    format: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Per-dimension agreement between judges on the same videos: Cohen's kappa (pairs), Krippendorff's alpha.

    Items are single criteria (task, criterion); only usable judgments count.
    """
    import json

    from microverse.bench.agreement import agreement_summary
    from microverse.store.judgments import judge_ratings

    if format not in ("text", "json"):
        raise MicroverseError("--format must be text or json")
    summaries = {dim.value: agreement_summary(ratings, source=str(db))
                 for dim, ratings in judge_ratings(db, model).items()}
    if format == "json":
        write_output(json.dumps({"model": model, "dimensions": summaries}, indent=2), None)
        return
    table = Table(title=f"judge agreement on {model} (items: single criteria)")
    for column in ("dimension", "judges", "criteria judged", "Cohen's kappa (pairs)", "Krippendorff's alpha"):
        table.add_column(column)
    for dim, s in summaries.items():
        pairs = "\n".join(f"{p['rater_a']} vs {p['rater_b']}: {_fmt(p['kappa'])} (n={p['n_items']}, "
                          f"{_fmt(p['percent_agreement'], pct=True)} agree)" for p in s["cohen_kappa_pairwise"])
        table.add_row(dim, str(s["n_raters"]), str(s["n_items"]), pairs, _fmt(s["krippendorff_alpha"]))
    console.print(table)


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.0f}%" if pct else f"{value:.3f}"
