"""Time one 480x832x81, 50-step, CFG 5.0 Wan2.1-1.3B video: stock diffusers WanPipeline vs ours.

The real Wan2.1-T2V-1.3B architecture (transformer and VAE from their diffusers configs) with random
weights: timing does not depend on weight values, and nothing can be downloaded on the benchmark
machines. Every mode gets the same random prompt embeddings (so the 5.7B UMT5 encoder, run once per
video by all, is left out), the same initial latents and the same scheduler, and decodes with the fp32
VAE, so outputs are comparable element by element. Modes (``--modes``, run in this order, one
transformer shared by all):

  stock : diffusers.WanPipeline, transformer bf16, default attention (PyTorch SDPA's own choice).
  eager : MicroVersePipeline, cond/uncond in one batched forward + the attention backend, not compiled.
  cache : eager + diffusers First-Block-Cache (--step-cache THRESHOLD); it changes the result, so its
          output difference is reported against eager (else ours, else stock). With random weights the
          residual statistics differ from the trained model's, so its skip rate here is only indicative.
  ours  : eager + torch.compile of the repeated WanTransformerBlock (compile warm-up reported apart).
          After eager and cache, because compiling changes the shared transformer's blocks in place.
  ours_cache : ours + First-Block-Cache, the blocks compiled again with the graph breaks the cache
          needs; its output difference is reported against ours.

Each mode records its total seconds, the denoising and VAE-decode split, and peak GPU memory; the JSON
is rewritten after every mode (a run cut short keeps what it finished) and a Markdown row is printed.

    python benchmarks/generate_gpu.py --out gen.json                 # GPU: stock vs ours (+ ours_cache)
    python benchmarks/generate_gpu.py --height 64 --width 64 --frames 5 --steps 2   # CPU: real model, tiny video
    python benchmarks/generate_gpu.py --tiny                         # CPU smoke run (tiny model)
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

MODES = ("stock", "eager", "cache", "ours", "ours_cache")


def build(tiny: bool, device: str, dtype):
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel

    from microverse.model.configs import tiny as cfg

    torch.manual_seed(0)
    with torch.device(device):
        transformer = WanTransformer3DModel(**(cfg.TRANSFORMER if tiny else cfg.WAN21_1_3B_TRANSFORMER))
        vae = AutoencoderKLWan(**(cfg.VAE if tiny else cfg.WAN21_VAE))
    return cast_like_from_pretrained(transformer, dtype).eval(), vae.float().eval(), \
        UniPCMultistepScheduler(**cfg.SCHEDULER)


def cast_like_from_pretrained(model, dtype):
    """``model`` in ``dtype`` except its ``_keep_in_fp32_modules`` (Wan: rope, time embedder, norms,
    modulation tables), as ``from_pretrained(..., torch_dtype=dtype)`` loads the published weights."""
    keep = set(model._keep_in_fp32_modules or [])
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if tensor.is_floating_point():
            tensor.data = tensor.data.to(torch.float32 if keep & set(name.split(".")) else dtype)
    return model


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def run_timed(pipe, call: dict, latents, device: str) -> tuple[np.ndarray, dict]:
    """One video; seconds in all, up to the end of the last denoising step, and in the VAE decode."""
    marks = {}

    def on_step(pipeline, i, t, kwargs):
        if i == call["num_inference_steps"] - 1:
            sync(device)
            marks["denoised"] = time.perf_counter()
        return {}

    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    sync(device)
    start = time.perf_counter()
    video = pipe(**call, latents=latents.clone(), callback_on_step_end=on_step).frames[0]
    sync(device)
    end = time.perf_counter()
    stats = {"s": end - start, "denoise_s": marks["denoised"] - start, "decode_s": end - marks["denoised"]}
    if device.startswith("cuda"):
        stats["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return video, stats


def cache_leader_hook(transformer):
    """diffusers' First-Block-Cache hook on the first block: it decides, per forward, whether to skip."""
    from diffusers.hooks import HookRegistry

    return HookRegistry.check_if_exists_or_initialize(transformer.blocks[0]).get_hook("fbc_leader_block_hook")


def warm_up_cached(pipe, warmup: dict, latents, threshold: float) -> None:
    """Two warm-up steps that take both cache paths (the first step runs in full, the second is forced
    to skip), so that no compile of either path lands in the timed run; then the real threshold."""
    hook = cache_leader_hook(pipe.transformer)
    hook.threshold = float("inf")
    pipe(**warmup, latents=latents.clone())
    hook.threshold = threshold


