"""Where an optimization starts: seeded white noise, or an image resized to the output."""
from __future__ import annotations

import torch

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.io.images import resize


def noise(height: int, width: int, seed: int, device: torch.device | str = "cpu",
          std: float = D.NOISE_STD) -> torch.Tensor:
    """Seeded white noise N(0.5, std²) in [0, 1], [1, 3, H, W]; drawn on the CPU, so the
    same seed gives the same start on every device."""
    g = torch.Generator().manual_seed(seed)
    x = 0.5 + std * torch.randn(1, 3, height, width, generator=g)
    return x.clamp_(0, 1).to(device)


def start_image(init: str | torch.Tensor, content: torch.Tensor, style: torch.Tensor,
                seed: int) -> torch.Tensor:
    """Style transfer's first start: seeded noise, the content, the (first) style resized to the
    content's size, or a given image resized to it."""
    h, w = content.shape[-2:]
    if isinstance(init, torch.Tensor):
        return resize(init.to(content.device), (w, h))
    if init == "noise":
        return noise(h, w, seed, content.device)
    if init == "content":
        return content.clone()
    if init == "style":
        return resize(style, (w, h))
    raise InputError(f"init must be noise, content or style, got {init!r}")
