"""Make the network a spec describes: ``build_net(spec, device)``.

The registry (``nets.get_arch``) knows each architecture as data (nets.arch.Arch: taps, shapes,
presets); this module is the one place that turns a spec into weights and a forward pass, by the
architecture's family: ``vgg`` → nets.vgg.Net (ranvis's own fast path), ``graph`` →
nets.zoo.ZooNet (torchvision's module tree), ``timm`` → nets.timmnet.TimmNet. Keeping the
network classes out of the registry is what lets a spec and a network look their architecture
up in it without an import cycle.
"""
from __future__ import annotations

import torch

from ranvis.nets import get_arch
from ranvis.nets.base import FrozenNet
from ranvis.nets.spec import NetSpec
from ranvis.nets.timmnet import TimmNet
from ranvis.nets.vgg import Net
from ranvis.nets.zoo import ZooNet

NETWORKS: dict[str, type[FrozenNet]] = {"vgg": Net, "graph": ZooNet, "timm": TimmNet}


def build_net(spec: NetSpec, device: str | torch.device = "cpu", **kw: object) -> FrozenNet:
    """The network of ``spec`` on ``device``, its weights drawn from the spec's seeds on first
    use; ``kw`` goes to the family's constructor (``channels_last``, ``dtype``)."""
    return NETWORKS[get_arch(spec.arch).family](spec, device, **kw)
