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
                              fix="pip install torch, then pip install 'microverse[model]'") from None


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
    lora: Annotated[Optional[Path], typer.Option(help="LoRA weights: run folder, checkpoint or .safetensors.")] = None,
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
    speed = {k: v for k, v in {"compile_blocks": compile_blocks, "step_cache_threshold": step_cache}.items() if v}
    spec = gen.ModelSpec(model=model, checkpoint=str(checkpoint) if checkpoint else None,
                         lora=str(lora) if lora else None, lora_scale=lora_scale, device=device, speed=speed)
    if prompt:
        if out.suffix.lower() != ".mp4":
            raise MicroverseError("--out must be an .mp4 file with --prompt", file=str(out))
        pipe = spec.load()
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


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.command("generate")(generate)
    app.add_typer(model_app, name="model")
