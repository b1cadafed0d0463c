"""The multi-scale single-layer random network of Ustyuzhaninov, Brendel, Gatys and Bethge
("What does it take to generate natural textures?", ICLR 2017): one convolutional layer with
filters of 3, 5, 7, 11, 15, 23, 37 and 55 px, 128 maps each (1024 in all), zero padding that keeps
the size, ReLU, no pooling. Their strongest texture model without training and without depth,
so a study can ask whether depth matters. Taps: ``conv`` (the 1024 maps before the ReLU) and
``relu``; weighted layers ``conv.convs.0`` … ``conv.convs.7``, one seed each.
"""
from __future__ import annotations

import torch
from torch import nn

SIZES = (3, 5, 7, 11, 15, 23, 37, 55)
MAPS = 128


class MultiScaleConv(nn.Module):
    """Eight convolutions of the input, one per filter size, concatenated: [B, 1024, H, W]."""

    def __init__(self, sizes: tuple[int, ...] = SIZES, maps: int = MAPS) -> None:
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(3, maps, k, padding=k // 2) for k in sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x) for conv in self.convs], dim=1)


class MultiScaleNet(nn.Module):
    """``relu(MultiScaleConv(x))``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = MultiScaleConv()
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))
