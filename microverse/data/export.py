"""Export the kept clips as a training set in the official MicroVerse layout, and more.

``OUT/metadata.json`` is the official training file (FreedomIntelligence/MicroVerse
``train/README.md``): a JSON array of ``{"id", "video", "prompt"}`` with ``video`` relative to
OUT (``videos/<id>.mp4``). The held-out split goes to ``metadata_test.json`` in the same
layout. Splits are by *source* video (clips of one source never straddle train and test),
decided by a hash of the source id, so a source keeps its split when the dataset grows.
``clips.parquet`` carries every manifest column plus ``split``; ``--webdataset`` also writes
tar shards (``<id>.mp4``, ``<id>.txt`` prompt, ``<id>.json`` metadata); ``README.md`` is the
dataset card (counts, funnel, licences, provenance per source).

Clip files are re-encoded (H.264, CRF 18, yuv420p, upright, border crop applied) from
exactly the clip's frame range; an existing file is kept (rerun = resume).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from fractions import Fraction
from pathlib import Path

import pandas as pd

from microverse.data.manifest import CLIP_KEY, Manifest, decide
from microverse.data.video import iter_frames
from microverse.errors import MicroverseError


def is_test(source_id: str, test_fraction: float) -> bool:
    value = int(hashlib.sha256(f"split:{source_id}".encode()).hexdigest()[:8], 16) / 2**32
    return value < test_fraction


def encode_clip(src: Path, start: int, end: int, out: Path, *, crop: tuple[int, int, int, int] | None = None,
                crf: int = 18) -> int:
    """Write frames ``[start, end)`` of ``src`` to ``out`` (atomic); returns frames written."""
    import av

    with av.open(str(src)) as container:
        rate = container.streams.video[0].average_rate or container.streams.video[0].guessed_rate
    tmp = out.with_name(f".{out.name}.tmp.mp4")
    output = av.open(str(tmp), "w")
    stream = None
    count = 0
    try:
        for _, frame in iter_frames(src, start=start, end=end, fmt="rgb24"):
            if crop is not None:
                x, y, w, h = crop
                frame = frame[y:y + h, x:x + w]
            h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
            frame = frame[:h, :w]
            if stream is None:
                stream = output.add_stream("libx264", rate=Fraction(rate))
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.options = {"crf": str(crf), "preset": "medium"}
            video_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
            video_frame.pts = count
            for packet in stream.encode(video_frame):
                output.mux(packet)
            count += 1
        if stream is not None:
            for packet in stream.encode():
                output.mux(packet)
    finally:
        output.close()
    if count == 0:
        tmp.unlink(missing_ok=True)
        raise MicroverseError("no frames in the clip's range", file=str(src), item=f"{start}-{end}")
    tmp.replace(out)
    return count


class ExportWorker:
    """Engine worker: encode one clip into ``OUT/videos``."""

    def __init__(self, config: dict) -> None:
        self.out = Path(config["out"]) / "videos"
        self.crf = int(config["crf"])
        self.out.mkdir(parents=True, exist_ok=True)

    def __call__(self, clip: dict) -> dict:
        target = self.out / f"{clip[CLIP_KEY]}.mp4"
        if not target.is_file():
            crop = None
            if clip.get("filter.crop_w") is not None:
                crop = tuple(int(clip[f"filter.crop_{k}"]) for k in "xywh")
            encode_clip(Path(clip["path"]), int(clip["start_frame"]), int(clip["end_frame"]), target,
                        crop=crop, crf=self.crf)
        return {"export.keep": True, "export.reason": None, "export.video": f"videos/{target.name}",
                "export.bytes": target.stat().st_size}


def select(manifest: Manifest, prompt_from: str) -> pd.DataFrame:
    """Kept clips with a prompt, joined with their source metadata."""
    clips = decide(manifest.read("clips"))
    if not len(clips):
        return clips
    kept = clips[clips["keep"].astype(bool)].copy()
    sources = manifest.read("sources")
    meta = [c for c in ("path", "title", "description", "channel", "upload_date", "license", "url", "views",
                        "likes", "comments", "filename") if c in sources]
    kept = kept.merge(sources[["source_id", *meta]], on="source_id", how="left")
    if prompt_from == "caption":
        column = "caption.text"
        kept["prompt"] = kept[column] if column in kept else None
    else:
        kept["prompt"] = kept.get("title")
    return kept


def write_metadata(out: Path, frame: pd.DataFrame) -> None:
    for split, name in (("train", "metadata.json"), ("test", "metadata_test.json")):
        part = frame[frame["split"] == split].sort_values(CLIP_KEY)
        entries = [{"id": r[CLIP_KEY], "video": r["export.video"], "prompt": r["prompt"]}
                   for r in part.to_dict("records")]
        (out / name).write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_webdataset(out: Path, frame: pd.DataFrame, shard_size: int = 1000) -> list[Path]:
    """Tar shards per split; tarfile is enough (the webdataset package only adds readers)."""
    written = []
    folder = out / "webdataset"
    folder.mkdir(exist_ok=True)
    for split in ("train", "test"):
        part = frame[frame["split"] == split].sort_values(CLIP_KEY).to_dict("records")
        for shard in range(0, len(part), shard_size):
            path = folder / f"{split}-{shard // shard_size:06d}.tar"
            with tarfile.open(path, "w") as tar:
                for row in part[shard:shard + shard_size]:
                    key = row[CLIP_KEY]
                    meta = {k: row.get(k) for k in ("source_id", "start_frame", "end_frame", "fps", "duration",
                                                    "width", "height", "title", "license", "url")}
                    blobs = {f"{key}.mp4": (out / row["export.video"]).read_bytes(),
                             f"{key}.txt": str(row["prompt"]).encode(),
                             f"{key}.json": json.dumps(meta, default=str).encode()}
                    for name, blob in blobs.items():
                        info = tarfile.TarInfo(name)
                        info.size = len(blob)
                        info.mtime = 0  # byte-identical shards for identical input
                        tar.addfile(info, io.BytesIO(blob))
            written.append(path)
    return written


def dataset_card(out: Path, frame: pd.DataFrame, funnel: dict, stages: dict | None = None) -> Path:
    sources = frame.drop_duplicates("source_id")
    licences = sources["license"].fillna("unknown").value_counts() if "license" in sources else pd.Series(dtype=int)
    lines = [
        "# Dataset card", "",
        f"{len(frame)} clips ({(frame['split'] == 'train').sum()} train, {(frame['split'] == 'test').sum()} test) "
        f"from {len(sources)} source videos, {frame['duration'].sum() / 3600:.2f} hours.",
        "Built with `microverse data` (the MicroSim pipeline of the MicroVerse paper). Training file: "
        "`metadata.json` (`id`, `video`, `prompt`), held-out: `metadata_test.json`; splits are by source video.",
        "", "## Funnel", "", "| stage | kept | dropped | reasons |", "|---|---|---|---|"]
    for stage, c in funnel["stages"].items():
        reasons = ", ".join(f"{k}: {v}" for k, v in c["reasons"].items())
        lines.append(f"| {stage} | {c['kept']} | {c['dropped']} | {reasons} |")
    lines += ["", "## Licences", "", "| licence | sources |", "|---|---|"]
    lines += [f"| {name} | {count} |" for name, count in licences.items()]
    lines += ["", "## Provenance", "", "| source | title | channel | licence | url | clips |", "|---|---|---|---|---|---|"]
    counts = frame["source_id"].value_counts()
    for row in sources.sort_values("source_id").to_dict("records"):
        cells = [row["source_id"], row.get("title") or row.get("filename") or "", row.get("channel") or "",
                 row.get("license") or "unknown", row.get("url") or "", str(counts[row["source_id"]])]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    if stages:
        lines += ["", "## How each stage ran", "", "Last run of each stage (all runs are in the dataset's "
                  "`dataset.json`):", ""]
        for stage, runs in stages.items():
            last = runs[-1]
            settings = ", ".join(f"{k}={v}" for k, v in sorted(last["settings"].items()))
            lines.append(f"- **{stage}** ({last['at']}, {last['processed']} items): {settings}")
    lines += ["", "The clips keep their sources' licences; check each before redistribution.", ""]
    path = out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def export_dataset(manifest: Manifest, out: Path, *, prompt_from: str = "caption", test_fraction: float = 0.1,
                   webdataset: bool = False, shard_size: int = 1000, crf: int = 18, engine: str = "local",
                   workers: int = 1, address: str | None = None, progress=None) -> dict:
    """Encode kept clips and write metadata, parquet, optional shards and the card."""
    from microverse.data import engine as engines
    from microverse.data.manifest import rows_of
    from microverse.data.report import funnel

    if prompt_from not in ("caption", "title"):
        raise MicroverseError(f"unknown prompt source {prompt_from!r}", fix="use caption or title")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    kept = select(manifest, prompt_from)
    if not len(kept):
        raise MicroverseError("no kept clips to export", file=str(manifest.root),
                              fix="run split/filter first, or check `microverse data report`")
    missing = kept["prompt"].isna() | (kept["prompt"].astype(str).str.strip() == "")
    skipped = int(missing.sum())
    kept = kept[~missing].copy()
    if not len(kept):
        raise MicroverseError(f"none of the kept clips has a {prompt_from}", file=str(manifest.root),
                              fix="run `microverse data caption` first, or pass --prompt-from title")
    spec = engines.StageSpec("export", CLIP_KEY, ExportWorker, {"out": str(out), "crf": crf})
    results = {}
    for row in engines.run(spec, rows_of(kept), engine=engine, workers=workers, address=address):
        results[row[CLIP_KEY]] = row
        if progress:
            progress(len(results), len(kept))
    kept["export.video"] = kept[CLIP_KEY].map(lambda k: results[k].get("export.video"))
    kept["export.reason"] = kept[CLIP_KEY].map(lambda k: results[k].get("export.reason"))
    failed = kept["export.video"].isna()
    good = kept[~failed].copy()
    good["split"] = ["test" if is_test(s, test_fraction) else "train" for s in good["source_id"]]
    write_metadata(out, good)
    table = good.drop(columns=["path"], errors="ignore")
    table = table[[CLIP_KEY] + sorted(c for c in table.columns if c != CLIP_KEY)]
    table.sort_values(CLIP_KEY).to_parquet(out / "clips.parquet", index=False)
    shards = write_webdataset(out, good, shard_size) if webdataset else []
    dataset_card(out, good, funnel(manifest), manifest.info().get("stages"))
    return {"exported": int(len(good)), "train": int((good["split"] == "train").sum()),
            "test": int((good["split"] == "test").sum()), "without_prompt": skipped,
            "failed": {k: v for k, v in zip(kept.loc[failed, CLIP_KEY], kept.loc[failed, "export.reason"])},
            "shards": len(shards)}
