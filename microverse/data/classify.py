"""The micro-simulation classifier (paper, Appendix C): VideoMAE fine-tuned on labelled clips.

Training follows the paper: learning rate 5e-5, 10 epochs, an 80/20 split (stratified by
label, seeded), accuracy and a confusion matrix on the 20%. Beyond the paper, the decision
threshold on P(micro) is calibrated on that held-out 20% (the threshold that maximises
balanced accuracy, so an unbalanced label set does not push it to one side); the
classifier folder keeps model, processor and ``classifier.json`` with the threshold and
the metrics, and ``data classify`` filters with that threshold unless told otherwise.

The loop is a plain AdamW loop rather than ``transformers.Trainer``: a dozen lines, while
Trainer would need a dataset class, a collator and its logging/checkpoint machinery for
what is a small, fixed recipe.

Label CSV: a ``label`` column (1/0, micro/non-micro, yes/no, true/false) and either a
``video`` column (path, relative to the CSV) with optional ``start_frame``/``end_frame``, or
a ``clip_id`` column resolved against ``--dataset``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from microverse.data.frame_cache import FrameCache
from microverse.data.hf import quiet_transformers
from microverse.data.sheet import read_sheet
from microverse.data.video import even_indices, probe, sample_frames
from microverse.errors import MicroverseError

POSITIVE = {"1", "micro", "micro-simulation", "microsimulation", "yes", "true", "y", "t", "pos", "positive"}
NEGATIVE = {"0", "non-micro", "non-microsimulation", "not-micro", "no", "false", "n", "f", "neg", "negative",
            "other"}
ID2LABEL = {0: "non-micro", 1: "micro"}
META = "classifier.json"


def read_labels(csv_path: Path, dataset: Path | None = None) -> list[dict]:
    """Rows of {path, start_frame, end_frame, label}; every problem names the row."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise MicroverseError("label file not found", file=str(csv_path))
    clips = sources = None
    items = []
    fields, rows = read_sheet(csv_path)
    if "label" not in fields or not ({"video", "clip_id"} & set(fields)):
        raise MicroverseError("needs a 'label' column and a 'video' or 'clip_id' column", file=str(csv_path),
                              fix="header like: video,label  or  clip_id,label")
    for line, row in enumerate(rows, start=2):
        raw = str(row["label"]).strip().lower()
        if raw not in POSITIVE | NEGATIVE:
            raise MicroverseError(f"label {row['label']!r} is neither micro nor non-micro", file=str(csv_path),
                                  item=f"line {line}", fix="use 1/0 or micro/non-micro")
        label = int(raw in POSITIVE)
        if row.get("video"):
            path = Path(row["video"])
            path = path if path.is_absolute() else (csv_path.parent / path)
            try:
                start = int(row.get("start_frame") or 0)
                end = int(row["end_frame"]) if row.get("end_frame") else None
            except ValueError:
                raise MicroverseError("start_frame and end_frame must be whole frame numbers", file=str(csv_path),
                                      item=f"line {line}") from None
        elif not row.get("clip_id"):
            raise MicroverseError("this line names no video (and no clip_id)", file=str(csv_path), item=f"line {line}",
                                  fix="fill in its video path or clip_id, or delete the line")
        else:
            if dataset is None:
                raise MicroverseError("clip_id labels need the dataset folder", file=str(csv_path),
                                      fix="pass --dataset DIR")
            if clips is None:
                from microverse.data.ingest import open_dataset

                manifest = open_dataset(dataset)
                clips = manifest.read("clips").set_index("clip_id")
                sources = manifest.read("sources").set_index("source_id")
            if row["clip_id"] not in clips.index:
                raise MicroverseError(f"unknown clip {row['clip_id']!r}", file=str(csv_path), item=f"line {line}")
            clip = clips.loc[row["clip_id"]]
            path = Path(sources.loc[clip["source_id"], "path"])
            start, end = int(clip["start_frame"]), int(clip["end_frame"])
        if not path.is_file():
            raise MicroverseError("video not found", file=str(path), item=f"{csv_path.name} line {line}")
        items.append({"path": str(path), "start_frame": start, "end_frame": end, "label": label})
    if len({i["label"] for i in items}) < 2:
        raise MicroverseError("labels need both classes (micro and non-micro)", file=str(csv_path))
    return items


