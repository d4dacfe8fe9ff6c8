"""Run a stage over a dataset folder: pick the unfinished items, run them on an engine, fold.

Every stage goes through :func:`run_stage`, so resume, quarantine and engine choice behave
the same everywhere: items already decided (in the table or in unfolded parts) are skipped,
results are persisted in small batches while the stage runs, and the folded table is sorted,
so both engines produce identical files.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from microverse.data import engine as engines
from microverse.data.manifest import CLIP_KEY, SOURCE_KEY, Manifest, eligible, rows_of, update_columns

Progress = Callable[[int, int], None]  # (done, total)


def _execute(manifest: Manifest, spec: engines.StageSpec, items: list[dict], *, engine: str, workers: int,
             address: str | None, progress: Progress | None) -> int:
    total = len(items)
    done = 0

    def tick(_row: dict) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    if progress:
        progress(0, total)
    rows = engines.run(spec, items, engine=engine, workers=workers, address=address)
    count = engines.stream_to(lambda batch: manifest.append(spec.name, batch), rows, on_row=tick,
                              every=max(1, min(32, workers * 4)))
    if count:
        manifest.record_run(spec.name, {**spec.config, "engine": engine, "workers": workers}, count)
    return count


def split_sources(manifest: Manifest, worker: type, config: dict, *, engine: str = "local", workers: int = 1,
                  address: str | None = None, redo: bool = False, progress: Progress | None = None,
                  num_gpus: float = 0.0) -> dict:
    """Split every ingested, kept source not split yet; clips land in ``clips.parquet``."""
    if redo:
        manifest.reset_stage("sources", "split")
        manifest.write("clips", manifest.read("clips").iloc[0:0])
    fold_split(manifest)  # parts left by a crashed run
    sources = manifest.read("sources")
    done = manifest.done_keys("sources", "split", SOURCE_KEY)
    todo = sources[sources["ingest.keep"].fillna(False).astype(bool) & ~sources[SOURCE_KEY].isin(done)]
    spec = engines.StageSpec("split", SOURCE_KEY, worker, config, num_gpus=num_gpus)
    count = _execute(manifest, spec, list(rows_of(todo)), engine=engine, workers=workers, address=address,
                     progress=progress)
    fold_split(manifest)
    return {"processed": count, "skipped": int(len(sources) - len(todo))}


def fold_split(manifest: Manifest) -> None:
    """Explode finished split rows into clips (idempotent: clips of a source are replaced)."""
    parts = manifest.parts("split", SOURCE_KEY)
    if parts is None:
        return
    clips = [clip for value in parts.get("split.clips", pd.Series(dtype=object)) for clip in (value or [])]
    base = manifest.read("clips")
    done_sources = set(parts[SOURCE_KEY])
    if "source_id" in base:
        base = base[~base["source_id"].isin(done_sources)]
    new = pd.DataFrame(clips)
    manifest.write("clips", new if not len(base) else pd.concat([base, new], ignore_index=True))
    summary = parts.drop(columns=["split.clips"], errors="ignore").copy()
    summary["split.clips"] = [len(v or []) for v in parts.get("split.clips", [[]] * len(parts))]
    manifest.write("sources", update_columns(manifest.read("sources"), summary, SOURCE_KEY))
    manifest.clear_parts("split")


def clip_items(manifest: Manifest, stage: str, *, redo: bool = False,
               source_columns: tuple[str, ...] = ("path",)) -> list[dict]:
    """Clips eligible for ``stage`` and not yet decided, with the source columns workers need."""
    if redo:
        manifest.reset_stage("clips", stage)
    manifest.fold("clips", stage, CLIP_KEY)
    clips = manifest.read("clips")
    if not len(clips) or "source_id" not in clips:
        return []
    done = manifest.done_keys("clips", stage, CLIP_KEY)
    todo = clips[eligible(clips, stage) & ~clips[CLIP_KEY].isin(done)]
    sources = manifest.read("sources")
    wanted = [c for c in source_columns if c in sources]
    todo = todo.merge(sources[[SOURCE_KEY, *wanted]], on=SOURCE_KEY, how="left",
                      suffixes=("", "_source"))
    return list(rows_of(todo))


def run_clip_stage(manifest: Manifest, stage: str, worker: type, config: dict, *, engine: str = "local",
                   workers: int = 1, address: str | None = None, redo: bool = False,
                   progress: Progress | None = None, num_gpus: float = 0.0, batch_size: int = 1,
                   source_columns: tuple[str, ...] = ("path",), items: list[dict] | None = None) -> dict:
    """Run a clip stage on every eligible, unfinished clip and fold its columns into the table."""
    if items is None:
        items = clip_items(manifest, stage, redo=redo, source_columns=source_columns)
    spec = engines.StageSpec(stage, CLIP_KEY, worker, config, num_gpus=num_gpus, batch_size=batch_size)
    count = _execute(manifest, spec, items, engine=engine, workers=workers, address=address, progress=progress)
    manifest.fold("clips", stage, CLIP_KEY)
    return {"processed": count}
