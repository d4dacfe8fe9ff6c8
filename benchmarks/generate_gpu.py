"""Time one 480x832x81, 50-step, CFG 5.0 Wan2.1-1.3B video: stock diffusers WanPipeline vs ours.

The real Wan2.1-T2V-1.3B architecture (transformer and VAE from their diffusers configs) with random
weights: timing does not depend on weight values, and nothing can be downloaded on the benchmark
machines. Both pipelines get the same random prompt embeddings (so the 5.7B UMT5 encoder, run once
per video by both, is left out), the same initial latents and the same scheduler, and both decode
with the fp32 VAE, so their outputs are comparable element by element.

  stock   : diffusers.WanPipeline, transformer bf16, default attention (PyTorch SDPA).
  ours    : MicroVersePipeline — cond/uncond in one batched forward, torch.compile of the repeated
            WanTransformerBlock (compile time reported separately), optional attention backend.
  cache   : batched CFG + diffusers First-Block-Cache (--step-cache THRESHOLD), uncompiled (the cache's
            hooks cannot be traced by torch.compile): reported separately with its output difference
            from ours, since it changes the result. With random weights the
            residual statistics differ from the trained model's, so its skip rate here is only indicative.

    python benchmarks/generate_gpu.py                       # on a GPU machine; prints JSON
    python benchmarks/generate_gpu.py --tiny                # CPU smoke run of the same code (tiny model)
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch


def build(tiny: bool, device: str, dtype):
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel

    from microverse.model.configs import tiny as cfg

    torch.manual_seed(0)
    with torch.device(device):
        transformer = WanTransformer3DModel(**(cfg.TRANSFORMER if tiny else cfg.WAN21_1_3B_TRANSFORMER))
        vae = AutoencoderKLWan(**(cfg.VAE if tiny else cfg.WAN21_VAE))
    return transformer.to(dtype).eval(), vae.float().eval(), UniPCMultistepScheduler(**cfg.SCHEDULER)


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str):
    sync(device)
    start = time.perf_counter()
    out = fn()
    sync(device)
    return out, time.perf_counter() - start


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model, small video, CPU ok (smoke test)")
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--guidance", type=float, default=5.0)
    parser.add_argument("--attention-backend", default=None, help="e.g. flash, _native_cudnn (diffusers names)")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--step-cache", type=float, default=0.05, help="FBCache threshold; 0 to skip")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    if args.tiny:
        args.height, args.width, args.frames, args.steps = 64, 64, 9, 4
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32

    from diffusers import WanPipeline

    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    transformer, vae, scheduler = build(args.tiny, device, dtype)
    text_dim = transformer.config.text_dim
    gen = torch.Generator().manual_seed(0)
    embeds = (torch.randn(1, 512, text_dim, generator=gen) * 0.1).to(device, dtype)
    negative = (torch.randn(1, 512, text_dim, generator=gen) * 0.1).to(device, dtype)
    call = dict(prompt_embeds=embeds, negative_prompt_embeds=negative, height=args.height, width=args.width,
                num_frames=args.frames, num_inference_steps=args.steps, guidance_scale=args.guidance,
                output_type="np")
    stock = WanPipeline(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer, scheduler=scheduler)
    stock.set_progress_bar_config(disable=True)
    latents = stock.prepare_latents(1, 16, args.height, args.width, args.frames, torch.float32, device,
                                    torch.Generator(device).manual_seed(0))
    result = {"device": torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu",
              "torch": torch.__version__, "settings": {k: v for k, v in vars(args).items() if k != "out"}}

    # warm-up (CUDA context, cuBLAS/cuDNN autotuning) with 2 steps, then the timed run
    stock(**{**call, "num_inference_steps": 2}, latents=latents.clone())
    stock_video, result["stock_s"] = timed(lambda: stock(**call, latents=latents.clone()).frames[0], device)
    if device == "cuda":
        result["stock_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
        torch.cuda.reset_peak_memory_stats()

    ours = MicroVersePipeline(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer,
                              scheduler=scheduler)
    ours.set_progress_bar_config(disable=True)
    ours.optimize(compile_blocks=not args.no_compile, attention_backend=args.attention_backend)
    _, result["ours_warmup_compile_s"] = timed(
        lambda: ours(**{**call, "num_inference_steps": 2}, latents=latents.clone()), device)
    our_video, result["ours_s"] = timed(lambda: ours(**call, latents=latents.clone()).frames[0], device)
    if device == "cuda":
        result["ours_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    result["speedup"] = result["stock_s"] / result["ours_s"]
    result["ours_vs_stock"] = {"max_abs": float(np.abs(our_video - stock_video).max()),
                               "psnr_db": psnr(our_video, stock_video)}

    if args.step_cache:
        # The cache's hooks cannot run inside compiled blocks: a fresh, identical (same seed) uncompiled
        # transformer with batched CFG and the cache.
        del ours
        transformer, _, _ = build(args.tiny, device, dtype)
        cached = MicroVersePipeline(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer,
                                    scheduler=scheduler)
        cached.set_progress_bar_config(disable=True)
        cached.optimize(step_cache_threshold=args.step_cache, attention_backend=args.attention_backend)
        cached(**{**call, "num_inference_steps": 2}, latents=latents.clone())
        cached_video, result["cache_s"] = timed(lambda: cached(**call, latents=latents.clone()).frames[0], device)
        result["cache_speedup_vs_stock"] = result["stock_s"] / result["cache_s"]
        result["cache_vs_ours"] = {"max_abs": float(np.abs(cached_video - our_video).max()),
                                   "psnr_db": psnr(cached_video, our_video), "threshold": args.step_cache}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