def split_80_20(labels: list[int], test_fraction: float = 0.2, seed: int = 0) -> tuple[list[int], list[int]]:
    """Stratified split: the same share of each class goes to test (at least one per class)."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for cls in sorted(set(labels)):
        idx = [i for i, y in enumerate(labels) if y == cls]
        rng.shuffle(idx)
        k = max(1, int(round(len(idx) * test_fraction))) if len(idx) > 1 else 0
        test += idx[:k]
        train += idx[k:]
    return sorted(train), sorted(test)


class ClipFrames:
    """Frames of a clip, sampled evenly by seeking, preprocessed for a VideoMAE model."""

    def __init__(self, processor, num_frames: int) -> None:
        self.processor = processor
        self.num_frames = num_frames
        # what the tensors depend on besides the clip: part of the frame cache's key
        self.recipe = json.dumps({"num_frames": num_frames, "processor": processor.to_dict()}, sort_keys=True,
                                 default=str)

    def __call__(self, item: dict):
        path = Path(item["path"])
        end = item.get("end_frame")
        if end is None:
            end = probe(path).frames
        frames = sample_frames(path, even_indices(int(item.get("start_frame") or 0), int(end), self.num_frames))
        while len(frames) < self.num_frames:  # clips shorter than the model's frame count repeat frames
            frames = frames + frames[: self.num_frames - len(frames)]
        return self.processor(list(frames), return_tensors="pt")["pixel_values"][0]


def load_processor(model_dir: str, config):
    # The PIL processor where transformers has one (5.x): the default one wants torchvision,
    # which this project never installs, and warns before falling back to the PIL one anyway.
    try:
        from transformers import VideoMAEImageProcessorPil as VideoMAEImageProcessor
    except ImportError:
        from transformers import VideoMAEImageProcessor

    try:
        return VideoMAEImageProcessor.from_pretrained(model_dir)
    except OSError:  # bare model folder: VideoMAE's standard preprocessing at the model's size
        size = config.image_size
        return VideoMAEImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})


def _probabilities(model, batches, device: str) -> np.ndarray:
    import torch

    out = []
    model.eval()
    with torch.inference_mode():
        for pixels in batches:
            logits = model(pixel_values=pixels.to(device)).logits.float()
            out.append(torch.softmax(logits, dim=-1)[:, 1].cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def calibrate(probs: np.ndarray, labels: np.ndarray) -> float:
    """Threshold on P(micro) maximising balanced accuracy on held-out clips (ties: closest to 0.5)."""
    candidates = np.unique(np.concatenate([[0.5], probs]))
    best, best_score = 0.5, -1.0
    for t in sorted(candidates, key=lambda c: abs(c - 0.5)):
        pred = probs >= t
        tpr = pred[labels == 1].mean() if (labels == 1).any() else 0.0
        tnr = (~pred[labels == 0]).mean() if (labels == 0).any() else 0.0
        score = (tpr + tnr) / 2
        if score > best_score + 1e-12:
            best, best_score = float(t), float(score)
    return best


def confusion(labels: np.ndarray, pred: np.ndarray) -> list[list[int]]:
    """Rows = true class (non-micro, micro), columns = predicted class."""
    return [[int(((labels == t) & (pred == p)).sum()) for p in (0, 1)] for t in (0, 1)]


def _clip_name(item: dict) -> str:
    return f"{item['path']} [frames {item.get('start_frame') or 0}-{item.get('end_frame') or 'end'}]"


def undecodable(items: list[dict], failed: list[tuple[int, str]]) -> MicroverseError:
    """One error naming every labelled clip that could not be decoded (at most 5 spelled out)."""
    listed = "; ".join(f"{_clip_name(items[i])}: {error}" for i, error in failed[:5])
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    return MicroverseError(f"{len(failed)} of {len(items)} labelled clips cannot be decoded, nothing was trained: "
                           f"{listed}{more}",
                           fix="remove those rows from the label file or replace the videos, then rerun")


def decode_or_explain(frames: ClipFrames, item: dict):
    """``frames(item)``, with a failure named by file and frame range (used without the frame cache)."""
    try:
        return frames(item)
    except Exception as exc:
        raise MicroverseError(f"cannot decode this labelled clip: {exc.__class__.__name__}: {exc}",
                              file=_clip_name(item),
                              fix="remove its row from the label file or replace the video, then rerun") from None


def _loader(get: Callable[[int], object], labels: list[int], indices: list[int], *, batch_size: int, workers: int,
            shuffle: bool, seed: int):
    """A torch DataLoader over ``get(i)`` for i in ``indices``, run in ``workers`` processes when
    ``get`` decodes (decoding, not the model, is what starves a GPU here).

    Shuffling is seeded by a generator of the sampler's own: the loader also draws worker seeds
    from its generator, once per epoch without persistent workers and once in all with them, so
    sharing one generator made the order of epoch 2 on depend on ``workers``.

    A :class:`MicroverseError` from ``get`` becomes the batch (iterate with :func:`_batches`, which
    raises it here): raised in a worker, torch would re-raise it with the worker's traceback as its text.
    """
    import torch

    class Clips(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return len(indices)

        def __getitem__(self, k: int):
            try:
                return get(indices[k]), labels[indices[k]]
            except MicroverseError as exc:
                return exc

    def collate(samples: list):
        failed = [s for s in samples if isinstance(s, MicroverseError)]
        return failed[0] if failed else torch.utils.data.default_collate(samples)

    clips = Clips()
    sampler = torch.utils.data.RandomSampler(clips, generator=torch.Generator().manual_seed(seed)) if shuffle \
        else None
    return torch.utils.data.DataLoader(clips, batch_size=batch_size, sampler=sampler, collate_fn=collate,
                                       generator=torch.Generator().manual_seed(seed), num_workers=workers,
                                       persistent_workers=workers > 0)


def _batches(loader):
    """The loader's batches, raising the error of a clip that could not be decoded (see :func:`_loader`)."""
    for batch in loader:
        if isinstance(batch, MicroverseError):
            raise batch
        yield batch


