"""The manifest: the contract between pipeline stages, two parquet tables in ``DATASET_DIR/manifest``.

``sources.parquet``: one row per source video (``source_id`` = first 16 hex digits of the
file's SHA-256, so the id survives renames and duplicates collapse), its metadata, probe facts
and the ingest decision.  ``clips.parquet``: one row per clip (``clip_id`` =
``<source_id>-<start>-<end>``, frames ``[start, end)``), with every stage's scores as
``<stage>.<name>`` columns and each stage's decision as ``<stage>.keep`` / ``<stage>.reason``.

Crash safety and resume: a stage never rewrites the tables while it runs. It appends its
results in small part files under ``manifest/work/<stage>/`` (each written to a temporary
name and renamed, so a part is whole or absent); a rerun counts those rows as done. When the
stage finishes, the parts are folded into the table (atomic replace) and removed; folding is
idempotent, so a crash between the two steps is harmless.
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from pandas.api.types import is_float_dtype, is_integer_dtype

SOURCE_KEY = "source_id"
CLIP_KEY = "clip_id"
# Clip stages in pipeline order; a clip is eligible for a stage when no earlier stage dropped it.
CLIP_STAGES = ("classify", "filter", "review", "caption")


def clip_id(source_id: str, start: int, end: int) -> str:
    return f"{source_id}-{start:07d}-{end:07d}"


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


class Manifest:
    """Read, extend and fold the two tables of one dataset folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / "manifest"

    # -- tables -------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return (self.dir / "sources.parquet").is_file()

    def path(self, table: str) -> Path:
        return self.dir / f"{table}.parquet"

    def read(self, table: str) -> pd.DataFrame:
        path = self.path(table)
        if not path.is_file():
            key = SOURCE_KEY if table == "sources" else CLIP_KEY
            return pd.DataFrame({key: pd.Series([], dtype="string")})
        return pd.read_parquet(path)

    def write(self, table: str, frame: pd.DataFrame) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        key = SOURCE_KEY if table == "sources" else CLIP_KEY
        # Sorted rows and columns: the same results give the same file, whatever engine ran.
        frame = frame[[key] + sorted(c for c in frame.columns if c != key)]
        frame = frame.sort_values(key, kind="stable").reset_index(drop=True)
        _write_atomic(frame, self.path(table))

    # -- provenance ---------------------------------------------------------------------
    def info(self) -> dict:
        """``dataset.json``: format, version, and per stage the settings of its runs."""
        path = self.root / "dataset.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def record_run(self, stage: str, settings: dict, processed: int) -> None:
        """Remember how a stage ran (settings, count, time), for the dataset card and audits."""
        from datetime import datetime, timezone

        from microverse import __version__

        info = self.info()
        info.setdefault("format", "microverse-data/1")
        info["microverse_version"] = __version__
        runs = info.setdefault("stages", {}).setdefault(stage, [])
        runs.append({"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "processed": processed,
                     "settings": settings})
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".dataset.json.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, self.root / "dataset.json")

    # -- work parts ---------------------------------------------------------------------
    def _work(self, stage: str) -> Path:
        return self.dir / "work" / stage

    def append(self, stage: str, rows: list[dict]) -> None:
        """Persist finished rows of a running stage (whole part or nothing)."""
        if not rows:
            return
        folder = self._work(stage)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        # One JSON text per row: parts never disagree on a schema, whatever a batch held.
        _write_atomic(pd.DataFrame({"row": [json.dumps(r, sort_keys=True) for r in rows]}), folder / name)

    def parts(self, stage: str, key: str) -> pd.DataFrame | None:
        """The unfolded rows, last result per key, sorted: the same rows give the same frame."""
        folder = self._work(stage)
        files = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
        if not files:
            return None
        rows: dict[str, dict] = {}
        for f in files:
            for text in pd.read_parquet(f)["row"]:
                row = json.loads(text)
                rows[str(row[key])] = row
        return pd.DataFrame([rows[k] for k in sorted(rows)])

    def clear_parts(self, stage: str) -> None:
        folder = self._work(stage)
        for f in folder.glob("part-*.parquet") if folder.is_dir() else []:
            f.unlink()

    def fold(self, table: str, stage: str, key: str, replace_rows: bool = False) -> pd.DataFrame:
        """Merge a stage's parts into ``table``: new columns per key, or new rows (``replace_rows``)."""
        parts = self.parts(stage, key)
        base = self.read(table)
        if parts is not None and len(parts):
            if replace_rows:
                base = pd.concat([base[~base[key].isin(parts[key])], parts], ignore_index=True)
            else:
                base = update_columns(base, parts, key)
            self.write(table, base)
        self.clear_parts(stage)
        return self.read(table)

    def done_keys(self, table: str, stage: str, key: str) -> set[str]:
        """Keys a stage already decided, in the table or in unfolded parts."""
        done: set[str] = set()
        base = self.read(table)
        column = f"{stage}.keep"
        if column in base:
            done.update(base.loc[base[column].notna(), key].astype(str))
        parts = self.parts(stage, key)
        if parts is not None and key in parts:
            done.update(parts[key].astype(str))
        return done

    def reset_stage(self, table: str, stage: str) -> None:
        """Forget a stage's results (``--redo``)."""
        self.clear_parts(stage)
        base = self.read(table)
        drop = [c for c in base.columns if c.startswith(f"{stage}.")]
        if drop:
            self.write(table, base.drop(columns=drop))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def update_columns(base: pd.DataFrame, new: pd.DataFrame, key: str) -> pd.DataFrame:
    """Set ``new``'s columns on the matching rows of ``base`` (other rows keep what they had).

    A None in ``new`` overwrites (a stage that now finds no reason must clear the old one),
    which is why this is not ``DataFrame.update``/``combine_first``.
    """
    new = new.set_index(key)
    out = base.set_index(key)
    common = new.index.intersection(out.index)
    for column in new.columns:
        # Missing is always None before dtypes are inferred, and an integer column an earlier fold
        # left with gaps (stored as float) goes back to ints: a stage folded in several goes (a
        # resumed run) ends with the same dtypes as one folded at once. Only whole numbers go back:
        # a float column that happens to receive ints keeps its fractions.
        old = out[column] if column in out else None
        values = [None] * len(out) if old is None else [None if _missing(v) else v for v in old.astype(object)]
        if old is not None and is_float_dtype(old) and is_integer_dtype(new[column]) \
                and all(v is None or float(v).is_integer() for v in values):
            values = [None if v is None else int(v) for v in values]
        merged = pd.Series(values, index=out.index, dtype=object)
        merged.loc[common] = [None if _missing(v) else v for v in new.loc[common, column].astype(object)]
        out[column] = merged
    return out.reset_index().infer_objects()


