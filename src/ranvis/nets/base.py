"""What every network of the registry shares: ``FrozenNet``.

A FrozenNet is a network whose weights never require grad; ``forward(x, layers)`` returns
``{tap: features}`` for an image x ([B, 3, H, W] in [0, 1]) and stops at the deepest tap asked
for. Tasks, objectives, the weighting factors and the stacking search use only this interface;
each family (nets.vgg.Net, nets.zoo.ZooNet) implements ``forward``, ``layer_weights``,
``set_weights`` and ``as_dtype``.
"""
from __future__ import annotations

import hashlib

import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DTYPES = (torch.float32, torch.bfloat16)


class FrozenNet(torch.nn.Module):
    """Base of the registry's networks: spec, device, compute dtype, preprocessing, checksum.

    ``spec`` (nets.spec.NetSpec) names the architecture (``self.arch``, an nets.arch.Arch) and
    the seeds; ``dtype``: what the layers compute in (float32 or bfloat16; features come back
    float32); ``trained``: weights from a state dict instead of the seeds.
    """

    def __init__(self, spec: object, device: str | torch.device = "cpu",
                 channels_last: bool = True, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        from ranvis.nets import get_arch

        if dtype not in DTYPES:
            raise ValueError(f"dtype must be torch.float32 or torch.bfloat16, got {dtype}")
        self.spec = spec
        self.arch = get_arch(spec.arch)
        self.device = torch.device(device)
        self.channels_last = channels_last
        self.dtype = dtype
        self.trained = False

    def uses_lean(self, height: int, width: int) -> bool:
        """Whether forward runs ranvis.nets.frozen's lean layers at this size (VGG only)."""
        return False

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """[B,3,H,W] in [0,1] → network input. Random nets: 255·(x − ImageNet mean), the Caffe
        VGG range the paper used; trained torchvision weights: (x − mean) / std."""
        mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        if self.trained:
            std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
            return (x - mean) / std
        return (x - mean) * 255.0

    def layer_weights(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight, bias) of weighted layer ``name`` (drawn from its seed on first use)."""
        raise NotImplementedError

    def checksum(self, upto: str | None = None) -> str:
        """SHA-256 over the float32 bytes of every weighted layer's (weight, bias) up to
        ``upto`` (default: the last), in forward order: a fingerprint of the network."""
        names = self.arch.weighted()
        names = names[: names.index(upto) + 1] if upto is not None else names
        h = hashlib.sha256()
        for name in names:
            w, b = self.layer_weights(name)
            h.update(w.cpu().contiguous().numpy().tobytes())
            h.update(b.cpu().contiguous().numpy().tobytes())
        return h.hexdigest()
