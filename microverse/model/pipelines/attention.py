"""Pick the fastest attention kernel this machine has, by timing it at the real sequence length.

Wan2.1 at 480x832x81 attends over 32,760 tokens per sample, so attention is most of a denoising step.
Which kernel wins (PyTorch SDPA's own choice, cuDNN, flash-attention 2 or 3, ...) depends on the GPU,
the torch build and the installed packages, and diffusers can dispatch to all of them; timing one
call of each that is usable here is cheaper and surer than a hand-written rule.
"""

from __future__ import annotations

import time

# diffusers backend names: the native ones always present, the flash-attention ones only with their
# package (a call without it raises, and the backend is skipped). Exact kernels only: SageAttention's
# int8 quantisation would change the output, which the speed comparison must not do silently.
CANDIDATES = ("native", "_native_cudnn", "_native_flash", "_native_efficient", "_flash_3", "flash")


def video_tokens(frames: int, height: int, width: int) -> int:
    """Transformer tokens of one Wan2.1 video: 4x temporal and 8x spatial VAE, then 1x2x2 patches."""
    return (1 + (frames - 1) // 4) * (height // 16) * (width // 16)


def check_backend(name: str, heads: int, head_dim: int, *, device: str, dtype) -> None:
    """Raise (ValueError, RuntimeError) unless backend ``name`` runs a small self-attention of this head shape here.

    diffusers accepts a name whose kernel cannot run here (cuDNN on a CPU, flash on an older GPU),
    which would otherwise fail only mid-sampling, after the model has loaded. The check runs in
    diffusers' ``attention_backend`` context, which checks the kernel's package and restores the
    process-wide default after; ``set_attention_backend`` changes that default even when it fails.
    """
    import torch
    from diffusers.models.attention_dispatch import AttentionBackendName, attention_backend, dispatch_attention_fn

    names = sorted(b.value for b in AttentionBackendName)
    if name not in names:
        raise ValueError(f"no such backend (diffusers has: {', '.join(names)})")
    q = torch.zeros(2, 16, heads, head_dim, device=device, dtype=dtype)
    with attention_backend(name):
        dispatch_attention_fn(q, q, q, backend=name)


def fastest_attention_backend(heads: int, head_dim: int, tokens: int, *, batch: int = 2, dtype=None,
                              device: str = "cuda", candidates=CANDIDATES, repeats: int = 3) -> tuple[str, dict]:
    """The fastest usable backend for self-attention of this shape, and every usable one's seconds.

    A backend is usable when it runs here and its output agrees with the first candidate's (PyTorch
    SDPA's own choice): a kernel that runs but returns NaNs or garbage on this GPU/torch is skipped.
    """
    import torch
    from diffusers.models.attention_dispatch import dispatch_attention_fn

    dtype = dtype or (torch.bfloat16 if device.startswith("cuda") else torch.float32)
    gen = torch.Generator(device).manual_seed(0)
    q, k, v = (torch.randn(batch, tokens, heads, head_dim, generator=gen, device=device, dtype=dtype)
               for _ in range(3))
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    seconds: dict[str, float] = {}
    reference = None
    for name in candidates:
        try:
            out = dispatch_attention_fn(q, k, v, backend=name).float()  # warm-up; raises if unusable here
            reference = out if reference is None else reference
            if not (out - reference).abs().max() <= 0.05 * reference.abs().max() + 1e-3:  # NaN fails too
                continue
            sync()
            start = time.perf_counter()
            for _ in range(repeats):
                dispatch_attention_fn(q, k, v, backend=name)
            sync()
        except Exception:  # noqa: BLE001 - missing package, unsupported GPU/dtype/shape: not a candidate
            continue
        seconds[name] = (time.perf_counter() - start) / repeats
    if not seconds:
        raise RuntimeError("no attention backend ran on this machine")
    return min(seconds, key=seconds.get), seconds
