"""Collect videos with yt-dlp under the paper's rules: >= 720p and a Creative Commons licence.

Every candidate becomes a sources row, accepted or not, so the funnel shows why videos were
left out. Accepted videos are downloaded (video stream only: merging audio would need an
ffmpeg binary and clips carry no sound) with their ``.info.json`` beside them, then ingested
like local files with the metadata attached.

Recorded ``*.info.json`` files (``yt-dlp --write-info-json --skip-download``, or a previous
run) can be given as sources too: they pass the same rules offline, and a video file with the
same name beside one is ingested with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from microverse.data.ingest import describe, ingest_rows, write_dataset_info
from microverse.data.manifest import Manifest
from microverse.data.metadata import FIELDS, from_info, is_creative_commons
from microverse.data.video import VIDEO_SUFFIXES
from microverse.errors import MicroverseError


def best_height(info: dict) -> int | None:
    """The resolution a download can reach: the short side of the best video format."""
    sizes = [(f.get("width"), f.get("height")) for f in info.get("formats") or [] if f.get("vcodec") != "none"]
    sizes.append((info.get("width"), info.get("height")))
    sides = [min(w, h) if w and h else h for w, h in sizes if h]
    return max(sides) if sides else None


def rejection(info: dict, *, min_height: int = 720, creative_commons: bool = True) -> str | None:
    """Why a candidate fails the paper's rules, or None if it passes."""
    if creative_commons and not is_creative_commons(info.get("license")):
        return f"licence not Creative Commons ({info.get('license') or 'none stated'})"
    height = best_height(info)
    if height is None:
        return "resolution unknown (no format sizes in the metadata)"
    if height < min_height:
        return f"resolution below {min_height}p ({height}p)"
    return None


def candidate_id(info: dict) -> str:
    key = f"{info.get('extractor_key') or info.get('extractor') or 'web'}:{info.get('id') or info.get('webpage_url')}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def metadata_row(info: dict, reason: str | None) -> dict:
    """A sources row for a candidate that was not (or not yet) downloaded."""
    return {"source_id": candidate_id(info), "path": None, "filename": None, "bytes": None, "sha256": None,
            **from_info(info), "origin": "yt-dlp", "metadata_error": None, "ingest.keep": False,
            "ingest.reason": reason or "not downloaded (--info-only)", "ingest.notes": None}


def _with_metadata(row: dict, info: dict) -> dict:
    row.update({k: v for k, v in from_info(info).items() if k in FIELDS})
    row["origin"] = "yt-dlp"
    return row


def ingest_info_files(manifest: Manifest, paths: Iterable[Path], *, min_height: int = 720,
                      creative_commons: bool = True, allow_vfr: bool = False) -> dict:
    """Apply the rules to recorded info.json files; ingest a video lying beside an accepted one."""
    rows, counts = [], {"accepted": 0, "rejected": 0, "without_video": 0}
    for path in paths:
        try:
            info = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MicroverseError(f"not a readable info.json ({exc})", file=str(path)) from None
        reason = rejection(info, min_height=min_height, creative_commons=creative_commons)
        stem = Path(path).name[: -len(".info.json")] if str(path).endswith(".info.json") else Path(path).stem
        video = next((p for p in sorted(Path(path).parent.glob(f"{stem}.*")) if p.suffix.lower() in VIDEO_SUFFIXES),
                     None)
        if reason:
            counts["rejected"] += 1
            rows.append(metadata_row(info, reason))
        elif video is None:
            counts["without_video"] += 1
            rows.append(metadata_row(info, None))
        else:
            counts["accepted"] += 1
            rows.append(_with_metadata(describe(video.resolve(), allow_vfr=allow_vfr), info))
    added, duplicates = ingest_rows(manifest, rows)
    write_dataset_info(manifest, {"origin": "info.json", "min_height": min_height,
                                  "creative_commons": creative_commons}, added)
    return {**counts, "added": added, "duplicates": duplicates}


def _entries(info: dict) -> Iterable[dict]:
    if info.get("_type") in ("playlist", "multi_video") or "entries" in info:
        for entry in info.get("entries") or []:
            if entry:
                yield from _entries(entry)
    else:
        yield info


def ingest_remote(manifest: Manifest, sources: list[str], *, min_height: int = 720, creative_commons: bool = True,
                  download: bool = True, allow_vfr: bool = False,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """Search/URL candidates through yt-dlp; rules first, then download what passes."""
    info_files = [Path(s) for s in sources if s.endswith(".info.json")]
    urls = [s for s in sources if not s.endswith(".info.json")]
    summary = {}
    if info_files:
        summary["recorded"] = ingest_info_files(manifest, info_files, min_height=min_height,
                                                creative_commons=creative_commons, allow_vfr=allow_vfr)
    if not urls:
        return summary
    import yt_dlp

    target = manifest.root / "downloads"
    options = {
        "quiet": True, "no_warnings": True, "noprogress": True, "writeinfojson": True,
        "outtmpl": str(target / "%(id)s.%(ext)s"),
        # video stream only (no ffmpeg merge needed), at least min_height on the short side
        "format": f"bv*[height>={min_height}][ext=mp4]/bv*[height>={min_height}]/b[height>={min_height}]",
        "ignoreerrors": True,
    }
    rows: list[dict] = []
    counts = {"candidates": 0, "accepted": 0, "rejected": 0, "failed": 0}
    with yt_dlp.YoutubeDL(options) as ydl:
        for url in urls:
            top = ydl.extract_info(url, download=False)
            if top is None:
                counts["failed"] += 1
                continue
            for info in _entries(top):
                counts["candidates"] += 1
                if progress:
                    progress(counts["candidates"], 0)
                reason = rejection(info, min_height=min_height, creative_commons=creative_commons)
                if reason or not download:
                    counts["rejected" if reason else "accepted"] += 1
                    rows.append(metadata_row(info, reason))
                    continue
                result = ydl.process_ie_result(info, download=True)
                files = [d.get("filepath") for d in (result or {}).get("requested_downloads") or []]
                if not files or not files[0] or not Path(files[0]).is_file():
                    counts["failed"] += 1
                    rows.append(metadata_row(info, "download failed"))
                    continue
                counts["accepted"] += 1
                rows.append(_with_metadata(describe(Path(files[0]).resolve(), allow_vfr=allow_vfr), info))
    added, duplicates = ingest_rows(manifest, rows)
    write_dataset_info(manifest, {"origin": "yt-dlp", "sources": urls, "min_height": min_height,
                                  "creative_commons": creative_commons, "download": download}, added)
    summary["yt-dlp"] = {**counts, "added": added, "duplicates": duplicates}
    return summary
