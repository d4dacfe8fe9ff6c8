"""Commands of the `human` capability: agreement statistics and human evaluation studies."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from microverse.cli.common import clean_errors, console, write_output

human_app = typer.Typer(help="Human evaluation: preference studies, criterion annotation, agreement.",
                        no_args_is_help=True)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


@human_app.command("agreement")
@clean_errors
def agreement(
    ratings: Annotated[Path, typer.Argument(help="CSV with columns rater,item,label (blank label = skipped).")],
    format: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = OutputFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Pairwise Cohen's kappa, Fleiss' kappa and Krippendorff's alpha (nominal) of a ratings file."""
    from microverse.bench.agreement import agreement_summary
    from microverse.human.ratings_csv import read_ratings_csv

    summary = agreement_summary(read_ratings_csv(ratings), source=str(ratings))
    if format == OutputFormat.json:
        write_output(json.dumps(summary, indent=2), out)
        return
    _print_agreement(summary)


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _print_agreement(summary: dict) -> None:
    from rich.table import Table

    console.print(f"{summary['n_raters']} raters, {summary['n_items']} items, {summary['n_ratings']} ratings, "
                  f"labels: {', '.join(summary['labels'])}")
    table = Table("rater A", "rater B", "items", "agreement", "Cohen's kappa", title="Pairwise Cohen's kappa")
    for p in summary["cohen_kappa_pairwise"]:
        table.add_row(p["rater_a"], p["rater_b"], str(p["n_items"]), _fmt(p["percent_agreement"]), _fmt(p["kappa"]))
    console.print(table)
    fleiss = summary["fleiss_kappa"]
    console.print(f"mean Cohen's kappa: {_fmt(summary['cohen_kappa_mean'])}")
    console.print(f"Fleiss' kappa: {_fmt(fleiss['kappa'])} (on {fleiss['n_items']} items rated by all "
                  f"{fleiss['n_raters']} raters; {fleiss['n_items_dropped']} dropped)")
    console.print(f"Krippendorff's alpha (nominal): {_fmt(summary['krippendorff_alpha'])}")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.add_typer(human_app, name="human")
