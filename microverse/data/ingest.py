"""Ingest local videos into a dataset folder: hash, probe, metadata, and a decision per file.

A source's id is the first 16 hex digits of its SHA-256, so the same bytes under two names
are one source (the second is recorded as a duplicate). Unusable files (empty, corrupt,
audio-only, undecodable, variable frame rate) are kept in the table, dropped, with the reason;
files whose frames need care (rotated, 10-bit) are kept with a note saying what is done.
"""

from __future__ import annotations

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
    """Add rows to the sources table; returns (added, duplicates)."""
    sources = manifest.read("sources")
    known = set(sources["source_id"].astype(str)) if len(sources) else set()
    fresh: list[dict] = []
    duplicates = 0
    for row in rows:
        if row["source_id"] in known:
            duplicates += 1
            continue
        known.add(row["source_id"])
        fresh.append(row)
    if fresh:
        frame = pd.DataFrame(fresh)
        sources = frame if not len(sources) else pd.concat([sources, frame], ignore_index=True)
        manifest.write("sources", sources)
    return len(fresh), duplicates


def ingest_local(manifest: Manifest, paths: Iterable[Path], *, allow_vfr: bool = False,
                 on_file: Callable[[Path], None] | None = None, batch: int = 64) -> dict:
    """Ingest files in batches (each batch persisted); files already ingested by path are skipped."""
    sources = manifest.read("sources")
    seen_paths = set(sources["path"].astype(str)) if "path" in sources else set()
    added = duplicates = skipped = 0
    pending: list[dict] = []
    for path in discover(paths):
        if on_file:
            on_file(path)
        if str(path) in seen_paths:
            skipped += 1
            continue
        pending.append(describe(path, allow_vfr=allow_vfr))
        if len(pending) >= batch:
            a, d = ingest_rows(manifest, pending)
            added, duplicates, pending = added + a, duplicates + d, []
    a, d = ingest_rows(manifest, pending)
    write_dataset_info(manifest, {"origin": "local", "allow_vfr": allow_vfr}, added + a)
    return {"added": added + a, "duplicates": duplicates + d, "already_ingested": skipped}


def write_dataset_info(manifest: Manifest, settings: dict, processed: int) -> None:
    manifest.record_run("ingest", settings, processed)


def open_dataset(root: Path) -> Manifest:
    """The manifest of an ingested dataset folder, or a clean error saying how to make one."""
    manifest = Manifest(Path(root))
    if not manifest.exists:
        raise MicroverseError("not a dataset folder (no manifest/sources.parquet)", file=str(root),
                              fix="create it with `microverse data ingest SOURCES... --out DIR`")
    return manifest
