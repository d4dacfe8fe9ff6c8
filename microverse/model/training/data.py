"""Training data: the official ``metadata.json`` layout or our parquet export, and clip loading.

``metadata.json`` (official MicroVerse layout) is a list of ``{"id", "video", "prompt"}`` with video
paths relative to the JSON's folder. Parquet files need the same three columns, paths relative to the
parquet's folder; the column names of ``microverse data export``'s ``clips.parquet`` (``clip_id``,
``export.video``) and ``path``/``caption`` are accepted as aliases, and when a ``split`` column exists
only the ``train`` rows are used (the held-out clips must stay out of training).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microverse.errors import MicroverseError

ALIASES = {"id": ("id", "clip_id"), "video": ("video", "export.video", "path", "video_path"),
           "prompt": ("prompt", "caption", "text")}


@dataclass(frozen=True)
class Record:
    id: str
    video: Path
    prompt: str


def load_records(data: Path) -> list[Record]:
    """Every training example of a metadata.json or parquet file, with absolute video paths."""
    data = Path(data)
    if data.is_dir():
        data = data / "metadata.json"
    if not data.is_file():
        raise MicroverseError("training data not found", file=str(data),
                              fix="pass --data with a metadata.json (id, video, prompt) or a .parquet file")
    rows = _read_rows(data)
    records, seen = [], set()
    for k, row in enumerate(rows):
        video, prompt = _field(row, "video"), _field(row, "prompt")
        if not video or prompt is None:
            raise MicroverseError("row needs a video path and a prompt", file=str(data), item=f"row {k}")
        rid = str(_field(row, "id") or Path(video).stem)
        if rid in seen:
            raise MicroverseError(f"duplicate id {rid!r}", file=str(data), item=f"row {k}",
                                  fix="ids name the cache files and must be unique")
        seen.add(rid)
        path = Path(video) if Path(video).is_absolute() else data.parent / video
        records.append(Record(rid, path, str(prompt)))
    if not records:
        raise MicroverseError("no training examples", file=str(data))
    return records


def _read_rows(path: Path) -> list[dict]:
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise MicroverseError("reading parquet needs pyarrow", fix="pip install 'microverse[data]'") from None
        rows = pq.read_table(path).to_pylist()
        return [r for r in rows if r.get("split", "train") == "train"]
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise MicroverseError(f"not valid JSON ({exc})", file=str(path)) from None
    if not isinstance(rows, list):
        raise MicroverseError("expected a JSON list of {id, video, prompt}", file=str(path))
    return rows


def _field(row: dict, name: str):
    for key in ALIASES[name]:
        if row.get(key) is not None:
            return row[key]
    return None


def load_clip(path: Path, frames: int, height: int, width: int):
    """The first ``frames`` frames, resized to cover ``height x width`` and centre-cropped, as a float
    tensor (3, T, H, W) in [-1, 1] — the input range Wan's VAE expects.

    Cover-then-crop keeps the aspect ratio (the official data pipeline does the same).
    """
    import torch
    import torch.nn.functional as F

    from microverse.model.pipelines.video_io import read_video

    try:
        clip = read_video(path, max_frames=frames)
    except Exception as exc:  # noqa: BLE001 - PyAV raises many types for a bad file
        raise MicroverseError(f"cannot decode video ({exc})", file=str(path)) from None
    if len(clip) < frames:
        raise MicroverseError(f"video has {len(clip)} frames, training needs {frames}", file=str(path),
                              fix="lower --frames (4k+1) or drop short clips from the metadata")
    x = torch.from_numpy(np.ascontiguousarray(clip)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    scale = max(height / x.shape[2], width / x.shape[3])
    size = (max(height, round(x.shape[2] * scale)), max(width, round(x.shape[3] * scale)))
    if size != tuple(x.shape[2:]):
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    top, left = (size[0] - height) // 2, (size[1] - width) // 2
    x = x[:, :, top:top + height, left:left + width].clamp(-1, 1)
    return x.permute(1, 0, 2, 3).contiguous()
