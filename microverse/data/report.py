"""The funnel (the paper's Figure 7), per-clip decisions, and distribution plots (Figures 4, 5).

The funnel counts, per stage, what it kept and dropped with the reasons. ``ingest`` counts
source files; ``split`` counts the clips it produced (kept) and the sources it could not
split (dropped); the clip stages count the clips they decided.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from microverse.data.manifest import CLIP_STAGES, Manifest, decide

TEXT_LIMIT = 20  # files listed by the text report; JSON lists every one


def _reason_key(reason: str) -> str:
    """Group reasons by kind: the details in parentheses go ('too short (1.2 s < 5 s)' -> 'too short'),
    errors group by exception type ('error: FileNotFoundError: ...' -> 'error: FileNotFoundError')."""
    if str(reason).startswith("error: "):
        return ": ".join(str(reason).split(": ")[:2])
    return re.sub(r"\s*\(.*$", "", str(reason)).strip()


def _counts(keep: pd.Series, reasons: pd.Series) -> dict:
    decided = keep.notna()
    kept = int((keep[decided].astype(bool)).sum())
    dropped_mask = decided & ~keep.fillna(True).astype(bool)
    grouped = Counter()
    for reason in reasons[dropped_mask].fillna("dropped"):
        for part in str(reason).split("; "):
            grouped[_reason_key(part)] += 1
    return {"kept": kept, "dropped": int(dropped_mask.sum()), "reasons": dict(sorted(grouped.items()))}


def funnel(manifest: Manifest) -> dict:
    sources = manifest.read("sources")
    clips = manifest.read("clips")
    stages: dict[str, dict] = {}
    if "ingest.keep" in sources:
        stages["ingest"] = {"unit": "sources", **_counts(sources["ingest.keep"], sources["ingest.reason"])}
    if "split.keep" in sources:
        failed = _counts(sources["split.keep"], sources.get("split.reason", pd.Series(index=sources.index)))
        stages["split"] = {"unit": "clips", "kept": int(len(clips)), "dropped": failed["dropped"],
                           "reasons": failed["reasons"], "sources_split": failed["kept"]}
    for stage in CLIP_STAGES:
        if f"{stage}.keep" in clips:
            reasons = clips.get(f"{stage}.reason", pd.Series([None] * len(clips), index=clips.index))
            stages[stage] = {"unit": "clips", **_counts(clips[f"{stage}.keep"], reasons)}
    return {"stages": stages}


def dropped_sources(manifest: Manifest) -> list[dict]:
    """Each source file the pipeline could not use, with the stage and its full reason.

    The funnel groups reasons by kind ("unreadable file: 3"); this names the files, which is
    what a user needs to fix or delete them.
    """
    sources = manifest.read("sources")
    out = []
    for stage in ("ingest", "split"):
        if f"{stage}.keep" not in sources:
            continue
        keep = sources[f"{stage}.keep"]
        for row in sources[keep.notna() & ~keep.fillna(True).astype(bool)].to_dict("records"):
            out.append({"source_id": row["source_id"], "path": row.get("path"), "stage": stage,
                        "reason": row.get(f"{stage}.reason")})
    return sorted(out, key=lambda r: (str(r["path"]), r["stage"]))


def clip_table(manifest: Manifest) -> pd.DataFrame:
    clips = manifest.read("clips")
    if not len(clips) or "source_id" not in clips:
        return pd.DataFrame(columns=["clip_id", "source_id", "start_frame", "end_frame", "keep", "reason"])
    return decide(clips)


def report_json(manifest: Manifest) -> dict:
    out = funnel(manifest)
    table = clip_table(manifest)
    out["clips"] = [
        {"clip_id": r.clip_id, "source_id": r.source_id, "start_frame": int(r.start_frame),
         "end_frame": int(r.end_frame), "keep": bool(r.keep), "reason": r.reason}
        for r in table.itertuples(index=False)
    ]
    out["sources_dropped"] = dropped_sources(manifest)
    return out


def plots(manifest: Manifest, out_dir: Path) -> list[Path]:
    """PNG figures: funnel, clip resolution and duration, source popularity (where known)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    stages = funnel(manifest)["stages"]

    def save(fig, name: str) -> None:
        path = out_dir / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    if stages:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        names = list(stages)
        kept = [stages[s]["kept"] for s in names]
        dropped = [stages[s]["dropped"] for s in names]
        ax.bar(names, kept, label="kept", color="#4c72b0")
        ax.bar(names, dropped, bottom=kept, label="dropped", color="#dd8452")
        ax.set_ylabel("count (sources for ingest, clips after)")
        ax.set_title("Data funnel")
        ax.legend()
        save(fig, "funnel.png")
    table = clip_table(manifest)
    kept = table[table["keep"].astype(bool)] if len(table) else table
    if len(kept):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        labels = (kept["width"].astype(int).astype(str) + "x" + kept["height"].astype(int).astype(str))
        counts = labels.value_counts().sort_index()
        axes[0].bar(counts.index, counts.values, color="#4c72b0")
        axes[0].set_title("Resolution (kept clips)")
        axes[0].tick_params(axis="x", rotation=45)
        axes[1].hist(kept["duration"].astype(float), bins=20, color="#55a868")
        axes[1].set_title("Duration, s (kept clips)")
        save(fig, "attributes.png")
    sources = manifest.read("sources")
    columns = [c for c in ("views", "likes", "comments") if c in sources and sources[c].notna().any()]
    if columns:
        import numpy as np

        fig, axes = plt.subplots(1, len(columns), figsize=(3.3 * len(columns), 3.2), squeeze=False)
        for ax, column in zip(axes[0], columns):
            values = sources[column].dropna().astype(float)
            ax.hist(np.log10(values + 1), bins=20, color="#8172b2")
            ax.set_title(f"log10({column} + 1)")
        save(fig, "popularity.png")
    return written


