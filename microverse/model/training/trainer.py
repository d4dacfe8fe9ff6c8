"""Fine-tune Wan2.1 (full or LoRA) with accelerate, the paper's settings as defaults.

Precision: the trainable weights and AdamW state stay fp32 and the forward runs under bf16 autocast
(accelerate ``mixed_precision="bf16"``). Pure-bf16 weights would lose most updates: at lr 1e-5 an
AdamW step changes a weight by ~1e-5 relative, below bf16's 2^-8 spacing (see
``benchmarks/train_bf16_rounding.py`` and docs/benchmarks/model.md).

Exact resume: weights, optimizer and LR-scheduler state come from the checkpoint; every random draw
(noise, timesteps, text dropout) uses a generator seeded from (seed, step, process, micro-step), and
batches are a pure function of (seed, step) (:mod:`.batches`) — so a run stopped at step k and resumed
ends bit-identical to one run straight through (tested).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from microverse.errors import MicroverseError
from microverse.model.configs import GenerationSettings, TrainSettings

LORA_TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]  # attention projections of every Wan block


@dataclass
class TrainJob:
    data: Path
    out: Path
    model: str
    settings: TrainSettings
    cache: Path | None = None      # None: the default cache folder, used if it matches
    resume: bool = False
    num_workers: int = 0


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    last_loss: float | None
    used_cache: bool


def train(job: TrainJob, on_step: Callable[[int, float], None] = lambda step, loss: None) -> TrainResult:
    """Run (or resume) a fine-tuning job; ``on_step(step, loss)`` is called after every optimizer step."""
    import torch
    from accelerate import Accelerator
    from diffusers.optimization import get_scheduler

    from microverse.model.training import batches, checkpoints
    from microverse.model.training.encode import TEXT_LENGTH, pad_text

    s = job.settings
    if s.deterministic:
        _deterministic()
    from microverse.model.training.data import load_records

    records = load_records(job.data)  # bad data fails before anything is created
    run_dir = Path(job.out)
    resume_from = _prepare_run_dir(run_dir, job)
    accelerator = Accelerator(mixed_precision=s.mixed_precision, step_scheduler_with_optimizer=False)
    accum = _accumulation(s, accelerator.num_processes)
    accelerator.gradient_accumulation_steps = accum
    device = accelerator.device
    source = _Source(job, records, device)
    transformer = source.transformer
    lora = bool(s.lora_rank)
    if lora:
        from peft import LoraConfig

        transformer.requires_grad_(False)
        transformer.add_adapter(LoraConfig(r=s.lora_rank, lora_alpha=s.lora_alpha or s.lora_rank,
                                           init_lora_weights=True, target_modules=LORA_TARGETS))
    if s.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    transformer.train()
    optimizer = torch.optim.AdamW([p for p in transformer.parameters() if p.requires_grad], lr=s.learning_rate,
                                  weight_decay=s.weight_decay)
    lr_scheduler = get_scheduler("constant_with_warmup", optimizer, num_warmup_steps=s.warmup_steps)
    transformer, optimizer, lr_scheduler = accelerator.prepare(transformer, optimizer, lr_scheduler)
    checkpoints.register_hooks(accelerator, lora)

    start = 0
    if resume_from is not None:
        accelerator.load_state(str(resume_from[0]))
        start = resume_from[1]
    if start >= s.max_steps:
        return TrainResult(run_dir, start, None, source.used_cache)
    log = checkpoints.LossLog(run_dir, start) if accelerator.is_main_process else None
    sampler = batches.StepBatches(len(source.dataset), s.batch_size, s.micro_batch_size,
                                  accelerator.num_processes, accelerator.process_index, s.seed, start, s.max_steps)
    batch_iter = iter(torch.utils.data.DataLoader(source.dataset, batch_sampler=sampler,
                                                  collate_fn=batches.collate, num_workers=job.num_workers))
    dropped_text = pad_text([source.empty_text], TEXT_LENGTH)[0]
    if s.dropout_embedding == "zeros":  # FastVideo's convention (the paper's argument names are FastVideo's)
        dropped_text = torch.zeros_like(dropped_text)

    loss_value = None
    for step in range(start, s.max_steps):
        step_loss = torch.zeros((), device=device)
        for micro in range(accum):
            latents, text = batches.to_model_inputs(next(batch_iter), source.encoder, TEXT_LENGTH)
            with accelerator.accumulate(transformer):
                loss = _micro_step_loss(transformer, latents, text, dropped_text, s, device,
                                        batches.seed_for(s.seed, step, accelerator.process_index, micro))
                accelerator.backward(loss)
                if accelerator.sync_gradients and s.max_grad_norm:
                    accelerator.clip_grad_norm_(transformer.parameters(), s.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            step_loss += loss.detach() / accum
        lr_scheduler.step()
        loss_value = float(accelerator.reduce(step_loss, reduction="mean"))
        done = step + 1
        if log is not None:
            log.append(done, loss_value, lr_scheduler.get_last_lr()[0])
        on_step(done, loss_value)
        if s.save_every and (done % s.save_every == 0 or done == s.max_steps):
            checkpoints.save_checkpoint(accelerator, run_dir, done, keep=s.keep_checkpoints)
            if log is not None:
                log.plot()
        if s.validate_every and s.validation_prompts and done % s.validate_every == 0:
            _validation_samples(accelerator, source.pipe, transformer, run_dir, done, job)

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        checkpoints.export_weights(accelerator.unwrap_model(transformer), run_dir / "final", lora)
        log.plot()
    accelerator.end_training()
    return TrainResult(run_dir, s.max_steps, loss_value, source.used_cache)


class _Source:
    """The trainable transformer and where its inputs come from: the latent cache when it matches
    (then neither the VAE nor T5 is loaded, unless validation samples need them), else the videos,
    encoded on the training device."""

    def __init__(self, job: TrainJob, records, device):
        import torch
        from diffusers import WanTransformer3DModel

        from microverse.model.training import batches, cache
        from microverse.model.training.encode import ConditionEncoder, load_frozen_pipeline

        s = job.settings
        key = cache.CacheKey(job.model, s.height, s.width, s.frames)
        cache_dir = Path(job.cache) if job.cache else cache.default_cache_dir(job.data, key)
        self.used_cache = cache.cache_matches(cache_dir, key) and all(
            cache.item_path(cache_dir, r.id).is_file() for r in records)
        if job.cache and not self.used_cache:
            raise MicroverseError("the cache does not match this run (or is incomplete)", file=str(cache_dir),
                                  fix="run `microverse precompute` with the same --data, --model and size")
        try:  # fp32 master weights; the frozen parts only when needed (T5-XXL alone is 11 GB in bf16)
            self.transformer = WanTransformer3DModel.from_pretrained(job.model, subfolder="transformer",
                                                                     dtype=torch.float32)
            needs_pipe = not self.used_cache or s.validate_every
            self.pipe = load_frozen_pipeline(job.model, self.transformer, device) if needs_pipe else None
        except (OSError, ValueError) as exc:
            raise MicroverseError(f"cannot load the base model: {exc}", item=job.model,
                                  fix="pass --model with a diffusers Wan2.1 folder or hub id") from None
        if self.used_cache:
            from safetensors.torch import load_file

            self.encoder = None
            self.empty_text = load_file(str(cache_dir / cache.EMPTY))["text"]
            self.dataset = batches.CachedExamples(cache_dir, records)
        else:
            self.encoder = ConditionEncoder(self.pipe, device)
            self.empty_text = self.encoder.text([""])[0]
            self.dataset = batches.ClipExamples(records, s.frames, s.height, s.width)


def _micro_step_loss(transformer, latents, text, dropped_text, s: TrainSettings, device, seed: int):
    """Loss of one micro-batch; all its randomness (dropout, noise, sigma) comes from ``seed``."""
    import torch

    from microverse.model.training.flow_matching import flow_matching_loss, sample_sigmas

    gen = torch.Generator().manual_seed(seed)
    drop = torch.rand(len(latents), generator=gen) < s.text_dropout
    text[drop] = dropped_text.to(text.dtype)
    noise = torch.randn(latents.shape, generator=gen)
    sigmas = sample_sigmas(len(latents), s.timestep_shift, gen)
    return flow_matching_loss(transformer, latents.to(device, torch.float32), text.to(device, torch.float32),
                              noise.to(device), sigmas.to(device))


def _deterministic() -> None:
    """Deterministic GPU kernels: needed for bit-exact resume on a GPU, where e.g. attention backward
    and cuBLAS split-K reductions otherwise vary run to run (CPU kernels are deterministic already)."""
    import os

    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def _accumulation(s: TrainSettings, world: int | None) -> int:
    world = world or 1
    if s.batch_size % (s.micro_batch_size * world):
        raise MicroverseError(f"--batch-size {s.batch_size} must be a multiple of --micro-batch-size "
                              f"{s.micro_batch_size} x {world} processes")
    return s.batch_size // (s.micro_batch_size * world)


def _prepare_run_dir(run_dir: Path, job: TrainJob):
    """Create the run folder (or check it may be resumed); returns the checkpoint to resume from."""
    from microverse.model.training.checkpoints import RESUMABLE_CHANGES, latest_complete

    config = {"model": job.model, "data": str(job.data), **job.settings.to_dict()}
    config_path = run_dir / "run_config.json"
    found = latest_complete(run_dir) if run_dir.is_dir() else None
    if found and not job.resume:
        raise MicroverseError("run folder already has checkpoints", file=str(run_dir),
                              fix="add --resume to continue it, or choose a new --out")
    if found and config_path.is_file():
        old = json.loads(config_path.read_text())
        changed = sorted(k for k in set(old) | set(config)
                         if k not in RESUMABLE_CHANGES and old.get(k) != config.get(k))
        if changed:
            raise MicroverseError(f"--resume with different settings: {', '.join(changed)}", file=str(config_path),
                                  fix="resume with the run's original settings (only --max-steps, --save-every "
                                      "and validation options may change)")
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return found


def _validation_samples(accelerator, pipe, transformer, run_dir: Path, step: int, job: TrainJob) -> None:
    """Sample the fixed validation prompts with the current weights into ``samples/step-NNNNNN/``."""
    import torch

    from microverse.model.pipelines.generate import ModelSpec, generate_video

    if accelerator.is_main_process:
        s = job.settings
        model = accelerator.unwrap_model(transformer)
        pipe.transformer = model
        pipe.vae.to(accelerator.device)
        pipe.text_encoder.to(accelerator.device)
        pipe.set_progress_bar_config(disable=True)
        spec = ModelSpec(model=job.model, checkpoint=f"{run_dir}@step{step}")
        model.eval()
        with accelerator.autocast(), torch.no_grad():
            for i, prompt in enumerate(s.validation_prompts):
                settings = GenerationSettings(height=s.height, width=s.width, frames=s.frames,
                                              steps=s.validation_steps, seed=i)
                generate_video(pipe, prompt, settings, run_dir / "samples" / f"step-{step:06d}" / f"{i}.mp4", spec)
        model.train()
    accelerator.wait_for_everyone()