def eligible(clips: pd.DataFrame, stage: str) -> pd.Series:
    """Clips no stage before ``stage`` dropped (stages that did not run do not count)."""
    mask = pd.Series(True, index=clips.index)
    for earlier in CLIP_STAGES[: CLIP_STAGES.index(stage)]:
        column = f"{earlier}.keep"
        if column in clips:
            mask &= clips[column].fillna(True).astype(bool)
    return mask


def decide(clips: pd.DataFrame) -> pd.DataFrame:
    """Overall ``keep`` and ``reason`` per clip: the first stage that dropped it, in pipeline order."""
    keep = pd.Series(True, index=clips.index)
    reason = pd.Series([None] * len(clips), index=clips.index, dtype=object)
    for stage in CLIP_STAGES:
        column = f"{stage}.keep"
        if column not in clips:
            continue
        dropped = keep & (clips[column].fillna(True).astype(bool) == False)  # noqa: E712
        why = clips.get(f"{stage}.reason", pd.Series([None] * len(clips), index=clips.index))
        reason[dropped] = [f"{stage}: {r}" for r in why[dropped].fillna("dropped")]
        keep &= ~dropped
    out = clips.copy()
    out["keep"] = keep
    out["reason"] = reason
    return out


def rows_of(frame: pd.DataFrame) -> Iterable[dict]:
    """Plain-dict rows (NaN -> None) to hand to workers."""
    for record in frame.to_dict("records"):
        yield {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}