def report_text(manifest: Manifest) -> str:
    lines = ["stage      unit      kept  dropped  reasons"]
    for stage, c in funnel(manifest)["stages"].items():
        reasons = ", ".join(f"{k}: {v}" for k, v in c["reasons"].items())
        lines.append(f"{stage:<10} {c['unit']:<8} {c['kept']:>5}  {c['dropped']:>7}  {reasons}")
    dropped = dropped_sources(manifest)
    if dropped:
        lines += ["", "source files not used:"]
        lines += [f"  {d['path']} ({d['stage']}): {d['reason']}" for d in dropped[:TEXT_LIMIT]]
        if len(dropped) > TEXT_LIMIT:
            lines.append(f"  … and {len(dropped) - TEXT_LIMIT} more (--format json lists all)")
    return "\n".join(lines) + "\n"


def report_html(manifest: Manifest, out_dir: Path) -> Path:
    """A self-contained folder: index.html with the funnel table and the PNG plots beside it."""
    import html

    images = plots(manifest, out_dir)
    rows = "".join(
        f"<tr><td>{html.escape(s)}</td><td>{c['unit']}</td><td>{c['kept']}</td><td>{c['dropped']}</td>"
        f"<td>{html.escape(', '.join(f'{k}: {v}' for k, v in c['reasons'].items()))}</td></tr>"
        for s, c in funnel(manifest)["stages"].items())
    figures = "".join(f'<img src="{p.name}" alt="{p.stem}" style="max-width:100%">' for p in images)
    dropped = "".join(f"<tr><td>{html.escape(str(d['path']))}</td><td>{d['stage']}</td>"
                      f"<td>{html.escape(str(d['reason']))}</td></tr>" for d in dropped_sources(manifest))
    if dropped:
        dropped = ("<h2>Source files not used</h2><table border=1 cellpadding=4><tr><th>file</th><th>stage</th>"
                   f"<th>reason</th></tr>{dropped}</table>")
    page = out_dir / "index.html"
    page.write_text(
        "<!doctype html><meta charset='utf-8'><title>MicroSim data report</title>"
        "<h1>Data funnel</h1><table border=1 cellpadding=4><tr><th>stage</th><th>unit</th><th>kept</th>"
        f"<th>dropped</th><th>reasons</th></tr>{rows}</table>{dropped}<h2>Distributions</h2>{figures}\n",
        encoding="utf-8")
    return page
