"""Which examples each process sees at each step: a pure function of (seed, step), so resume is exact.

The example stream is an endless concatenation of per-epoch permutations (epoch e shuffled with seed
(seed, e)). Optimizer step k consumes positions [k*B, (k+1)*B) of that stream; within it, accumulation
micro-step m of process r takes the slice ((m*world + r)*b, ...). Because nothing depends on how the
previous steps ran, a run resumed at step k reads exactly the batches a straight run would — no sampler
state to save or fast-forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from microverse.model.training.encode import pad_text


def seed_for(*parts: int) -> int:
    """A well-mixed 63-bit seed from integers (numpy's SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


@dataclass
class StepBatches(Sampler):
    """Yields the index lists of steps ``start_step .. max_steps-1`` for one process (all micro-steps)."""

    size: int
    global_batch: int
    micro_batch: int
    world: int
    rank: int
    seed: int
    start_step: int
    max_steps: int

    def __post_init__(self):
        if self.global_batch % (self.micro_batch * self.world):
            raise ValueError(f"batch size {self.global_batch} is not a multiple of micro-batch "
                             f"{self.micro_batch} x {self.world} processes")
        self.accumulation = self.global_batch // (self.micro_batch * self.world)
        self._epochs: dict[int, np.ndarray] = {}

    def _position(self, pos: int) -> int:
        epoch, offset = divmod(pos, self.size)
        if epoch not in self._epochs:
            self._epochs = {epoch: np.random.default_rng(seed_for(self.seed, epoch)).permutation(self.size)}
        return int(self._epochs[epoch][offset])

    def indices(self, step: int, micro: int) -> list[int]:
        start = step * self.global_batch + (micro * self.world + self.rank) * self.micro_batch
        return [self._position(p) for p in range(start, start + self.micro_batch)]

    def __iter__(self):
        for step in range(self.start_step, self.max_steps):
            for micro in range(self.accumulation):
                yield self.indices(step, micro)

    def __len__(self) -> int:
        return (self.max_steps - self.start_step) * self.accumulation


class CachedExamples(Dataset):
    """Examples from the precomputed cache: (latents, trimmed text embedding)."""

    def __init__(self, cache_dir, records):
        from microverse.model.training.cache import item_path

        self.paths = [item_path(cache_dir, r.id) for r in records]

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        from safetensors.torch import load_file

        item = load_file(str(self.paths[i]))
        return {"latents": item["latents"], "text": item["text"]}


class ClipExamples(Dataset):
    """Examples decoded from the videos (encoded to latents later, on the training device)."""

    def __init__(self, records, frames: int, height: int, width: int):
        self.records, self.size = records, (frames, height, width)

    def __len__(self):
        return len(self.records)

    def __getitem__(self, i):
        from microverse.model.training.data import load_clip

        r = self.records[i]
        return {"clip": load_clip(r.video, *self.size), "prompt": r.prompt}


def collate(items: list[dict]) -> dict:
    if "clip" in items[0]:
        return {"clip": torch.stack([i["clip"] for i in items]), "prompt": [i["prompt"] for i in items]}
    return {"latents": torch.stack([i["latents"] for i in items]), "text": [i["text"] for i in items]}


def to_model_inputs(batch: dict, encoder, text_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(latents, padded text) from a cached batch, or by encoding a raw batch with ``encoder``."""
    if "clip" in batch:
        latents, texts = encoder.video(batch["clip"]), encoder.text(batch["prompt"])
    else:
        latents, texts = batch["latents"], batch["text"]
    return latents, pad_text(texts, text_length)
