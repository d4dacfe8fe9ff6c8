"""Split source videos into clips at shot changes, frame-accurately.

Two detectors behind one worker:

* ``content`` (default, offline, no weights): PySceneDetect's ContentDetector on every frame,
  downscaled in the decoder to ``width`` pixels (the HSV difference of adjacent frames).
* ``clip``: the paper's rule, cosine similarity of adjacent frame embeddings below
  ``similarity`` (0.85), with a CLIP vision model from a hub id or local path. Embedding
  every frame is wasteful, so frames are embedded every ``stride`` frames and, where two
  samples look different (below the threshold plus a margin), every frame between them is
  embedded and the cut is put at the least similar adjacent pair if that pair is below the
  threshold: the cut is exact to the frame at a fraction of the cost.

Cuts closer than ``min_clip`` seconds to the previous one are ignored (PySceneDetect's
``min_scene_len`` rule); scenes longer than ``max_clip`` seconds are cut into equal parts.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from microverse.data.hf import quiet_transformers
from microverse.data.manifest import clip_id
from microverse.data.video import iter_frames

DETECTORS = ("content", "clip")


def split_config(*, detector: str = "content", threshold: float | None = None, clip_model: str | None = None,
                 min_clip: float = 1.0, max_clip: float = 60.0, width: int = 160, sample_fps: float = 4.0,
                 batch_size: int = 32, device: str = "cpu", fast_decode: bool = True, threads: bool = True) -> dict:
    if detector not in DETECTORS:
        raise ValueError(f"unknown detector {detector!r}")
    if threshold is None:
        threshold = 27.0 if detector == "content" else 0.85
    return {"detector": detector, "threshold": float(threshold), "clip_model": clip_model,
            "min_clip": float(min_clip), "max_clip": float(max_clip), "width": int(width),
            "sample_fps": float(sample_fps), "batch_size": int(batch_size), "device": device,
            "fast_decode": bool(fast_decode), "threads": bool(threads)}


def _content_cuts(path: Path, fps: float, config: dict) -> tuple[list[tuple[int, float]], int]:
    from scenedetect.common import FrameTimecode
    from scenedetect.detectors import ContentDetector

    min_frames = max(1, int(round(config["min_clip"] * fps)))
    detector = ContentDetector(threshold=config["threshold"], min_scene_len=min_frames)
    cuts: list[tuple[int, float]] = []
    count = 0
    last = None
    for index, bgr in iter_frames(path, width=config["width"], fmt="bgr24", fast=config["fast_decode"],
                                  threads=config["threads"]):
        last = FrameTimecode(index, fps)
        for cut in detector.process_frame(last, bgr):
            cuts.append((int(cut.frame_num), float(detector._frame_score or 0.0)))
        count = index + 1
    if last is not None:
        for cut in detector.post_process(last):
            cuts.append((int(cut.frame_num), 0.0))
    return [(c, s) for c, s in cuts if 0 < c < count], count


class ClipEmbedder:
    """L2-normalised CLIP image embeddings (hub id or local folder; tiny random models in tests)."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        import torch
        from transformers import CLIPVisionModelWithProjection

        try:  # the PIL processor where transformers has one: the default one wants torchvision
            from transformers import CLIPImageProcessorPil as CLIPImageProcessor
        except ImportError:
            from transformers import CLIPImageProcessor

        self.torch = torch
        self.device = device
        with quiet_transformers():
            self.model = CLIPVisionModelWithProjection.from_pretrained(model).to(device).eval()
        self.size = int(self.model.config.image_size)
        try:
            self.processor = CLIPImageProcessor.from_pretrained(model)
        except OSError:  # a bare model folder: CLIP's standard preprocessing at the model's size
            size = self.model.config.image_size
            self.processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})

    def __call__(self, frames: list[np.ndarray]) -> np.ndarray:
        with self.torch.inference_mode():
            inputs = self.processor(images=frames, return_tensors="pt").to(self.device)
            emb = self.model(**inputs).image_embeds.float()
            emb = emb / emb.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return emb.cpu().numpy()


