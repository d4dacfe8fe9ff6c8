"""Load the base model (hub id or folder) and apply fine-tuned weights (full checkpoint or LoRA).

Fine-tuned weights may be given as what our trainer writes (a run folder, one of its checkpoints, or
its ``final`` folder) or as what other tools write: a diffusers transformer folder, or one
``.safetensors`` file in diffusers or original-Wan key names (DiffSynth, the official MicroVerse
training code, saves the latter; diffusers' single-file loader converts them).
"""

from __future__ import annotations

from pathlib import Path

from microverse.errors import MicroverseError

LORA_FILE = "pytorch_lora_weights.safetensors"


def pick_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_pipeline(model: str, *, checkpoint: Path | None = None, lora: Path | str | None = None,
                  lora_scale: float = 1.0, device: str | None = None, dtype=None, offload: bool = False,
                  vae_tiling: bool = False):
    """A ready-to-sample :class:`MicroVersePipeline` on ``device``.

    On a GPU the transformer and text encoder run in bf16 and the VAE in fp32 (the combination the
    diffusers Wan docs recommend: the VAE decode is sensitive to bf16); on CPU everything is fp32.
    ``lora`` is a local file/folder/run or a hub repo id holding diffusers-format LoRA weights.
    For small GPUs: ``offload`` keeps each component on the CPU until it runs (diffusers' model CPU
    offload: the 11 GB UMT5-XXL never shares the GPU with the transformer), and ``vae_tiling`` decodes
    in overlapping spatial tiles, which bounds the decode's memory at 480p and above.
    """
    import torch

    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    device = pick_device(device)
    if dtype is None:
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    _check_model_source(model)
    try:
        pipe = MicroVersePipeline.from_pretrained(model, dtype={"default": dtype, "vae": torch.float32})
    except (OSError, ValueError) as exc:
        raise MicroverseError(f"cannot load the base model: {exc}", item=model,
                              fix="pass --model with a diffusers Wan2.1 folder or hub id "
                                  "(e.g. Wan-AI/Wan2.1-T2V-1.3B-Diffusers)") from None
    if checkpoint is not None:  # keeps the base's dtypes, fp32 modules (norms, rope, ...) included
        pipe.transformer = load_transformer_weights(pipe.transformer, Path(checkpoint))
    if lora is not None:
        _load_lora(pipe, str(lora))
        pipe.fuse_lora(lora_scale=lora_scale)
        pipe.unload_lora_weights()  # fused into the base weights: no adapter overhead at sampling time
    if vae_tiling:
        pipe.vae.enable_tiling()
    if offload:
        if not device.startswith("cuda"):
            raise MicroverseError("--offload needs a GPU (it moves each component onto it while it runs)",
                                  fix="drop --offload on a CPU")
        pipe.enable_model_cpu_offload(device=device)
        return pipe
    return pipe.to(device)


def _load_lora(pipe, lora: str) -> None:
    """Local weights (file, folder, run, checkpoint) or, when no such path exists, a hub repo id."""
    path = Path(lora)
    if path.exists() or lora.startswith((".", "/", "~")) or lora.count("/") != 1:
        path = resolve_lora(path)
        pipe.load_lora_weights(str(path.parent), weight_name=path.name, adapter_name="microverse")
        return
    try:  # diffusers finds the .safetensors LoRA file in the repo
        pipe.load_lora_weights(lora, adapter_name="microverse")
    except Exception as exc:  # noqa: BLE001 - offline, no such repo, no LoRA file in it: one user-facing problem
        raise MicroverseError(f"cannot load LoRA weights from the hub: {exc}", item=lora,
                              fix="pass a local LoRA file or run folder, or a hub repo id with diffusers LoRA "
                                  "weights (and network access)") from None


def _check_model_source(model: str) -> None:
    path = Path(model)
    looks_local = model.startswith((".", "/", "~")) or path.exists()
    if looks_local and not (path / "model_index.json").is_file():
        raise MicroverseError("not a diffusers pipeline folder (no model_index.json)", file=model,
                              fix="point --model at a diffusers Wan2.1 folder, or run `microverse model tiny DIR`")


def latest_checkpoint(run_or_checkpoint: Path) -> Path:
    """A run folder resolves to its ``final`` folder, else its newest ``checkpoints/step-*``."""
    if (run_or_checkpoint / "final").is_dir():
        return run_or_checkpoint / "final"
    steps = sorted((run_or_checkpoint / "checkpoints").glob("step-*"))
    return steps[-1] if steps else run_or_checkpoint


def resolve_lora(path: Path) -> Path:
    """The LoRA ``.safetensors`` file behind a file, a folder holding it, or a training run/checkpoint."""
    if path.is_file():
        return path
    if path.is_dir():
        base = latest_checkpoint(path)
        for candidate in (base / LORA_FILE, base / "lora" / LORA_FILE):
            if candidate.is_file():
                return candidate
    raise MicroverseError(f"no LoRA weights ({LORA_FILE}) found", file=str(path),
                          fix="pass the LoRA file, or a run folder trained with --lora RANK")


def load_transformer_weights(transformer, path: Path):
    """Replace ``transformer``'s weights with a full fine-tuned checkpoint (strict: every key must match)."""
    from diffusers import WanTransformer3DModel
    from safetensors.torch import load_file

    if not path.exists():
        raise MicroverseError("checkpoint not found", file=str(path))
    if path.is_dir():
        base = latest_checkpoint(path)
        folder = base / "transformer" if (base / "transformer" / "config.json").is_file() else base
        if not (folder / "config.json").is_file():
            raise MicroverseError("no transformer weights in this folder", file=str(path),
                                  fix="pass a run folder trained without --lora, or a diffusers transformer folder")
        return WanTransformer3DModel.from_pretrained(folder, dtype=transformer.dtype)
    state = load_file(str(path))
    if set(state) == set(transformer.state_dict()):
        transformer.load_state_dict(state, strict=True)
        return transformer
    import tempfile

    with tempfile.TemporaryDirectory(prefix="microverse-wan-config-") as config:
        transformer.save_config(config)
        try:  # original Wan key names (DiffSynth / official checkpoints): let diffusers convert them
            return WanTransformer3DModel.from_single_file(str(path), config=config, dtype=transformer.dtype)
        except Exception as exc:  # noqa: BLE001 - any conversion failure is the same user-facing problem
            raise MicroverseError(f"weights do not fit the base transformer ({exc})", file=str(path),
                                  fix="use a checkpoint fine-tuned from the same base --model") from None
