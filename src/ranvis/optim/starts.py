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


#: How seeded noise of std s perturbs an image start (style transfer; issue 28):
#: "noise" x + s·n (white); "hf" x + s·(n − blur(n)) scaled back to std s (only the finest
#: frequencies, which the photo has least of); "lowpass" blur(x) + s·n (the photo's own fine
#: detail removed, so the style's can take its place). blur: 3x3 binomial, reflected borders.
START_PERTURBATIONS = ("noise", "hf", "lowpass")


def _blur3(x: torch.Tensor) -> torch.Tensor:
    """3x3 binomial blur ([1, 2, 1]/4 each way) per channel, reflected borders."""
    k = torch.tensor([1.0, 2.0, 1.0], device=x.device, dtype=x.dtype) / 4
    k2 = (k[:, None] * k[None, :]).expand(x.shape[1], 1, 3, 3)
    return torch.nn.functional.conv2d(torch.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"),
                                      k2, groups=x.shape[1])


def perturb_start(x: torch.Tensor, kind: str, std: float, seed: int) -> torch.Tensor:
    """An image start ``x`` [1, 3, H, W] perturbed by seeded noise of std ``std`` as ``kind``
    (:data:`START_PERTURBATIONS`); not clamped. The noise is drawn on the CPU (same on every
    device)."""
    n = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)).to(x.device, x.dtype)
    if kind == "noise":
        return x + std * n
    if kind == "hf":
        h = n - _blur3(n)
        return x + std * h / h.std().clamp_min(1e-12)
    if kind == "lowpass":
        return _blur3(_blur3(x)) + std * n
    raise InputError(f"start perturbation must be one of {', '.join(START_PERTURBATIONS)}, "
                     f"got {kind!r}")
