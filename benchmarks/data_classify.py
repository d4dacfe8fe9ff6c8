"""Benchmark: classifier training epoch time with and without the frame cache.

Run by hand: ``python benchmarks/data_classify.py [--clips 16] [--seconds 4] [--epochs 3]``.
Clips are synthetic 1280x720 H.264 (GOP 250, 30 fps, ``microverse.testing.videos``); the model is a small random VideoMAE
with the real input shape (16 frames at 224 px, tubelet 2, patch 16) but 2 layers of width 64,
so the figure shows what decoding costs per epoch; a full VideoMAE-base adds the same model
time to every configuration. Each configuration trains from the same seed; the script checks
that the weights come out identical. CPU is this process's (``--loader-workers 0``, the
default, keeps decoding in it); wall time is unreliable on a shared machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds

from microverse.testing.videos import Scene, make_video


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--loader-workers", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: CPU time is not inflated by "
                                                                  "OpenMP threads spinning on a busy machine)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    import transformers
    from safetensors.torch import load_file

    from microverse.data.classify import train

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        torch.manual_seed(0)
        config = transformers.VideoMAEConfig(image_size=224, patch_size=16, num_frames=16, tubelet_size=2,
                                             hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                                             intermediate_size=128)
        transformers.VideoMAEForVideoClassification(config).save_pretrained(root / "base")
        t = time.time()
        items = [{"path": str(make_video(root / f"c{k}.mp4", [Scene(args.seconds * 30, 200 + k, static=k % 2 == 0)],
                                         width=1280, height=720, fps=30, gop=250)),
                  "start_frame": 0, "end_frame": None, "label": k % 2} for k in range(args.clips)]
        print(f"made {args.clips} clips of 1280x720, {args.seconds} s, in {time.time() - t:.0f} s")
        weights = {}
        print("| configuration | decode pass: clips, wall, CPU | epochs: wall s (CPU s) | total wall | total CPU |")
        print("|---|---|---|---|---|")
        for name, options in (("no cache", {"frame_cache": False}), ("cache in memory", {}),
                              ("cache on disk", {"cache_memory_gb": 0}),
                              ("cache on disk, rerun", {"cache_memory_gb": 0})):
            out = root / ("disk" if "disk" in name else name.replace(" ", "-"))
            c0, w0 = cpu_seconds(), time.time()
            metrics = train(items, str(root / "base"), out, epochs=args.epochs, lr=1e-4, batch_size=4,
                            loader_workers=args.loader_workers, **options)
            wall, cpu = time.time() - w0, cpu_seconds() - c0
            cache = metrics["frame_cache"]
            fill = cache["fill_seconds"] if cache else [0.0, 0.0]
            weights[name] = load_file(out / "model.safetensors")
            epochs = ", ".join(f"{w:.2f} ({c:.2f})" for w, c in metrics["epoch_seconds"])
            print(f"| {name} | {cache['decoded'] if cache else 0}, {fill[0]:.2f} s, {fill[1]:.2f} s | {epochs} "
                  f"| {wall:.1f} s | {cpu:.1f} s |")
        first = weights["no cache"]
        same = all(all(torch.equal(w[k], first[k]) for k in first) for w in weights.values())
        print(f"weights identical across configurations: {same}")


if __name__ == "__main__":
    main()
