"""Read a long-format ratings CSV (``rater,item,label``) for the agreement command.

Why its own reader: the file comes from spreadsheets and other tools, so it must name
the row at fault (missing column, duplicate rating) instead of failing deep inside numpy.
A blank label means the rater skipped the item (a missing rating).
"""

from __future__ import annotations

import csv
from pathlib import Path

from microverse.bench.agreement import Rating
from microverse.errors import MicroverseError

REQUIRED = ("rater", "item", "label")


def read_ratings_csv(path: Path) -> list[Rating]:
    """The ratings in ``path``; clear errors for a missing file, missing columns or duplicates."""
    if not path.is_file():
        raise MicroverseError("ratings file not found", file=str(path), fix="pass a CSV with columns rater,item,label")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise MicroverseError(f"missing column(s) {', '.join(missing)}", file=str(path),
                                  fix="the first line must name the columns rater,item,label")
        reader.fieldnames = header
        ratings: list[Rating] = []
        seen: set[tuple[str, str]] = set()
        for line, row in enumerate(reader, start=2):
            rater, item, label = ((row.get(c) or "").strip() for c in REQUIRED)
            if not rater or not item:
                raise MicroverseError("empty rater or item", file=str(path), item=f"line {line}",
                                      fix="every row needs a rater and an item")
            if (rater, item) in seen:
                raise MicroverseError(f"rater {rater!r} rated item {item!r} twice", file=str(path),
                                      item=f"line {line}", fix="keep one rating per rater and item")
            seen.add((rater, item))
            if label:
                ratings.append((rater, item, label))
    if not ratings:
        raise MicroverseError("no ratings in file", file=str(path), fix="add rows rater,item,label")
    return ratings
