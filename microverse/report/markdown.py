"""Markdown in the paper's layout: Table 1 (average and levels), Table 2 (average and dimensions)."""

from __future__ import annotations

from microverse.bench.aggregate import ModelSummary
from microverse.bench.models import DIMENSIONS, LEVELS
from microverse.bench.scoring import CORRECTIONS
from microverse.bench.uncertainty import Estimate
from microverse.report.paper_reference import reference_rows


def cell(estimate: Estimate, with_ci: bool = True) -> str:
    if estimate.mean is None:
        return "n/a"
    text = f"{estimate.mean:.1f}"
    if with_ci and estimate.low is not None and estimate.n > 1:
        text += f" [{estimate.low:.1f}, {estimate.high:.1f}]"
    return text


def _escape(text: str) -> str:
    """Model names and notes go into table cells: keep pipes and markup inert."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _ranked(summaries: list[ModelSummary]) -> list[ModelSummary]:
    return sorted(summaries, key=lambda s: (s.average.mean is None, -(s.average.mean or 0.0), s.model))


def _table(title: str, columns: list[str], ranked: list[ModelSummary], cells, paper: dict, keys: list[str],
           with_ci: bool) -> list[str]:
    lines = [f"## {title}", "", "| Model | Average | " + " | ".join(columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for s in ranked:
        lines.append(f"| {_escape(s.model)} | {cell(s.average, with_ci)} | "
                     + " | ".join(cell(e, with_ci) for e in cells(s)) + " |")
    for model, row in paper.items():
        lines.append(f"| *{model} (paper)* | *{row['average']:.1f}* | "
                     + " | ".join(f"*{row[k]:.1f}*" for k in keys) + " |")
    return lines


def table_rows(summaries: list[ModelSummary], *, with_ci: bool = True, reference: bool = False) -> str:
    """Table 1 and Table 2 only (what ``eval`` prints at the end of a run)."""
    ranked = _ranked(summaries)
    paper = reference_rows() if reference else {}
    lines = _table("Table 1: average and per-level scores", [lv.value for lv in LEVELS], ranked,
                   lambda s: [s.levels[lv] for lv in LEVELS], paper, [lv.value for lv in LEVELS], with_ci)
    lines += [""] + _table("Table 2: average and per-dimension scores", [d.title for d in DIMENSIONS], ranked,
                           lambda s: [s.dimensions[d] for d in DIMENSIONS], paper, [d.value for d in DIMENSIONS],
                           with_ci)
    return "\n".join(lines) + "\n"


def agreement_rows(agreement: dict[str, dict[str, dict]]) -> list[str]:
    """Judge-vs-judge agreement per model and dimension (items are single criteria)."""
    if not agreement:
        return []
    lines = ["## Judge agreement", "", "Items are single criteria of single videos; raters are judge runs.", "",
             "| Model | Dimension | Judges | Items | Mean pairwise Cohen's κ | Krippendorff's α |",
             "|---|---|---|---|---|---|"]
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    for model, dims in agreement.items():
        for dim, s in dims.items():
            lines.append(f"| {_escape(model)} | {dim} | {s['n_raters']} | {s['n_items']} | "
                         f"{fmt(s['cohen_kappa_mean'])} | {fmt(s.get('krippendorff_alpha'))} |")
    return lines + [""]


def markdown_report(summaries: list[ModelSummary], *, policy: str, weights: str, resamples: int,
                    reference: bool = False, agreement: dict[str, dict[str, dict]] | None = None) -> str:
    lines = ["# MicroWorldBench results", "",
             f"Policy **{policy}**, weights **{weights}**. Cells are means over tasks with a 95% bootstrap "
             f"interval ({resamples} resamples over tasks) in brackets.", ""]
    if reference:
        lines += ["Rows in *italics* are the paper's published figures (GPT-5 judge, official scoring), "
                  "for reference only.", ""]
    lines += ["## Coverage", "", "| Model | Valid tasks | Benchmark tasks | Coverage | Missing tasks | Notes |",
              "|---|---|---|---|---|---|"]
    for s in _ranked(summaries):
        sc = s.scores
        missing = sc.missing_tasks()
        shown = ", ".join(map(str, missing[:12])) + (f" … (+{len(missing) - 12})" if len(missing) > 12 else "")
        notes = "; ".join(([sc.dropped] if sc.dropped else []) + sc.notes[:3])
        if len(sc.notes) > 3:
            notes += f"; … (+{len(sc.notes) - 3} more)"
        rate = 100 * sc.valid_tasks / sc.benchmark_tasks if sc.benchmark_tasks else 0.0
        lines.append(f"| {_escape(sc.model)} | {sc.valid_tasks} | {sc.benchmark_tasks} | {rate:.1f}% | "
                     f"{shown or '-'} | {_escape(notes) or '-'} |")
    lines += ["", table_rows(summaries, reference=reference)]
    lines += agreement_rows(agreement or {})
    if policy == "corrected":
        lines += ["## Corrections to the official scoring applied", ""]
        lines += [f"- **{code}** {text}" for code, text in CORRECTIONS.items()]
        lines.append("")
    return "\n".join(lines)