@contextmanager
def count_full_steps(transformer):
    """Counts, while the cache is on, the forwards that ran every block (``rest``) among all (``first``):
    wraps the cache's own decision, which runs outside any compiled graph, so the count holds for
    compiled blocks too. Install it before the warm-up: adding it later changes what compiled code
    guards on, and would recompile in the timed run."""
    hook = cache_leader_hook(transformer)
    counts = {"first": 0, "rest": 0}
    decide = hook._should_compute_remaining_blocks

    @torch.compiler.disable
    def counted(residual):
        full = decide(residual)
        counts["first"] += 1
        counts["rest"] += int(full)
        return full

    hook._should_compute_remaining_blocks = counted
    try:
        yield counts
    finally:
        del hook._should_compute_remaining_blocks  # back to the class's method


def difference(a: np.ndarray, b: np.ndarray) -> dict:
    """Max abs difference and PSNR of two videos in [0, 1]."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = float(np.mean(diff**2))
    return {"max_abs": float(np.abs(diff).max()), "psnr_db": float("inf") if mse == 0 else 10 * np.log10(1 / mse)}


def markdown_row(r: dict) -> str:
    """One row for docs/benchmarks/model.md: | device | stock s | ours s | speed-up | ... |."""
    def cell(mode, key, fmt="{:.1f}"):
        value = r.get(mode, {}).get(key)
        return fmt.format(value) if value is not None else "—"

    speedup = f"{r['speedup']:.2f}×" if "speedup" in r else "—"
    ours_psnr = f"{r['ours_vs_stock']['psnr_db']:.1f}" if "ours_vs_stock" in r else "—"
    decode = f"{cell('stock', 'decode_s')} / {cell('ours', 'decode_s')}"
    peak = f"{cell('stock', 'peak_gib')} / {cell('ours', 'peak_gib')}"
    cache = next((m for m in ("ours_cache", "cache") if m in r), None)
    if cache:
        diff = r.get(f"{cache}_diff")
        cached = f"{cache}: {cell(cache, 's')} ({cell(cache, 'full_steps', '{}')} full)"
        cache_psnr = f"{diff['psnr_db']:.1f} (vs {diff['reference']})" if diff else "—"
    else:
        cached = cache_psnr = "—"
    return (f"| {r['device']} | {cell('stock', 's')} | {cell('eager', 's')} | {cell('ours', 's')} "
            f"({cell('ours', 'warmup_compile_s')} compile) | {speedup} | {ours_psnr} | {decode} | {peak} | "
            f"{r.get('attention_backend') or 'default'} | {cached} | {cache_psnr} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model and 64x64x9, 4 steps (CPU smoke run)")
    parser.add_argument("--modes", default="stock,ours,ours_cache", help=f"comma-separated subset of {','.join(MODES)}")
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--frames", type=int, default=81)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--guidance", type=float, default=5.0)
    parser.add_argument("--attention-backend", default="auto",
                        help="diffusers backend name for our modes, 'auto' (fastest exact one, timed) or 'default'")
    parser.add_argument("--step-cache", type=float, default=0.05, help="FBCache threshold of the cache mode")
    parser.add_argument("--dtype", choices=("bf16", "fp32"), default=None,
                        help="transformer dtype (default: bf16 on GPU, fp32 on CPU)")
    parser.add_argument("--out", default=None, help="also write the JSON here (rewritten after every mode)")
    args = parser.parse_args()
    modes = [m for m in MODES if m in args.modes.split(",")]
    if args.tiny:
        args.height, args.width, args.frames, args.steps = 64, 64, 9, 4
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype or ("bf16" if device == "cuda" else "fp32")]

    from diffusers import WanPipeline

    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    transformer, vae, scheduler = build(args.tiny, device, dtype)
    gen = torch.Generator().manual_seed(0)
    embeds, negative = ((torch.randn(1, 512, transformer.config.text_dim, generator=gen) * 0.1).to(device, dtype)
                        for _ in range(2))
    call = dict(prompt_embeds=embeds, negative_prompt_embeds=negative, height=args.height, width=args.width,
                num_frames=args.frames, num_inference_steps=args.steps, guidance_scale=args.guidance,
                output_type="np")
    warmup = {**call, "num_inference_steps": 2}
    parts = dict(tokenizer=None, text_encoder=None, vae=vae, transformer=transformer, scheduler=scheduler)
    stock = WanPipeline(**parts)
    latents = stock.prepare_latents(1, 16, args.height, args.width, args.frames, torch.float32, device,
                                    torch.Generator(device).manual_seed(0))
    result = {"device": torch.cuda.get_device_name() if device == "cuda" else platform.processor() or "cpu",
              "torch": torch.__version__, "dtype": str(dtype).removeprefix("torch."),
              "settings": {k: v for k, v in vars(args).items() if k != "out"}}

    def save() -> None:
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=2) + "\n")

    videos = {}
    if "stock" in modes:
        stock.set_progress_bar_config(disable=True)
        stock(**warmup, latents=latents.clone())  # CUDA context, cuBLAS/cuDNN autotuning
        videos["stock"], result["stock"] = run_timed(stock, call, latents, device)
        save()
    del stock
    ours = MicroVersePipeline(**parts)
    ours.set_progress_bar_config(disable=True)
    if set(modes) - {"stock"}:  # every mode of ours, ours_cache alone included
        backend = None if args.attention_backend == "default" else args.attention_backend
        ours.optimize(attention_backend=backend, video_size=(args.frames, args.height, args.width))
        result["attention_backend"] = (ours.attention_choice["backend"] if getattr(ours, "attention_choice", None)
                                       else None if backend == "auto" else backend)
        result["attention_seconds"] = (getattr(ours, "attention_choice", None) or {}).get("seconds")
    if "eager" in modes:
        ours(**warmup, latents=latents.clone())
        videos["eager"], result["eager"] = run_timed(ours, call, latents, device)
        save()
    if "cache" in modes:
        ours.optimize(step_cache_threshold=args.step_cache)
        with count_full_steps(ours.transformer) as counts:  # from the warm-up on: no recompile in the timed run
            warm_up_cached(ours, warmup, latents, args.step_cache)
            counts.update(first=0, rest=0)
            videos["cache"], result["cache"] = run_timed(ours, call, latents, device)
        result["cache"]["full_steps"] = f"{counts['rest']}/{counts['first']}"
        ours.transformer.disable_cache()
        save()
    if "ours" in modes:
        ours.optimize(compile_blocks=True)
        start = time.perf_counter()
        ours(**warmup, latents=latents.clone())
        sync(device)
        warm_s = time.perf_counter() - start
        videos["ours"], result["ours"] = run_timed(ours, call, latents, device)
        result["ours"]["warmup_compile_s"] = warm_s
        save()
    if "ours_cache" in modes:  # compiled again, with the graph breaks the cache needs
        ours.optimize(step_cache_threshold=args.step_cache, compile_blocks=True)
        with count_full_steps(ours.transformer) as counts:
            start = time.perf_counter()
            warm_up_cached(ours, warmup, latents, args.step_cache)
            sync(device)
            warm_s = time.perf_counter() - start
            counts.update(first=0, rest=0)
            videos["ours_cache"], result["ours_cache"] = run_timed(ours, call, latents, device)
        result["ours_cache"].update(warmup_compile_s=warm_s, full_steps=f"{counts['rest']}/{counts['first']}")
    for mode in ("eager", "ours"):
        if mode in videos and "stock" in videos:
            result[f"{mode}_vs_stock"] = difference(videos[mode], videos["stock"])
    if "stock" in result and "ours" in result:
        result["speedup"] = result["stock"]["s"] / result["ours"]["s"]
    for mode, references in (("cache", ("eager", "ours", "stock")), ("ours_cache", ("ours", "eager", "stock"))):
        reference = next((m for m in references if m in videos), None)
        if mode in videos and reference:
            result[f"{mode}_diff"] = {"reference": reference, "threshold": args.step_cache,
                                      **difference(videos[mode], videos[reference])}
            result[f"{mode}_speedup_vs_{reference}"] = result[reference]["s"] / result[mode]["s"]
    if "stock" in result and "ours_cache" in result:
        result["ours_cache_speedup_vs_stock"] = result["stock"]["s"] / result["ours_cache"]["s"]
    result["markdown_row"] = markdown_row(result)
    save()
    print(json.dumps(result, indent=2))
    print(result["markdown_row"])


if __name__ == "__main__":
    main()
