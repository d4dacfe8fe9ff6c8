"""Run-folder layout, checkpoint save/load hooks for accelerate, and the loss log.

A run folder holds ``run_config.json``, ``loss.csv`` + ``loss.png``, ``checkpoints/step-NNNNNN/`` (the
accelerate state — optimizer, LR scheduler, RNG states — plus the trainable weights in the format
inference loads: ``transformer/`` for full fine-tuning, ``pytorch_lora_weights.safetensors`` for LoRA)
and ``final/`` with the same weights after the last step. A checkpoint is written under a ``.partial``
name and renamed when complete, so a kill mid-save never leaves a checkpoint resume would trust.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

LORA_FILE = "pytorch_lora_weights.safetensors"
TRANSFORMER_FILE = "diffusion_pytorch_model.safetensors"
PROGRESS = "progress.json"

# Settings that may change between a run and its resumption without breaking exactness.
RESUMABLE_CHANGES = {"max_steps", "save_every", "keep_checkpoints", "validate_every", "validation_prompts",
                     "validation_steps"}


def checkpoint_dir(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / "checkpoints" / f"step-{step:06d}"


def latest_complete(run_dir: Path) -> tuple[Path, int] | None:
    """Newest checkpoint with its ``progress.json`` (i.e. fully written), and its step."""
    found = sorted(p for p in (Path(run_dir) / "checkpoints").glob("step-*")
                   if not p.name.endswith(".partial") and (p / PROGRESS).is_file())
    if not found:
        return None
    return found[-1], json.loads((found[-1] / PROGRESS).read_text())["step"]


def export_weights(transformer, folder: Path, lora: bool) -> None:
    """Write the trainable weights where :func:`microverse.model.pipelines.loading` looks for them."""
    folder = Path(folder)
    if lora:
        from diffusers import WanPipeline
        from peft.utils import get_peft_model_state_dict

        WanPipeline.save_lora_weights(folder, transformer_lora_layers=get_peft_model_state_dict(transformer),
                                      weight_name=LORA_FILE)
    else:  # one unsharded file: resume reads it back directly (fp32 master weights, bit-exact)
        transformer.save_pretrained(folder / "transformer", max_shard_size="1000GB", safe_serialization=True)


def import_weights(transformer, folder: Path, lora: bool) -> None:
    """Inverse of :func:`export_weights`, into an already-built (and, for LoRA, adapted) transformer."""
    from safetensors.torch import load_file

    if lora:
        from peft.utils import set_peft_model_state_dict

        state = {k.removeprefix("transformer."): v for k, v in load_file(str(Path(folder) / LORA_FILE)).items()}
        result = set_peft_model_state_dict(transformer, state)
        if getattr(result, "unexpected_keys", None):
            raise RuntimeError(f"LoRA checkpoint has unexpected keys: {result.unexpected_keys[:3]}")
    else:
        transformer.load_state_dict(load_file(str(Path(folder) / "transformer" / TRANSFORMER_FILE)), strict=True)


def register_hooks(accelerator, lora: bool) -> None:
    """Make ``accelerator.save_state/load_state`` store the model in inference format (one copy only)."""

    def save_hook(models, weights, output_dir):
        if accelerator.is_main_process:
            for model in models:
                export_weights(accelerator.unwrap_model(model), Path(output_dir), lora)
        weights.clear()  # saved above; accelerate must not write a second copy

    def load_hook(models, input_dir):
        while models:
            import_weights(accelerator.unwrap_model(models.pop()), Path(input_dir), lora)

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)


def save_checkpoint(accelerator, run_dir: Path, step: int, keep: int = 0) -> Path:
    """Write ``checkpoints/step-NNNNNN`` atomically; with ``keep`` > 0, delete all but the newest ``keep``."""
    final = checkpoint_dir(run_dir, step)
    tmp = final.with_name(final.name + ".partial")
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / PROGRESS).write_text(json.dumps({"step": step}) + "\n")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        if keep > 0:
            complete = sorted(p for p in final.parent.glob("step-*") if (p / PROGRESS).is_file())
            for old in complete[:-keep]:
                shutil.rmtree(old)
    accelerator.wait_for_everyone()
    return final


class LossLog:
    """``loss.csv`` (step, loss, lr) appended per step; on resume, rows after the resumed step are
    dropped so the curve has no duplicates. ``plot`` draws ``loss.png`` with a moving average."""

    def __init__(self, run_dir: Path, start_step: int):
        self.path = Path(run_dir) / "loss.csv"
        rows = []
        if start_step and self.path.is_file():
            with self.path.open(newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= start_step]
        with self.path.open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["step", "loss", "lr"])
            writer.writerows([r["step"], r["loss"], r["lr"]] for r in rows)

    def append(self, step: int, loss: float, lr: float) -> None:
        with self.path.open("a", newline="") as f:
            csv.writer(f).writerow([step, f"{loss:.6g}", f"{lr:.6g}"])

    def read(self) -> list[tuple[int, float]]:
        with self.path.open(newline="") as f:
            return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(f)]

    def plot(self) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        rows = self.read()
        out = self.path.with_suffix(".png")
        if not rows:
            return out
        steps, losses = np.array(rows).T
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(steps, losses, lw=0.6, alpha=0.4, label="loss")
        window = max(1, min(100, len(losses) // 10))
        if window > 1:
            smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
            ax.plot(steps[window - 1:], smooth, lw=1.5, label=f"mean of {window}")
        ax.set_xlabel("step")
        ax.set_ylabel("flow-matching loss")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out, dpi=120)
        plt.close(fig)
        return out
