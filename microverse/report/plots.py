"""Charts for the HTML report as inline SVG (matplotlib, no files, no JavaScript library)."""

from __future__ import annotations

import io

import numpy as np

from microverse.bench.aggregate import ModelSummary
from microverse.bench.uncertainty import Estimate


def grouped_bars(summaries: list[ModelSummary], groups: list[tuple[str, callable]], title: str) -> str:
    """One bar per model in each group, with the bootstrap interval as an error bar; returns SVG markup."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "path"  # text drawn as paths: no markup from names can leak into the page
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups) + 0.25 * len(summaries) * len(groups)), 3.6))
    width = 0.8 / max(1, len(summaries))
    x = np.arange(len(groups))
    for i, summary in enumerate(summaries):
        estimates: list[Estimate] = [pick(summary) for _, pick in groups]
        means = [e.mean if e.mean is not None else np.nan for e in estimates]
        err = np.array([[e.mean - e.low if e.low is not None else 0 for e in estimates],
                        [e.high - e.mean if e.high is not None else 0 for e in estimates]])
        ax.bar(x + (i - (len(summaries) - 1) / 2) * width, means, width, yerr=err, capsize=2,
               label=summary.model)
    ax.set_xticks(x, [name for name, _ in groups])
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(fontsize="small", ncols=min(4, len(summaries)), loc="upper left", bbox_to_anchor=(0, -0.12))
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
