"""The expert check (paper: 12,194 -> 9,601 clips): a review sheet out, the verdicts back in.

``export`` writes ``review.csv`` (one row per clip still in the running and not reviewed yet,
with its scores and an empty ``verdict``) and a contact sheet per clip (8 frames, 4x2, JPEG)
for reviewers to look at in any spreadsheet or file browser. ``import`` reads the filled
sheet: ``keep``/``drop`` (or yes/no, 1/0, accept/reject) per row, an optional ``note``
becoming the drop reason and ``reviewer``; blank verdicts stay pending.
The web UI can reuse both functions (same CSV columns).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from microverse.data.manifest import CLIP_KEY, Manifest
from microverse.data.pipeline import clip_items
from microverse.data.sheet import read_sheet
from microverse.data.video import even_indices, sample_frames
from microverse.errors import MicroverseError

KEEP = {"keep", "yes", "y", "1", "accept", "accepted", "ok", "true"}
DROP = {"drop", "no", "n", "0", "reject", "rejected", "false"}
COLUMNS = ["clip_id", "source_id", "title", "start_s", "end_s", "duration", "contact_sheet", "classify.p_micro",
           "filter.motion", "verdict", "note", "reviewer"]


def contact_sheet(path: Path, start: int, end: int, out: Path, *, frames: int = 8, width: int = 240,
                  columns: int = 4) -> Path:
    """A grid of ``frames`` evenly spaced frames of ``[start, end)``, saved as JPEG."""
    images = [Image.fromarray(a) for a in sample_frames(path, even_indices(start, end, frames), width=width)]
    w, h = images[0].size
    rows = (len(images) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * w, rows * h), (0, 0, 0))
    for k, img in enumerate(images):
        sheet.paste(img, ((k % columns) * w, (k // columns) * h))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.jpg")
    sheet.save(tmp, quality=85)
    tmp.replace(out)
    return out


def export_sheet(manifest: Manifest, out_dir: Path, *, frames: int = 8,
                 progress: Callable[[int, int], None] | None = None) -> Path:
    """Write review.csv and contact sheets for every clip awaiting review; returns the CSV path."""
    items = clip_items(manifest, "review", source_columns=("path", "title"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sheet_path = out_dir / "review.csv"
    with open(sheet_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for done, item in enumerate(items, start=1):
            image = out_dir / "sheets" / f"{item[CLIP_KEY]}.jpg"
            if not image.is_file():  # resumable: sheets already made are kept
                contact_sheet(Path(item["path"]), int(item["start_frame"]), int(item["end_frame"]), image,
                              frames=frames)
            writer.writerow({**item, "contact_sheet": str(image.relative_to(out_dir)), "verdict": "", "note": "",
                             "reviewer": ""})
            if progress:
                progress(done, len(items))
    return sheet_path


def import_sheet(manifest: Manifest, sheet: Path) -> dict:
    """Apply filled verdicts to the manifest; returns counts. Unknown clips or verdicts fail by line."""
    sheet = Path(sheet)
    if not sheet.is_file():
        raise MicroverseError("review sheet not found", file=str(sheet))
    known = set(manifest.read("clips")[CLIP_KEY])
    rows, pending = [], 0
    fields, sheet_rows = read_sheet(sheet)
    if not {"clip_id", "verdict"} <= set(fields):
        raise MicroverseError("needs clip_id and verdict columns", file=str(sheet))
    for line, row in enumerate(sheet_rows, start=2):
        verdict = (row.get("verdict") or "").strip().lower()
        if not verdict:
            pending += 1
            continue
        if verdict not in KEEP | DROP:
            raise MicroverseError(f"verdict {row['verdict']!r} is neither keep nor drop", file=str(sheet),
                                  item=f"line {line}", fix="write keep or drop")
        clip = (row.get("clip_id") or "").strip()
        if clip not in known:
            raise MicroverseError(f"unknown clip {clip!r}", file=str(sheet), item=f"line {line}")
        keep = verdict in KEEP
        note = (row.get("note") or "").strip() or None
        rows.append({CLIP_KEY: clip, "review.keep": keep, "review.note": note,
                     "review.reviewer": (row.get("reviewer") or "").strip() or None,
                     "review.reason": None if keep else f"expert: {note or 'rejected'}"})
    manifest.append("review", rows)
    manifest.fold("clips", "review", CLIP_KEY)
    if rows:
        reviewers = sorted({r["review.reviewer"] for r in rows if r["review.reviewer"]})
        manifest.record_run("review", {"sheet": str(sheet), "reviewers": reviewers}, len(rows))
    return {"kept": sum(r["review.keep"] for r in rows), "dropped": sum(not r["review.keep"] for r in rows),
            "pending": pending}
