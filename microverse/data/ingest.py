"""Ingest local videos into a dataset folder: hash, probe, metadata, and a decision per file.

A source's id is the first 16 hex digits of its SHA-256, so the same bytes under two names
are one source (the second is recorded as a duplicate). Unusable files (empty, corrupt,
audio-only, undecodable, variable frame rate) are kept in the table, dropped, with the reason;
files whose frames need care (rotated, 10-bit) are kept with a note saying what is done.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from microverse.data.manifest import Manifest
from microverse.data.metadata import from_sidecar
from microverse.data.video import VIDEO_SUFFIXES, VideoError, content_hash, probe
from microverse.errors import MicroverseError

PROBE_FIELDS = ("width", "height", "fps", "frames", "duration", "rotation", "codec", "pix_fmt", "bit_depth",
                "vfr", "has_audio")


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Video files under the given files/folders, in a stable order."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in VIDEO_SUFFIXES:
                    yield child.resolve()
        elif path.is_file():
            yield path.resolve()
        else:
            raise MicroverseError("no such file or folder", file=str(path),
                                  fix="give local video files or folders (or URLs/ytsearch: queries)")


def describe(path: Path, *, allow_vfr: bool = False) -> dict:
    """One sources row for a file on disk (never raises for a bad video: the row says why)."""
    size = path.stat().st_size
    row: dict = {"path": str(path), "filename": path.name, "bytes": int(size)}
    row["sha256"] = content_hash(path)
    row["source_id"] = row["sha256"][:16]
    row.update(from_sidecar(path))
    try:
        facts = probe(path)
    except VideoError as exc:
        row.update({"ingest.keep": False, "ingest.reason": str(exc), "ingest.notes": None})
        return row
    for name in PROBE_FIELDS:
        row[f"probe.{name}"] = getattr(facts, name)
    notes = facts.notes()
    if facts.vfr and not allow_vfr:
        row.update({"ingest.keep": False, "ingest.notes": "; ".join(notes) or None,
                    "ingest.reason": "variable frame rate (frame-accurate cuts need a constant rate: "
                                     "re-encode with ffmpeg -fps_mode cfr, or pass --allow-vfr)"})
        return row
    if facts.vfr:
        notes.append("variable frame rate (frame numbers follow the average rate)")
    row.update({"ingest.keep": True, "ingest.reason": None, "ingest.notes": "; ".join(notes) or None})
    return row


def ingest_rows(manifest: Manifest, rows: Iterable[dict]) -> tuple[int, int]:
    """Add rows to the sources table; returns (added, duplicates).

    Of files with the same bytes the one with the smallest path is kept, whatever order the
    workers finished in, so the table does not depend on scheduling.
    """
    sources = manifest.read("sources")
    by_id = {r["source_id"]: r for r in sources.to_dict("records")} if len(sources) else {}
    added = duplicates = 0
    changed = False
    for row in rows:
        known = by_id.get(row["source_id"])
        if known is not None:
            duplicates += 1
            if row.get("path") and known.get("path") and str(row["path"]) < str(known["path"]):
                by_id[row["source_id"]] = row
                changed = True
            continue
        by_id[row["source_id"]] = row
        added += 1
        changed = True
    if changed:
        manifest.write("sources", pd.DataFrame(list(by_id.values())))
    return added, duplicates


class IngestWorker:
    """Engine worker: hash and probe one file (an unreadable file gets a row saying so)."""

    def __init__(self, config: dict) -> None:
        self.allow_vfr = bool(config["allow_vfr"])

    def __call__(self, item: dict) -> dict:
        path = Path(item["path"])
        try:
            return describe(path, allow_vfr=self.allow_vfr)
        except Exception as exc:  # every file gets a row; this one is keyed by its path
            key = hashlib.sha256(f"path:{path}".encode()).hexdigest()[:16]
            detail = getattr(exc, "strerror", None) or f"{exc.__class__.__name__}: {exc}"
            return {"source_id": key, "path": str(path), "filename": path.name, **from_sidecar(path),
                    "ingest.keep": False, "ingest.reason": f"unreadable file ({detail})", "ingest.notes": None}


def ingest_local(manifest: Manifest, paths: Iterable[Path], *, allow_vfr: bool = False, engine: str = "local",
                 workers: int = 1, address: str | None = None,
                 on_file: Callable[[int, int], None] | None = None, batch: int = 64) -> dict:
    """Hash and probe files (in parallel with ``workers``), persisting every ``batch`` results.

    Files already ingested (same path) are skipped, so a rerun resumes.
    """
    from microverse.data import engine as engines

    sources = manifest.read("sources")
    seen_paths = set(sources["path"].astype(str)) if "path" in sources else set()
    files = list(discover(paths))
    todo = [{"path": str(p)} for p in files if str(p) not in seen_paths]
    spec = engines.StageSpec("ingest", "path", IngestWorker, {"allow_vfr": allow_vfr})
    added = duplicates = done = 0
    pending: list[dict] = []
    try:
        for row in engines.run(spec, todo, engine=engine, workers=workers, address=address):
            pending.append(row)
            done += 1
            if on_file:
                on_file(done, len(todo))
            if len(pending) >= batch:
                full, pending = pending, []
                a, d = ingest_rows(manifest, full)
                added, duplicates = added + a, duplicates + d
    finally:  # also on Ctrl-C: files already hashed and probed are not redone by the rerun
        a, d = ingest_rows(manifest, pending)
        added, duplicates = added + a, duplicates + d
    write_dataset_info(manifest, {"origin": "local", "allow_vfr": allow_vfr, "engine": engine, "workers": workers},
                       added)
    return {"added": added, "duplicates": duplicates, "already_ingested": len(files) - len(todo)}


def write_dataset_info(manifest: Manifest, settings: dict, processed: int) -> None:
    manifest.record_run("ingest", settings, processed)


def open_dataset(root: Path) -> Manifest:
    """The manifest of an ingested dataset folder, or a clean error saying how to make one."""
    manifest = Manifest(Path(root))
    if not manifest.exists:
        raise MicroverseError("not a dataset folder (no manifest/sources.parquet)", file=str(root),
                              fix="create it with `microverse data ingest SOURCES... --out DIR`")
    return manifest
