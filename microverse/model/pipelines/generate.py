"""Generate one video or a whole benchmark's worth, each with a JSON sidecar of its settings and seed.

Benchmark runs write ``<task index>.mp4`` (the layout ``microverse eval`` reads) and skip tasks whose
video and sidecar already exist, so an interrupted run resumes; ``--shard i/n`` splits the task list
round-robin between independent processes (one per GPU), and ``--engine ray`` does the same on a Ray
cluster, one GPU actor per shard.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from microverse.errors import MicroverseError
from microverse.model.configs import GenerationSettings


@dataclass
class ModelSpec:
    """What to load: base model plus optional fine-tuned weights (recorded in every sidecar)."""

    model: str
    checkpoint: str | None = None
    lora: str | None = None
    lora_scale: float = 1.0
    device: str | None = None
    speed: dict = field(default_factory=dict)  # MicroVersePipeline.optimize(**speed)
    memory: dict = field(default_factory=dict)  # load_pipeline(offload=..., vae_tiling=...)

    def load(self, settings: GenerationSettings):
        """The pipeline, optimised for videos of ``settings``' size (what ``attention_backend="auto"`` times)."""
        from microverse.model.pipelines.loading import load_pipeline

        pipe = load_pipeline(self.model, checkpoint=Path(self.checkpoint) if self.checkpoint else None,
                             lora=self.lora, lora_scale=self.lora_scale, device=self.device, **self.memory)
        if self.speed:
            pipe.optimize(**self.speed, video_size=(settings.frames, settings.height, settings.width))
        return pipe

    def describe(self) -> dict:
        return {"model": self.model, "checkpoint": self.checkpoint, "lora": self.lora,
                "lora_scale": self.lora_scale, "speed": self.speed, "memory": self.memory}


def check_settings(s: GenerationSettings) -> None:
    """Wan's VAE needs 4k+1 frames and sizes divisible by 16 (8x VAE, 2x2 patches)."""
    if s.frames < 1 or (s.frames - 1) % 4:
        raise MicroverseError(f"--frames must be 4k+1 (e.g. 17, 33, 81), got {s.frames}")
    if s.height % 16 or s.width % 16 or s.height <= 0 or s.width <= 0:
        raise MicroverseError(f"--height and --width must be positive multiples of 16, got {s.height}x{s.width}")
    if s.steps < 1:
        raise MicroverseError(f"--steps must be at least 1, got {s.steps}")


def generate_video(pipe, prompt: str, settings: GenerationSettings, out: Path, spec: ModelSpec,
                   extra: dict | None = None) -> Path:
    """Sample one video, write it as mp4 and its sidecar ``<name>.json`` (settings, seed, model, timing)."""
    return write_video(*sample_video(pipe, prompt, settings, spec, extra), out)


