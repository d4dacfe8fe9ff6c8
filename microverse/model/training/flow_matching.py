"""Wan2.1's rectified-flow training objective.

A clean latent x0 and Gaussian noise e are mixed at noise level sigma: x_t = (1 - sigma) x0 + sigma e;
the transformer, given x_t and timestep 1000 * sigma, predicts the velocity e - x0; the loss is the
mean squared error. sigma is drawn uniformly from Wan's 1000-step training schedule after the
timestep shift s (sigma' = s sigma / (1 + (s - 1) sigma), s = 5 as in Wan's and DiffSynth's training
schedulers), which spends more steps at high noise where large-scale structure is decided.
"""

from __future__ import annotations

import torch

NUM_TRAIN_TIMESTEPS = 1000


def shifted_sigma(u: torch.Tensor, shift: float) -> torch.Tensor:
    return shift * u / (1 + (shift - 1) * u)


def sample_sigmas(batch: int, shift: float, generator: torch.Generator) -> torch.Tensor:
    """One sigma per sample from the shifted 1000-step schedule (sigma in (0, 1])."""
    index = torch.randint(0, NUM_TRAIN_TIMESTEPS, (batch,), generator=generator)
    return shifted_sigma(1.0 - index.float() / NUM_TRAIN_TIMESTEPS, shift)


def flow_matching_loss(transformer, latents: torch.Tensor, text: torch.Tensor, noise: torch.Tensor,
                       sigmas: torch.Tensor) -> torch.Tensor:
    """MSE between the predicted and true velocity, in fp32 whatever precision the forward ran in."""
    s = sigmas.view(-1, 1, 1, 1, 1).to(latents)
    noisy = (1 - s) * latents + s * noise
    pred = transformer(hidden_states=noisy, timestep=sigmas.to(latents) * NUM_TRAIN_TIMESTEPS,
                       encoder_hidden_states=text, return_dict=False)[0]
    return torch.nn.functional.mse_loss(pred.float(), (noise - latents).float())
