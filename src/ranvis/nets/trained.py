"""Trained weights for any architecture of the registry, from a local torchvision state dict.
Never downloads: the user names a file (e.g. one torchvision saved for ``vgg19`` or
``resnet18``), so the random-versus-trained comparison works wherever that file exists."""
from __future__ import annotations

from pathlib import Path

import torch

from ranvis.nets import DEFAULT_ARCH, get_arch
from ranvis.nets.base import FrozenNet


def load_trained(path: str | Path, device: str | torch.device = "cpu", pool: str = "avg",
                 arch: str = DEFAULT_ARCH) -> FrozenNet:
    """``arch`` with the trained weights in ``path``; ``pool == "avg"`` swaps max for average
    pooling (Gatys et al. did for VGG). InputError for a missing file or a state dict of
    another architecture."""
    a = get_arch(arch)
    if a.family == "vgg":
        from ranvis.nets.vgg import load_state_dict, net_from_state_dict

        return net_from_state_dict(load_state_dict(path), device, pool, arch=arch)
    from ranvis.nets.zoo import load_trained as zoo_trained

    return zoo_trained(path, arch, device, pool)
