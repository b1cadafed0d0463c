"""Is a texture stationary? The centre/border ratio of its fine-texture energy (issue 28, item 5).

A texture synthesized by matching spatially averaged statistics should carry the same amount of
fine detail everywhere. The measure: the luminance Y = 0.299 R + 0.587 G + 0.114 B, its
high-pass bands at three scales

    B_σ = Y − G_σ * Y,   σ ∈ SIGMAS = (0.7, 1.4, 2.8) px   (Gaussian blur, mirrored at the edges)

and, over a region R, the band energy E_R = sqrt(Σ_σ Var_R(B_σ)) (the variances of the three
bands over the region's pixels, added). The ratio compares the central half-square C (rows
H/4 … 3H/4, columns W/4 … 3W/4, a quarter of the area) with the frame F around it (the rest):

    r = E_C / E_F.

r = 1 for a stationary texture; r < 1 when the middle is emptier than the border. Sizes in px are
meant at 128 px; the measure itself accepts any image of at least 8 px on a side.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ranvis.errors import InputError

SIGMAS = (0.7, 1.4, 2.8)  # px, the fine-texture scales at 128 px


def _gauss_blur(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """``y`` [1,1,H,W] blurred by a separable Gaussian of std ``sigma`` px, mirrored edges."""
    r = max(1, math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=y.dtype)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    rh, rw = min(r, y.shape[-2] - 1), min(r, y.shape[-1] - 1)  # reflect needs pad < size
    kh, kw = k[r - rh:r + rh + 1], k[r - rw:r + rw + 1]
    y = F.conv2d(F.pad(y, (0, 0, rh, rh), mode="reflect"), (kh / kh.sum()).view(1, 1, -1, 1))
    return F.conv2d(F.pad(y, (rw, rw, 0, 0), mode="reflect"), (kw / kw.sum()).view(1, 1, 1, -1))


def high_pass_bands(img: torch.Tensor, sigmas: tuple[float, ...] = SIGMAS) -> torch.Tensor:
    """The luminance minus its Gaussian blur at each σ: [len(sigmas), H, W] float64.

    ``img`` [1,3,H,W] or [3,H,W] in [0, 1]."""
    x = img.detach().cpu().double()
    x = x[0] if x.dim() == 4 else x
    if x.dim() != 3 or x.shape[0] != 3:
        raise InputError(f"expected an RGB image [1,3,H,W] or [3,H,W], got {tuple(img.shape)}")
    y = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2])[None, None]  # [1,1,H,W]
    return torch.stack([(y - _gauss_blur(y, s))[0, 0] for s in sigmas])


def centre_mask(height: int, width: int) -> torch.Tensor:
    """[H, W] bool: True on the central half-square (rows H/4 … 3H/4, columns W/4 … 3W/4)."""
    m = torch.zeros(height, width, dtype=torch.bool)
    m[height // 4:height - height // 4, width // 4:width - width // 4] = True
    return m


def region_energy(bands: torch.Tensor, mask: torch.Tensor) -> float:
    """E_R = sqrt(Σ_σ Var_R(B_σ)) over the pixels where ``mask`` [H,W] is True (module doc)."""
    return float(bands[:, mask].var(dim=1, unbiased=False).sum().sqrt())


def centre_border_ratio(img: torch.Tensor, sigmas: tuple[float, ...] = SIGMAS) -> float:
    """r = E_centre / E_frame of the fine-texture energy (module doc); 1 = stationary.

    ``img`` [1,3,H,W] or [3,H,W] in [0, 1], at least 8 px on a side. NaN when the frame holds no
    fine texture at all (a flat border), where the ratio is undefined."""
    h, w = img.shape[-2:]
    if min(h, w) < 8:
        raise InputError(f"centre/border ratio needs at least 8x8 px, got {w}x{h}")
    bands = high_pass_bands(img, sigmas)
    m = centre_mask(h, w)
    frame = region_energy(bands, ~m)
    return region_energy(bands, m) / frame if frame > 0 else float("nan")
