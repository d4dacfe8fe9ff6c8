"""Settings with the paper's values as defaults (Appendix E: training, Appendix F: inference).

Kept as plain dataclasses so a command, a test or a benchmark can build one, override a field and
record it next to its output (the JSON sidecar of every video, ``run_config.json`` of every run).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

DEFAULT_MODEL = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"

# Wan2.1's own negative prompt (the default of the official inference script and of DiffSynth); the
# unconditional branch of classifier-free guidance uses it at sampling time.
WAN_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
    "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，"
    "手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)


@dataclass
class GenerationSettings:
    """Paper Appendix F: 480x832, 81 frames, guidance 5.0, 50 steps."""

    height: int = 480
    width: int = 832
    frames: int = 81
    steps: int = 50
    guidance: float = 5.0
    seed: int = 0
    fps: int = 16  # Wan2.1 is trained on 16 fps clips; 81 frames = 5 s
    negative_prompt: str = WAN_NEGATIVE_PROMPT
    max_sequence_length: int = 512

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainSettings:
    """Paper Appendix E (Table 4) as defaults; the rest are choices documented in docs/model.md."""

    learning_rate: float = 1e-5
    batch_size: int = 8          # global batch (all processes, all accumulation micro-steps)
    micro_batch_size: int = 1    # per process per forward; the rest is gradient accumulation
    max_steps: int = 5000
    weight_decay: float = 0.01
    mixed_precision: str = "bf16"   # autocast; master weights and optimizer state stay fp32
    text_dropout: float = 0.1       # --training_cfg_rate 0.1
    dropout_embedding: str = "empty"  # what a dropped prompt becomes: "empty" prompt's T5 output, or "zeros"
    height: int = 480
    width: int = 832
    frames: int = 81
    gradient_checkpointing: bool = True
    save_every: int = 500
    keep_checkpoints: int = 0        # 0 keeps all; N keeps the newest N (a full-model checkpoint is ~16 GB)
    deterministic: bool = False      # deterministic GPU kernels (bit-exact resume on GPU; slower)
    seed: int = 0
    lora_rank: int | None = None
    lora_alpha: float | None = None  # defaults to the rank (scale 1)
    timestep_shift: float = 5.0      # the shift of Wan's training flow-matching schedule
    warmup_steps: int = 0
    max_grad_norm: float = 1.0
    validate_every: int = 0
    validation_prompts: list[str] = field(default_factory=list)
    validation_steps: int = 50

    def to_dict(self) -> dict:
        return asdict(self)


def accelerate_config(name: str) -> Path:
    """Path of a shipped accelerate config (``single_gpu``, ``multi_gpu``, ``deepspeed_zero2``, ``fsdp``)."""
    path = Path(str(resources.files(__package__) / "accelerate" / f"{name}.yaml"))
    if not path.is_file():
        available = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise FileNotFoundError(f"no shipped accelerate config {name!r}; available: {', '.join(available)}")
    return path