def sample_video(pipe, prompt: str, settings: GenerationSettings, spec: ModelSpec,
                 extra: dict | None = None):
    """Run the pipeline once: the frames (T, H, W, 3 floats in [0, 1]) and the sidecar describing them."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(settings.seed)
    started = time.perf_counter()
    frames = pipe(prompt, negative_prompt=settings.negative_prompt, height=settings.height,
                  width=settings.width, num_frames=settings.frames, num_inference_steps=settings.steps,
                  guidance_scale=settings.guidance, generator=generator,
                  max_sequence_length=settings.max_sequence_length).frames[0]
    seconds = time.perf_counter() - started
    attention = getattr(pipe, "attention_choice", None)  # the backend named, or what "auto" picked
    sidecar = {"prompt": prompt, **settings.to_dict(), **spec.describe(), "seconds": round(seconds, 3),
               "device": str(pipe.device), "attention_backend": attention["backend"] if attention else None,
               "versions": _versions(), **(extra or {})}
    return frames, sidecar


def write_video(frames, sidecar: dict, out: Path) -> Path:
    """The mp4, then its sidecar: a video counts as done (for resume) only once both are on disk."""
    from microverse.model.pipelines.video_io import write_mp4

    write_mp4(frames, out, fps=sidecar["fps"])
    _write_json_atomic(sidecar_path(out), sidecar)
    return out


def _versions() -> dict:
    """Library versions that can change the pixels for the same seed."""
    import diffusers
    import torch
    import transformers

    return {"torch": torch.__version__, "diffusers": diffusers.__version__, "transformers": transformers.__version__}


def sidecar_path(video: Path) -> Path:
    return Path(video).with_suffix(".json")


def _write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# --- benchmark runs -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    index: int
    prompt: str


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/n"`` (0-based i) -> (i, n); ``None`` -> (0, 1)."""
    if not text:
        return 0, 1
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise MicroverseError(f"--shard must look like i/n, got {text!r}", fix="e.g. --shard 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise MicroverseError(f"--shard {text}: need 0 <= i < n", fix="shards are numbered 0..n-1")
    return i, n


def parse_tasks(text: str | None) -> set[int] | None:
    if not text:
        return None
    try:
        return {int(part) for part in text.replace(" ", "").split(",") if part}
    except ValueError:
        raise MicroverseError(f"--tasks must be comma-separated task indices, got {text!r}") from None


def benchmark_jobs(benchmark_path: Path | None, tasks: set[int] | None) -> list[Job]:
    """Every (or the selected) benchmark task as a job, sorted by index."""
    from microverse.bench.loading import load_benchmark

    all_tasks = load_benchmark(benchmark_path).benchmark.tasks
    jobs = [Job(t.index, t.prompt) for t in all_tasks if tasks is None or t.index in tasks]
    if tasks is not None:
        missing = sorted(tasks - {j.index for j in jobs})
        if missing:
            raise MicroverseError(f"no benchmark task with index {', '.join(map(str, missing))}", fix="check --tasks")
    return sorted(jobs, key=lambda j: j.index)


def pending(jobs: Iterable[Job], out_dir: Path, shard: tuple[int, int]) -> list[Job]:
    """This shard's jobs (round-robin by position) whose video or sidecar is missing."""
    i, n = shard
    mine = [job for k, job in enumerate(jobs) if k % n == i]
    return [j for j in mine if not ((out_dir / f"{j.index}.mp4").is_file() and
                                   sidecar_path(out_dir / f"{j.index}.mp4").is_file())]


def run_jobs(jobs: list[Job], out_dir: Path, settings: GenerationSettings, spec: ModelSpec,
             on_done: Callable[[Job], None] = lambda job: None) -> None:
    """Load once, then generate each job, writing each video while the next one samples.

    Encoding an 81-frame video with single-threaded x264 takes seconds of CPU; done in line, the GPU
    would wait that long after every video. One writer thread overlaps it with the next sampling
    (PyAV releases the GIL while encoding), and at most one finished video waits in memory. A job is
    reported done only once its mp4 and sidecar are on disk, so a crash loses at most the video being
    written, which a rerun samples again; a failed write stops the run with its error.
    """
    from concurrent.futures import ThreadPoolExecutor

    if not jobs:
        return
    pipe = spec.load(settings)
    pipe.set_progress_bar_config(disable=True)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mp4-writer") as writer:
        writing = None  # (job, future) of the video being written
        for job in jobs:
            frames, sidecar = sample_video(pipe, job.prompt, settings, spec, {"task": job.index})
            if writing:
                writing[1].result()
                on_done(writing[0])
            writing = (job, writer.submit(write_video, frames, sidecar, out_dir / f"{job.index}.mp4"))
        writing[1].result()
        on_done(writing[0])


def run_jobs_on_ray(jobs: list[Job], out_dir: Path, settings: GenerationSettings, spec: ModelSpec,
                    workers: int, on_done: Callable[[Job], None] = lambda job: None) -> None:
    """One Ray task per shard, each holding a GPU when the cluster has them; results land in ``out_dir``.

    ``out_dir`` must be on storage every node sees (as with any multi-node output folder).
    """
    try:
        import ray
    except ImportError:
        raise MicroverseError("--engine ray needs Ray", fix="pip install 'microverse[ray]'") from None
    ray.init(ignore_reinit_error=True)
    gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
    remote = ray.remote(num_gpus=gpus)(run_jobs)
    shards = [[job for k, job in enumerate(jobs) if k % workers == w] for w in range(workers)]
    refs = {remote.remote(shard, out_dir, settings, spec): shard for shard in shards if shard}
    while refs:
        done, _ = ray.wait(list(refs), num_returns=1)
        ray.get(done[0])
        for job in refs.pop(done[0]):
            on_done(job)
