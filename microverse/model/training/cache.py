"""Precompute VAE latents and T5 embeddings once, so training runs neither model per step.

Layout of a cache folder: ``manifest.json`` (model, size, frames: a cache only serves runs with the
same values), ``empty.safetensors`` (the embedding of the empty prompt, used for the 10% text dropout)
and one ``<id>.safetensors`` per example with ``latents`` and ``text``. Files are written atomically
and existing ones are skipped, so an interrupted precompute resumes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from microverse.errors import MicroverseError
from microverse.model.training.data import Record

MANIFEST = "manifest.json"
EMPTY = "empty.safetensors"


@dataclass(frozen=True)
class CacheKey:
    """What the cached tensors depend on; a run uses a cache only when all of it matches."""

    model: str
    height: int
    width: int
    frames: int
    max_sequence_length: int = 512


def default_cache_dir(data: Path, key: CacheKey) -> Path:
    """``<data folder>/.microverse-cache/<H>x<W>x<T>``: beside the data, one per training size."""
    data = Path(data)
    base = data if data.is_dir() else data.parent
    return base / ".microverse-cache" / f"{key.height}x{key.width}x{key.frames}"


def cache_matches(cache_dir: Path, key: CacheKey) -> bool:
    manifest = Path(cache_dir) / MANIFEST
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text())["key"] == asdict(key)


def item_path(cache_dir: Path, record_id: str) -> Path:
    return Path(cache_dir) / f"{record_id}.safetensors"


def precompute(records: list[Record], encoder, cache_dir: Path, key: CacheKey, batch_size: int = 1,
               on_done: Callable[[int], None] = lambda n: None) -> int:
    """Encode every record not yet cached; returns how many were written."""
    from safetensors.torch import save_file

    from microverse.model.training.data import load_clip

    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    manifest = cache_dir / MANIFEST
    if manifest.is_file() and not cache_matches(cache_dir, key):
        raise MicroverseError("cache folder holds a cache for other settings", file=str(manifest),
                              fix="use another --cache folder or delete this one")
    _atomic_json(manifest, {"key": asdict(key), "format": 1})
    if not (cache_dir / EMPTY).is_file():
        _atomic_save(save_file, {"text": encoder.text([""])[0]}, cache_dir / EMPTY)
    todo = [r for r in records if not item_path(cache_dir, r.id).is_file()]
    on_done(len(records) - len(todo))
    for start in range(0, len(todo), batch_size):
        batch = todo[start:start + batch_size]
        import torch

        clips = torch.stack([load_clip(r.video, key.frames, key.height, key.width) for r in batch])
        latents = encoder.video(clips)
        texts = encoder.text([r.prompt for r in batch])
        for record, z, text in zip(batch, latents, texts):
            _atomic_save(save_file, {"latents": z.contiguous(), "text": text.contiguous()},
                         item_path(cache_dir, record.id))
        on_done(len(batch))
    return len(todo)


def _atomic_save(save_file, tensors: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)


def _atomic_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
