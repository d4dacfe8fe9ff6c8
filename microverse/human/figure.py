"""A Figure 6-style picture of a preference study: vote shares per question, and the consistency matrix.

Left: for each question (dimension), the share of votes of each model and of ties, with
its item-bootstrap 95% interval. Right (when judges
were given): pairwise agreement between every rater, the human majority and each judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_preference(summary: dict[str, Any], out: Path, *, dimension_for_matrix: str | None = None) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    dims = list(summary["dimensions"])
    options = [*summary["models"], "tie"]
    matrix_dim = dimension_for_matrix or dims[0]
    consistency = (summary["dimensions"][matrix_dim].get("judges") or {}).get("consistency")
    fig, axes = plt.subplots(1, 2 if consistency else 1, figsize=(12 if consistency else 6, 4), squeeze=False)
    ax = axes[0][0]
    colours = plt.get_cmap("tab10")
    height = 0.8 / len(options)
    for k, option in enumerate(options):
        shares = np.array([summary["dimensions"][d]["shares"][option]["share"] or 0.0 for d in dims])
        cis = [summary["dimensions"][d]["shares"][option]["ci"] for d in dims]
        errors = np.array([[s - lo if lo is not None else 0.0 for s, (lo, _) in zip(shares, cis)],
                           [hi - s if hi is not None else 0.0 for s, (_, hi) in zip(shares, cis)]])
        rows = np.arange(len(dims)) - 0.4 + height * (k + 0.5)
        ax.barh(rows, shares, height=height, xerr=errors, capsize=3, label=option,
                color="0.7" if option == "tie" else colours(k))
    ax.set_yticks(range(len(dims)), dims)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of votes (95% CI, bootstrap over tasks)")
    ax.set_title(f"{summary['study']}: preferences")
    ax.legend(loc="lower right", fontsize=8)
    if consistency:
        names = sorted({p["a"] for p in consistency} | {p["b"] for p in consistency})
        grid = np.eye(len(names))
        for p in consistency:
            i, j = names.index(p["a"]), names.index(p["b"])
            grid[i, j] = grid[j, i] = p["agreement"] if p["agreement"] is not None else np.nan
        ax2 = axes[0][1]
        image = ax2.imshow(grid, vmin=0, vmax=1, cmap="viridis")
        ax2.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
        ax2.set_yticks(range(len(names)), names, fontsize=8)
        for i in range(len(names)):
            for j in range(len(names)):
                if not np.isnan(grid[i, j]):
                    ax2.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7,
                             color="w" if grid[i, j] < 0.6 else "k")
        ax2.set_title(f"agreement ({matrix_dim})")
        fig.colorbar(image, ax=ax2, fraction=0.046)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150)
    plt.close(fig)
    return out