def train(items: list[dict], base: str, out_dir: Path, *, epochs: int = 10, lr: float = 5e-5, batch_size: int = 4,
          test_fraction: float = 0.2, seed: int = 0, device: str = "cpu", loader_workers: int = 0,
          frame_cache: bool = True, cache_memory_gb: float = 2.0,
          progress: Callable[[int, int], None] | None = None) -> dict:
    """Fine-tune ``base`` (hub id or folder) on labelled clips; save model, processor and metrics.

    With ``frame_cache`` every labelled clip (training, then held-out) is decoded once, before
    the first epoch, and kept in memory up to ``cache_memory_gb``, beyond that in
    ``OUT/frame-cache/`` (see frame_cache.py); the weights are the same as without it, and with
    or without ``loader_workers``. Undecodable clips are all named before any training.
    """
    import torch
    from transformers import VideoMAEForVideoClassification

    torch.manual_seed(seed)
    with quiet_transformers():
        model = VideoMAEForVideoClassification.from_pretrained(
            base, num_labels=2, id2label=ID2LABEL, label2id={v: k for k, v in ID2LABEL.items()},
            ignore_mismatched_sizes=True).to(device)
    processor = load_processor(base, model.config)
    frames = ClipFrames(processor, model.config.num_frames)
    labels = [i["label"] for i in items]
    train_idx, test_idx = split_80_20(labels, test_fraction, seed)
    out_dir = Path(out_dir)
    steps = epochs * -(-len(train_idx) // batch_size)
    cache = None
    if frame_cache:  # training clips first, so they get the memory; held-out ones are checked before training
        cache = FrameCache(items, frames, recipe=frames.recipe, folder=out_dir / "frame-cache",
                           memory_bytes=int(cache_memory_gb * 2**30))
        started, cpu = time.perf_counter(), time.process_time()
        done_before = len(train_idx) + len(test_idx)
        failed = cache.fill(train_idx + test_idx, workers=loader_workers,
                            progress=progress and (lambda done, _: progress(done, done_before + steps)))
        if failed:
            raise undecodable(items, failed)
        fill_seconds = [round(time.perf_counter() - started, 3), round(time.process_time() - cpu, 3)]
        # reading tensors back from memory needs no helpers; from disk, the loader workers overlap it
        get, workers = cache.__getitem__, (loader_workers if cache.files else 0)
    else:
        get, workers, done_before = (lambda i: decode_or_explain(frames, items[i])), loader_workers, 0
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    loader = _loader(get, labels, train_idx, batch_size=batch_size, workers=workers, shuffle=True, seed=seed)
    history, epoch_seconds = [], []  # epoch_seconds: [wall, CPU of this process] per epoch
    for epoch in range(epochs):
        started, cpu = time.perf_counter(), time.process_time()
        model.train()
        total = 0.0
        for step, (pixels, target) in enumerate(_batches(loader)):
            loss = model(pixel_values=pixels.to(device), labels=target.to(device)).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(target)
            if progress:
                progress(done_before + epoch * len(loader) + step + 1, done_before + steps)
        history.append(round(total / max(1, len(train_idx)), 6))
        epoch_seconds.append([round(time.perf_counter() - started, 3), round(time.process_time() - cpu, 3)])
    test_loader = _loader(get, labels, test_idx, batch_size=batch_size, workers=workers, shuffle=False, seed=seed)
    probs = _probabilities(model, (pixels for pixels, _ in _batches(test_loader)), device)
    y = np.asarray([labels[i] for i in test_idx])
    threshold = calibrate(probs, y)
    argmax = (probs >= 0.5).astype(int)
    calibrated = (probs >= threshold).astype(int)
    metrics = {
        "base_model": base, "lr": lr, "epochs": epochs, "batch_size": batch_size, "seed": seed,
        "n_train": len(train_idx), "n_test": len(test_idx), "train_loss": history,
        "accuracy": float((argmax == y).mean()) if len(y) else None,
        "confusion_matrix": confusion(y, argmax), "confusion_labels": ["non-micro", "micro"],
        "threshold": threshold,
        "accuracy_at_threshold": float((calibrated == y).mean()) if len(y) else None,
        "confusion_matrix_at_threshold": confusion(y, calibrated),
        "num_frames": model.config.num_frames,
        "held_out": [{**items[i], "p_micro": round(float(p), 6)} for i, p in zip(test_idx, probs)],
        "epoch_seconds": epoch_seconds,
        "frame_cache": None if cache is None else {
            "decoded": cache.decoded, "in_memory": len(cache.memory), "on_disk": len(cache.files),
            "memory_mb": round(cache.memory_used / 2**20, 1), "folder": str(cache.folder),
            "fill_seconds": fill_seconds},
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        model.save_pretrained(out_dir)
        processor.save_pretrained(out_dir)
    (out_dir / META).write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def load_meta(model_dir: Path) -> dict:
    path = Path(model_dir) / META
    return json.loads(path.read_text()) if path.is_file() else {}


class ClassifyWorker:
    """Engine worker: P(micro) for a clip and the keep/drop decision at the calibrated threshold."""

    def __init__(self, config: dict) -> None:
        import torch
        from transformers import VideoMAEForVideoClassification

        self.torch = torch
        self.device = config["device"]
        with quiet_transformers():
            self.model = VideoMAEForVideoClassification.from_pretrained(config["model"]).to(self.device).eval()
        self.frames = ClipFrames(load_processor(config["model"], self.model.config), self.model.config.num_frames)
        self.threshold = float(config["threshold"])
        self.model_name = str(config["model"])

    def __call__(self, clip: dict) -> dict:
        return self.batch([clip])[0]

    def batch(self, clips: list[dict]) -> list[dict]:
        """One forward pass for several clips (the engine sends ``--batch-size`` at a time)."""
        pixels = self.torch.stack([self.frames(clip) for clip in clips])
        return [self._row(float(p)) for p in _probabilities(self.model, [pixels], self.device)]

    def _row(self, prob: float) -> dict:
        keep = prob >= self.threshold
        return {"classify.p_micro": round(prob, 6), "classify.threshold": self.threshold,
                "classify.model": self.model_name, "classify.keep": keep,
                "classify.reason": None if keep else f"not micro-simulation (p={prob:.3f} < {self.threshold:.3f})"}


def classify_config(model: Path | str, threshold: float | None = None, device: str = "cpu") -> dict:
    text = str(model)
    hub_id = text.count("/") == 1 and not text.startswith(("/", ".", "~"))
    if not Path(model).exists() and not hub_id:
        raise MicroverseError("classifier folder not found", file=str(model),
                              fix="train one with `microverse data train-classifier LABELS.csv --out DIR`")
    if threshold is None:
        threshold = float(load_meta(Path(model)).get("threshold", 0.5))
    return {"model": str(model), "threshold": float(threshold), "device": device}