def _clip_cuts(path: Path, fps: float, config: dict, embed: ClipEmbedder) -> tuple[list[tuple[int, float]], int]:
    """Cuts by the adjacent-frame similarity rule, embedding samples ``batch_size`` at a time.

    Frames since the last embedded sample are held (at analysis width) until a batch of samples
    is full, so a candidate can be refined without decoding again; memory is bounded by
    ``batch_size * stride`` small frames.
    """
    stride = max(1, int(round(fps / config["sample_fps"])))
    min_frames = max(1, int(round(config["min_clip"] * fps)))
    threshold = config["threshold"]
    # Samples a stride apart are a candidate test only: a cut between them can look milder at that
    # distance than between its two adjacent frames, so candidates get a margin (halfway to 1) and
    # the decision is always the adjacent-frame rule on the refined pair.
    candidate = threshold + (1.0 - threshold) / 2
    cuts: list[tuple[int, float]] = []
    anchor: np.ndarray | None = None  # embedding of the last sample of the previous batch
    window: list[tuple[int, np.ndarray]] = []  # frames after that sample, in order
    samples = 0
    count = 0

    def flush(final: bool) -> None:
        nonlocal anchor, window, samples
        picks = [k for k, (i, _) in enumerate(window) if i % stride == 0]
        if final and window and (not picks or picks[-1] != len(window) - 1):
            picks.append(len(window) - 1)  # the last frame closes the video
        if not picks:
            return
        prev_k, prev_emb = -1, anchor
        for k, emb in zip(picks, embed([window[k][1] for k in picks])):
            if prev_emb is not None and float(emb @ prev_emb) < candidate:
                between = window[prev_k + 1:k + 1]  # the frames after the previous sample, up to this one
                inner = embed([f for _, f in between[:-1]]) if len(between) > 1 else np.zeros((0, emb.size))
                chain = np.concatenate([prev_emb[None], inner, emb[None]])
                sims = np.sum(chain[1:] * chain[:-1], axis=1)
                j = int(np.argmin(sims))
                cut, sim = between[j][0], float(sims[j])
                if sim < threshold and cut - (cuts[-1][0] if cuts else 0) >= min_frames:
                    cuts.append((cut, sim))
            prev_k, prev_emb = k, emb
        anchor = prev_emb
        window = window[picks[-1] + 1:]
        samples = 0

    for index, frame in iter_frames(path, width=config["width"], fmt="rgb24"):
        count = index + 1
        window.append((index, frame))
        if index % stride == 0:
            samples += 1
            if samples >= config["batch_size"]:
                flush(False)
    flush(True)
    return [(c, s) for c, s in cuts if 0 < c < count], count


def segments(cuts: list[int], count: int, fps: float, max_clip: float) -> list[tuple[int, int]]:
    """Frame ranges ``[start, end)`` between cuts; ranges over ``max_clip`` seconds cut evenly."""
    bounds = [0, *sorted(set(cuts)), count]
    max_frames = max(1, int(math.floor(max_clip * fps)))
    out = []
    for start, end in zip(bounds[:-1], bounds[1:]):
        if end <= start:
            continue
        pieces = max(1, math.ceil((end - start) / max_frames))
        edges = [start + round(k * (end - start) / pieces) for k in range(pieces + 1)]
        out.extend(zip(edges[:-1], edges[1:]))
    return out


class SplitWorker:
    """Engine worker: one source row in, its clips out (as ``split.clips``)."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.embed = ClipEmbedder(config["clip_model"], config["device"]) if config["detector"] == "clip" else None

    def __call__(self, source: dict) -> dict:
        fps = float(source["probe.fps"])
        path = Path(source["path"])
        if self.embed is None:
            found, count = _content_cuts(path, fps, self.config)
        else:
            # frames just big enough for the model: short side = its input size (no upscaling)
            w, h = int(source["probe.width"]), int(source["probe.height"])
            width = int(math.ceil(self.embed.size * w / min(w, h) / 2) * 2)
            found, count = _clip_cuts(path, fps, {**self.config, "width": width}, self.embed)
        if count == 0:
            return {"split.keep": False, "split.reason": "no frames decoded", "split.clips": []}
        scores = dict(found)
        clips = []
        for start, end in segments([c for c, _ in found], count, fps, self.config["max_clip"]):
            clips.append({
                "clip_id": clip_id(source["source_id"], start, end), "source_id": source["source_id"],
                "start_frame": start, "end_frame": end, "frames": end - start, "fps": fps,
                "start_s": round(start / fps, 6), "end_s": round(end / fps, 6),
                "duration": round((end - start) / fps, 6),
                "width": int(source["probe.width"]), "height": int(source["probe.height"]),
                "split.cut_score": scores.get(start),  # score of the cut that opened this clip
                "split.detector": self.config["detector"],
            })
        expected = int(source.get("probe.frames") or 0)
        note = None
        if expected and count < 0.9 * expected:  # the container promised more: a cut-off download?
            note = f"truncated? {count} of {expected} frames decoded"
        return {"split.keep": True, "split.reason": None, "split.clips": clips, "split.frames": count,
                "split.notes": note}
