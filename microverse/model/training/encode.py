"""Turn (clip, prompt) into what the transformer trains on: normalised VAE latents and T5 embeddings.

Shared by the precompute step and by on-the-fly training so both produce bit-identical inputs
(a test trains once from the cache and once without and compares the weights). Both round through
:data:`STORE_DTYPE`, the cache's on-disk precision.
"""

from __future__ import annotations

import torch

# bf16 halves the cache (a 480x832x81 latent is 16x21x60x104: 4 MB in bf16); its rounding (0.4%) is far
# below the noise the objective adds, and the transformer consumes bf16 under autocast anyway.
STORE_DTYPE = torch.bfloat16
# Wan pads every prompt embedding to 512 tokens and its transformer attends to the zero padding too, so
# training must feed the same fixed length that sampling uses.
TEXT_LENGTH = 512


def load_frozen_pipeline(model: str, transformer, device):
    """The pipeline around ``transformer`` (for encoding and validation samples): T5 in bf16 on a GPU
    (as at inference), fp32 on CPU; the VAE in fp32."""
    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    text_dtype = torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32
    return MicroVersePipeline.from_pretrained(model, transformer=transformer,
                                              dtype={"default": torch.float32, "text_encoder": text_dtype})


class ConditionEncoder:
    """The frozen VAE and UMT5 encoder of a Wan pipeline, used exactly as the pipeline uses them."""

    def __init__(self, pipe, device, max_sequence_length: int = TEXT_LENGTH):
        self.pipe = pipe
        self.device = device
        self.max_sequence_length = max_sequence_length
        for module in (pipe.vae, pipe.text_encoder):
            module.requires_grad_(False).eval().to(device)

    @torch.no_grad()
    def text(self, prompts: list[str]) -> list[torch.Tensor]:
        """Per prompt, the T5 embedding trimmed to its tokens (Wan zero-pads to 512; padding is re-added
        at batch time, so storing it would only cost disk)."""
        # WanPipeline's own prompt path (cleaning, tokenising, zeroing the padding): training must see
        # exactly the embeddings sampling will use.
        padded = self.pipe._get_t5_prompt_embeds(prompt=prompts, max_sequence_length=self.max_sequence_length,
                                                 device=self.device, dtype=torch.float32)
        return [trim(e).to(STORE_DTYPE).cpu() for e in padded]

    @torch.no_grad()
    def video(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) in [-1, 1] -> normalised latents (B, 16, 1+(T-1)/4, H/8, W/8).

        Uses the posterior mean (deterministic), normalised with the VAE's per-channel statistics —
        the inverse of what the pipeline applies before decoding.
        """
        vae = self.pipe.vae
        z = vae.encode(clips.to(self.device, vae.dtype)).latent_dist.mode()
        mean = torch.tensor(vae.config.latents_mean, device=z.device).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, device=z.device).view(1, -1, 1, 1, 1)
        return ((z.float() - mean) / std).to(STORE_DTYPE).cpu()


def trim(embedding: torch.Tensor) -> torch.Tensor:
    """Drop the all-zero padding rows Wan's encoder output carries after the last token."""
    nonzero = embedding.abs().sum(-1).nonzero()
    return embedding[: int(nonzero.max()) + 1] if len(nonzero) else embedding[:1]


def pad_text(embeds: list[torch.Tensor], length: int) -> torch.Tensor:
    """Zero-pad trimmed embeddings back to Wan's fixed text length (the transformer attends to padding)."""
    out = torch.zeros(len(embeds), length, embeds[0].shape[-1], dtype=embeds[0].dtype)
    for i, e in enumerate(embeds):
        out[i, : len(e)] = e[:length]
    return out
