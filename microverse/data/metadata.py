"""Source metadata: yt-dlp ``info.json`` (or a plain JSON sidecar) mapped to manifest columns.

The paper keeps title and description (they go into the caption prompt) and views, likes and
comments (Figure 5); we also keep channel, upload date, licence and URL for the dataset card.
"""

from __future__ import annotations

import json
from pathlib import Path

FIELDS = ("title", "description", "channel", "upload_date", "license", "views", "likes", "comments", "url",
          "origin_id")

# yt-dlp key -> our column; first present wins.
_ALIASES = {
    "title": ("title", "fulltitle"),
    "description": ("description",),
    "channel": ("channel", "uploader", "creator"),
    "upload_date": ("upload_date", "release_date"),
    "license": ("license",),
    "views": ("view_count", "views"),
    "likes": ("like_count", "likes"),
    "comments": ("comment_count", "comments"),
    "url": ("webpage_url", "original_url", "url"),
    "origin_id": ("id",),
}


def from_info(info: dict) -> dict:
    """Our metadata columns from a yt-dlp info dict (missing values are None)."""
    out: dict = {}
    for column, keys in _ALIASES.items():
        value = next((info[k] for k in keys if info.get(k) is not None), None)
        if column in ("views", "likes", "comments") and value is not None:
            try:
                value = int(value)
            except (TypeError, ValueError):
                value = None
        elif value is not None:
            value = str(value)
        out[column] = value
    if out["upload_date"] and len(out["upload_date"]) == 8 and out["upload_date"].isdigit():
        d = out["upload_date"]
        out["upload_date"] = f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return out


def sidecar_for(video: Path) -> Path | None:
    """``clip.info.json`` (yt-dlp's name), ``clip.json`` or ``clip.mp4.json`` beside the video."""
    for candidate in (video.with_suffix(".info.json"), video.with_suffix(".json"),
                      video.with_name(video.name + ".json")):
        if candidate.is_file():
            return candidate
    return None


def from_sidecar(video: Path) -> dict:
    """Metadata columns for a local file; an unreadable sidecar is noted, not fatal."""
    path = sidecar_for(video)
    empty = dict.fromkeys(FIELDS)
    if path is None:
        return {**empty, "origin": "local", "metadata_error": None}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        return {**empty, "origin": "local", "metadata_error": f"{path.name}: {exc}"}
    return {**from_info(info), "origin": "yt-dlp" if "extractor" in info else "local", "metadata_error": None}


def is_creative_commons(license_text: str | None) -> bool:
    """YouTube reports 'Creative Commons Attribution license (reuse allowed)'; other sites 'CC BY…'."""
    if not license_text:
        return False
    text = license_text.lower()
    return "creative commons" in text or text.startswith("cc ") or text.startswith("cc-") or text == "cc0"
