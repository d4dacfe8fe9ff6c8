"""How many AdamW updates survive when the weights themselves are bf16 (CPU, a few seconds).

Why: the paper trains with "mixed_precision bf16, dit_precision fp32". At lr 1e-5 an AdamW step moves a
weight by about 1e-5 (Adam normalises the gradient), but bf16 keeps 8 significant bits: a weight of
magnitude 0.02 sits on a grid of spacing 2^-13 = 1.2e-4, so a 1e-5 step rounds back to the old value.
This script measures it on one transformer block of the real Wan2.1-1.3B width (diffusers' own init),
random gradients, and AdamW with the paper's lr and weight decay:

  fp32 master : weights and Adam state fp32 (what `microverse train` does); its bf16 view is what a
                bf16 forward would see.
  pure bf16   : weights and Adam state bf16 (torch AdamW on bf16 parameters).

Reported: the share of weight elements whose stored value changed after 1 and after N steps, and the
norm of the total update relative to the fp32-master run.

    python benchmarks/train_bf16_rounding.py [--steps 50] [--lr 1e-5]
"""

from __future__ import annotations

import argparse
import json

import torch


def one_block():
    from diffusers import WanTransformer3DModel

    from microverse.model.configs.tiny import WAN21_1_3B_TRANSFORMER

    torch.manual_seed(0)
    config = {**WAN21_1_3B_TRANSFORMER, "num_layers": 1}
    return WanTransformer3DModel(**config).blocks[0]


def run(steps: int, lr: float, weight_decay: float) -> dict:
    block = one_block()
    start = {n: p.detach().clone() for n, p in block.named_parameters()}
    fp32 = {n: p.detach().clone().float().requires_grad_() for n, p in start.items()}
    bf16 = {n: p.detach().clone().bfloat16().requires_grad_() for n, p in start.items()}
    opt32 = torch.optim.AdamW(fp32.values(), lr=lr, weight_decay=weight_decay)
    opt16 = torch.optim.AdamW(bf16.values(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(1)
    total = sum(p.numel() for p in start.values())
    out = {"parameters": total, "lr": lr, "weight_decay": weight_decay, "steps": steps}
    for step in range(1, steps + 1):
        for name in start:
            grad = torch.randn(start[name].shape, generator=gen)
            fp32[name].grad = grad.clone()
            bf16[name].grad = grad.bfloat16()
        opt32.step()
        opt16.step()
        if step in (1, steps):
            w0 = {n: v.bfloat16() for n, v in start.items()}
            changed16 = sum(int((bf16[n].detach() != w0[n]).sum()) for n in start)
            changed32_view = sum(int((fp32[n].detach().bfloat16() != w0[n]).sum()) for n in start)
            changed32 = sum(int((fp32[n].detach() != start[n]).sum()) for n in start)
            out[f"step_{step}"] = {
                "fp32_master_changed": changed32 / total,
                "fp32_master_bf16_view_changed": changed32_view / total,
                "pure_bf16_changed": changed16 / total,
            }
    delta32 = torch.cat([(fp32[n].detach() - start[n]).flatten() for n in start])
    delta16 = torch.cat([(bf16[n].detach().float() - start[n].bfloat16().float()).flatten() for n in start])
    out["pure_bf16_update_norm_vs_fp32"] = float(delta16.norm() / delta32.norm())
    out["median_abs_weight"] = float(torch.cat([v.abs().flatten() for v in start.values()]).median())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-5)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    args = parser.parse_args()
    print(json.dumps(run(args.steps, args.lr, args.weight_decay), indent=2))


if __name__ == "__main__":
    main()
