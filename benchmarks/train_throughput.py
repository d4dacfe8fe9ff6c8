"""Training throughput (samples/s) and peak GPU memory of `microverse train` reading the latent cache.

Runs the real trainer (:func:`microverse.model.training.trainer.train`) on the real Wan2.1-1.3B
transformer architecture with random weights, from a synthetic latent cache of 480x832x81 clips
(latents 16x21x60x104, 512x4096 text embeddings) — so the number is the trainer's, without VAE or T5
(that is what the cache is for). Paper settings: fp32 master weights, bf16 autocast, gradient
checkpointing, AdamW lr 1e-5, micro-batch 1 with gradient accumulation to the global batch.

    python benchmarks/train_throughput.py [--steps 6] [--batch-size 8]     # one GPU
    python benchmarks/train_throughput.py --lora 64 --frames 5 --height 64 --width 64 --steps 2 --batch-size 1
                                               # CPU: the real 1.3B model on a tiny clip (full AdamW needs 23 GB)
    python benchmarks/train_throughput.py --tiny                           # CPU smoke run (tiny model)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch


def write_model(folder: Path, tiny: bool) -> str:
    """A Wan pipeline folder holding only what training from a cache loads: the transformer."""
    from diffusers import WanTransformer3DModel

    from microverse.model.configs import tiny as cfg

    torch.manual_seed(0)
    model = WanTransformer3DModel(**(cfg.TRANSFORMER if tiny else cfg.WAN21_1_3B_TRANSFORMER))
    for p in model.parameters():  # saved in bf16 (half the disk and time); the trainer loads fp32 from it
        p.data = p.data.bfloat16()
    model.save_pretrained(folder / "transformer")
    return str(folder)


def write_cache(data_dir: Path, model: str, n: int, size: tuple[int, int, int], text_dim: int) -> Path:
    from safetensors.torch import save_file

    from microverse.model.training import cache

    frames, height, width = size
    key = cache.CacheKey(model, height, width, frames)
    rows = [{"id": f"s{i}", "video": f"videos/s{i}.mp4", "prompt": "synthetic"} for i in range(n)]
    (data_dir / "metadata.json").write_text(json.dumps(rows))
    folder = cache.default_cache_dir(data_dir / "metadata.json", key)
    folder.mkdir(parents=True)
    (folder / cache.MANIFEST).write_text(json.dumps({"key": key.__dict__, "format": 1}))
    gen = torch.Generator().manual_seed(0)
    latent_shape = (16, 1 + (frames - 1) // 4, height // 8, width // 8)
    save_file({"text": torch.zeros(1, text_dim, dtype=torch.bfloat16)}, str(folder / cache.EMPTY))
    for row in rows:
        save_file({"latents": torch.randn(latent_shape, generator=gen).bfloat16(),
                   "text": torch.randn(120, text_dim, generator=gen).bfloat16()},
                  str(cache.item_path(folder, row["id"])))
    return data_dir / "metadata.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps (the first is warm-up)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--micro-batch-size", type=int, default=1)
    parser.add_argument("--lora", type=int, default=None)
    parser.add_argument("--no-checkpointing", action="store_true")
    parser.add_argument("--frames", type=int, default=None, help="clip size (default 81x480x832; --tiny 5x32x32)")
    parser.add_argument("--height", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--mixed-precision", default=None, help="bf16, fp16 or no (default: bf16 on GPU, no on CPU)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    from microverse.model.configs import TrainSettings
    from microverse.model.training.trainer import TrainJob, train

    size = tuple(given or default for given, default in zip((args.frames, args.height, args.width),
                                                             (5, 32, 32) if args.tiny else (81, 480, 832)))
    cuda = torch.cuda.is_available()
    precision = args.mixed_precision or ("bf16" if cuda else "no")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = write_model(tmp / "model", args.tiny)
        data = write_cache(tmp, model, max(args.batch_size, 8), size, 32 if args.tiny else 4096)
        settings = TrainSettings(batch_size=args.batch_size, micro_batch_size=args.micro_batch_size,
                                 max_steps=args.steps, save_every=0, frames=size[0], height=size[1], width=size[2],
                                 mixed_precision=precision, lora_rank=args.lora,
                                 gradient_checkpointing=not args.no_checkpointing)
        stamps: list[float] = []
        losses: list[float] = []
        started = time.perf_counter()
        result = train(TrainJob(data, tmp / "run", model, settings),
                       on_step=lambda step, loss: (stamps.append(time.perf_counter()), losses.append(loss)))
    if len(stamps) < 2:
        raise SystemExit("need --steps 2 or more (the first step is warm-up)")
    timed_steps = len(stamps) - 1
    seconds = stamps[-1] - stamps[0]
    out = {"device": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__,
           "size_TxHxW": size, "batch_size": args.batch_size, "micro_batch_size": args.micro_batch_size,
           "mixed_precision": precision, "lora": args.lora, "gradient_checkpointing": not args.no_checkpointing,
           "used_cache": result.used_cache, "first_step_s": stamps[0] - started, "timed_steps": timed_steps,
           "seconds_per_step": seconds / timed_steps, "samples_per_s": timed_steps * args.batch_size / seconds,
           "losses": losses}
    if cuda:
        out["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    peak = f"{out['peak_gib']:.1f}" if cuda else "—"
    kind = f"LoRA {args.lora}" if args.lora else "full"
    out["markdown_row"] = (f"| {out['device']} | {'×'.join(map(str, size))} | {kind}, {precision}, "
                           f"{'checkpointing' if not args.no_checkpointing else 'no checkpointing'} | "
                           f"{out['samples_per_s']:.3f} | {out['seconds_per_step']:.1f} (batch {args.batch_size}) | "
                           f"{peak} |")
    text = json.dumps(out, indent=2)
    print(text)
    print(out["markdown_row"])
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
