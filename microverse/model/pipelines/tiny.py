"""Write a tiny random Wan2.1 pipeline folder, loadable offline with ``WanPipeline.from_pretrained``.

Nothing is downloaded: the UMT5 encoder, VAE and transformer come from the configs in
:mod:`microverse.model.configs.tiny` with seeded random weights, and the tokenizer is a character-level
Unigram vocabulary built in memory and saved in the T5 tokenizer format Wan's pipeline loads.
"""

from __future__ import annotations

import string
from pathlib import Path


def tiny_tokenizer():
    """A T5-format tokenizer whose vocabulary is single characters (every ASCII prompt tokenizes)."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    chars = string.ascii_letters + string.digits + string.punctuation
    pieces += [(f"▁{c}", -3.0) for c in chars] + [(c, -4.0) for c in chars]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def build_tiny_pipeline(seed: int = 0):
    """The tiny :class:`WanPipeline` in memory (float32, CPU)."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    from microverse.model.configs import tiny

    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(UMT5Config(vocab_size=len(tokenizer), **tiny.TEXT_ENCODER)).eval()
    vae = AutoencoderKLWan(**tiny.VAE).eval()
    transformer = WanTransformer3DModel(**tiny.TRANSFORMER).eval()
    scheduler = UniPCMultistepScheduler(**tiny.SCHEDULER)
    return WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=scheduler)


def write_tiny_pipeline(out_dir: Path, seed: int = 0) -> Path:
    """Save the tiny pipeline in diffusers layout (model_index.json + one folder per component)."""
    pipe = build_tiny_pipeline(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pipe.save_pretrained(out_dir)
    return out_dir
