"""``microverse bench``: fetch, validate, describe and export the benchmark."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from microverse.bench.anomalies import DESCRIPTIONS, AnomalySummary, check_benchmark
from microverse.bench.canonical import write_canonical
from microverse.bench.fetch import fetch_benchmark
from microverse.bench.loading import load_benchmark
from microverse.bench.official import write_official
from microverse.bench.summary import benchmark_stats
from microverse.cli.common import BenchmarkOption, clean_errors, console, err_console, write_output
from microverse.errors import MicroverseError

bench_app = typer.Typer(help="Fetch, validate, describe and export MicroWorldBench.", no_args_is_help=True)


class TextOrJson(str, Enum):
    text = "text"
    json = "json"


class ExportFormat(str, Enum):
    canonical = "canonical"
    official = "official"


@bench_app.command("fetch")
@clean_errors
def fetch(
    source: Annotated[Path | None, typer.Option("--from", help="Copy from a local folder instead of downloading.")] = None,
    base_url: Annotated[str | None, typer.Option(help="Download base URL (default: the pinned GitHub commit).")] = None,
    target: Annotated[Path | None, typer.Option(help="Install here instead of the per-user cache.")] = None,
) -> None:
    """Download the official benchmark files (pinned commit, SHA-256 checked) into the cache."""
    with err_console.status("fetching MicroWorldBench…"):
        path = fetch_benchmark(source_dir=source, base_url=base_url, target=target)
    console.print(f"MicroWorldBench ready in [bold]{path}[/] (SHA-256 verified)")


@bench_app.command("validate")
@clean_errors
def validate(
    benchmark: BenchmarkOption = None,
    format: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
    examples: Annotated[int, typer.Option(help="Examples shown per anomaly.")] = 3,
) -> None:
    """List every anomaly in the benchmark; exit status 1 if any was found."""
    loaded = load_benchmark(benchmark)
    anomalies = loaded.file_anomalies + check_benchmark(loaded.benchmark)
    summary = AnomalySummary.of(anomalies, max_examples=examples)
    if format == TextOrJson.json:
        write_output(json.dumps({"benchmark": str(loaded.path), "tasks": len(loaded.benchmark.tasks),
                                 "anomalies": summary.to_json(), "total": len(anomalies)},
                                ensure_ascii=False, indent=2), None)
    else:
        table = Table(title=f"{len(anomalies)} anomalies in {loaded.path}", show_lines=True)
        table.add_column("code", style="bold")
        table.add_column("count", justify="right")
        table.add_column("what it means")
        table.add_column("examples")
        for code, count in sorted(summary.counts.items()):
            shown = "\n".join(f"{a.where()}: {a.message}" for a in summary.examples[code])
            table.add_row(code, str(count), DESCRIPTIONS.get(code, ""), shown)
        console.print(table)
        if not anomalies:
            console.print("[green]no anomalies found[/]")
    raise typer.Exit(1 if anomalies else 0)


@bench_app.command("stats")
@clean_errors
def stats(
    benchmark: BenchmarkOption = None,
    format: Annotated[TextOrJson, typer.Option("--format")] = TextOrJson.text,
) -> None:
    """Counts by level, criteria per dimension, weight and polarity distributions."""
    loaded = load_benchmark(benchmark)
    data = benchmark_stats(loaded.benchmark)
    if format == TextOrJson.json:
        write_output(json.dumps(data, indent=2), None)
        return
    levels = Table(title=f"{data['tasks']} tasks by level")
    levels.add_column("level")
    levels.add_column("tasks", justify="right")
    for name, count in data["levels"].items():
        levels.add_row(name, str(count))
    console.print(levels)
    dims = Table(title="criteria by dimension")
    for column in ("dimension", "criteria", "per task", "positive", "penalty", "weights (norm.)", "raw weights"):
        dims.add_column(column)
    for name, d in data["dimensions"].items():
        dims.add_row(name, str(d["criteria"]), _fmt(d["criteria_per_task"]), str(d["positive"]),
                     str(d["penalty"]), _fmt(d["weights"]), _fmt(d["raw_weights"]))
    console.print(dims)


def _fmt(counts: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


@bench_app.command("show")
@clean_errors
def show(
    index: Annotated[int, typer.Argument(help="Task index (1..459 in MicroWorldBench).")],
    benchmark: BenchmarkOption = None,
) -> None:
    """Print one task: its prompt, requirement, level and every criterion with polarity and weights."""
    loaded = load_benchmark(benchmark)
    try:
        task = loaded.benchmark.task(index)
    except KeyError:
        raise MicroverseError(f"no task {index}", file=str(loaded.path),
                              fix=f"indices run {loaded.benchmark.tasks[0].index}..{loaded.benchmark.tasks[-1].index}"
                              ) from None
    console.print(f"[bold]Task {task.index}[/] · {task.level.value if task.level else 'unlabelled'}", highlight=False)
    console.print(Text(task.prompt))
    console.print(Text(task.requirement, style="dim"))
    for dim, criteria in task.rubrics.items():
        table = Table(title=dim.title, show_lines=True)
        for column in ("#", "key", "±", "weight", "raw", "criterion"):
            table.add_column(column)
        for position, c in enumerate(criteria, start=1):
            table.add_row(str(position), f"d{c.official.number}" if c.official else "-", "+" if c.polarity > 0 else "−",
                          f"{c.weight:g}", "-" if c.raw_weight is None else f"{c.raw_weight:g}", Text(c.description))
        console.print(table)


@bench_app.command("export")
@clean_errors
def export(
    out: Annotated[Path, typer.Option("--out", help="Output file (canonical) or folder (official).")],
    format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.canonical,
    benchmark: BenchmarkOption = None,
) -> None:
    """Write the benchmark in the canonical schema or back in the official three-file layout."""
    loaded = load_benchmark(benchmark)
    if format == ExportFormat.canonical:
        path = write_canonical(loaded.benchmark, out)
        console.print(f"wrote {path}")
    else:
        for path in write_official(loaded.benchmark, out):
            console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
