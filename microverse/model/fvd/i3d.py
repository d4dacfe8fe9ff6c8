"""Inception-I3D (Carreira & Zisserman 2017), the Kinetics-400 network FVD is defined on, in plain torch.

Written by hand because no torch package ships it without torchvision, and because matching the
DeepMind/TF network exactly needs TF "SAME" padding (asymmetric, computed from the input size; -inf for
max-pools), which ``nn.Conv3d(padding=...)`` cannot express. Module names mirror the checkpoint's
scopes (``Mixed_4b.Branch_1.Conv3d_0b_3x3``) so weight conversion is a rename.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# (name, kind, args): the Inception-v1-inflated trunk up to Mixed_5c.
INCEPTION_CHANNELS = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32), "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64), "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64), "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128), "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
POOLS = {"MaxPool3d_2a_3x3": ((1, 3, 3), (1, 2, 2)), "MaxPool3d_3a_3x3": ((1, 3, 3), (1, 2, 2)),
         "MaxPool3d_4a_3x3": ((3, 3, 3), (2, 2, 2)), "MaxPool3d_5a_2x2": ((2, 2, 2), (2, 2, 2))}
ORDER = ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3", "MaxPool3d_3a_3x3",
         "Mixed_3b", "Mixed_3c", "MaxPool3d_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
         "Mixed_4f", "MaxPool3d_5a_2x2", "Mixed_5b", "Mixed_5c"]


def same_padding(x: torch.Tensor, kernel, stride, value: float = 0.0) -> torch.Tensor:
    """TF 'SAME': output = ceil(input / stride), the extra padding pixel goes after, not before."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max((math.ceil(size / s) - 1) * s + k - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads, value=value) if any(pads) else x


class ShiftNorm(nn.Module):
    """Inference batch norm without scale (Sonnet v1 ``BatchNorm(scale=False)``, eps 1e-3)."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("bias", torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, None, self.bias, False, 0.0, 1e-3)


class Unit3D(nn.Module):
    def __init__(self, cin: int, cout: int, kernel=(1, 1, 1), stride=(1, 1, 1), norm: bool = True,
                 relu: bool = True, bias: bool = False):
        super().__init__()
        self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
        self.conv = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=bias)
        self.bn = ShiftNorm(cout) if norm else None

    def forward(self, x):
        x = self.conv(same_padding(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class Inception(nn.Module):
    def __init__(self, cin: int, c: tuple[int, ...]):
        super().__init__()
        self.Branch_0 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(cin, c[0])})
        self.Branch_1 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(cin, c[1]), "Conv3d_0b_3x3": Unit3D(c[1], c[2], (3, 3, 3))})
        self.Branch_2 = nn.ModuleDict({"Conv3d_0a_1x1": Unit3D(cin, c[3]), "Conv3d_0b_3x3": Unit3D(c[3], c[4], (3, 3, 3))})
        self.Branch_3 = nn.ModuleDict({"Conv3d_0b_1x1": Unit3D(cin, c[5])})
        self.out_channels = c[0] + c[2] + c[4] + c[5]

    def forward(self, x):
        b0 = self.Branch_0["Conv3d_0a_1x1"](x)
        b1 = self.Branch_1["Conv3d_0b_3x3"](self.Branch_1["Conv3d_0a_1x1"](x))
        b2 = self.Branch_2["Conv3d_0b_3x3"](self.Branch_2["Conv3d_0a_1x1"](x))
        pooled = F.max_pool3d(same_padding(x, (3, 3, 3), (1, 1, 1), float("-inf")), 3, 1)
        b3 = self.Branch_3["Conv3d_0b_1x1"](pooled)
        return torch.cat([b0, b1, b2, b3], dim=1)


class InceptionI3d(nn.Module):
    """Input (B, 3, T, 224, 224) in [-1, 1]; output the 400 Kinetics logits averaged over time — the
    feature FVD uses (the TF-Hub module's output)."""

    def __init__(self, num_classes: int = 400):
        super().__init__()
        self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(64, 64)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
        cin = 192
        for name, channels in INCEPTION_CHANNELS.items():
            block = Inception(cin, channels)
            setattr(self, name, block)
            cin = block.out_channels
        self.Logits = nn.ModuleDict({"Conv3d_0c_1x1": Unit3D(cin, num_classes, norm=False, relu=False, bias=True)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name in ORDER:
            if name in POOLS:
                kernel, stride = POOLS[name]
                x = F.max_pool3d(same_padding(x, kernel, stride, float("-inf")), kernel, stride)
            else:
                x = getattr(self, name)(x)
        x = F.avg_pool3d(x, (2, 7, 7), 1)  # VALID: needs >= 9 input frames and 224x224 input
        logits = self.Logits["Conv3d_0c_1x1"](x)
        return logits.mean(dim=(3, 4)).mean(dim=2)
