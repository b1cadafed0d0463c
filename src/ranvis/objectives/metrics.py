"""Image and feature metrics: PSNR and SSIM from scikit-image, normalized feature error."""
from __future__ import annotations

import numpy as np
import torch


def _hwc(img: torch.Tensor) -> np.ndarray:
    """[1,3,H,W] or [3,H,W] in [0,1] → float64 [H,W,3] numpy array, clamped."""
    x = img.detach().float().cpu().clamp(0, 1)
    if x.dim() == 4:
        x = x[0]
    return x.permute(1, 2, 0).numpy().astype(np.float64)


def psnr(img: torch.Tensor, ref: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB (data range 1); inf for identical images."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _hwc(img), _hwc(ref)
    if np.array_equal(a, b):
        return float("inf")
    return float(peak_signal_noise_ratio(b, a, data_range=1.0))


def ssim(img: torch.Tensor, ref: torch.Tensor) -> float:
    """Structural similarity (scikit-image, colour, data range 1); window shrinks for tiny images.

    NaN for an image under 3 px on a side: no 3x3 window fits, SSIM is undefined there.
    """
    from skimage.metrics import structural_similarity

    a, b = _hwc(img), _hwc(ref)
    if min(a.shape[:2]) < 3:
        return float("nan")
    win = min(7, *a.shape[:2])
    win -= 1 - win % 2  # odd
    return float(structural_similarity(b, a, data_range=1.0, channel_axis=2, win_size=max(win, 1)))


def l2_distance(img: torch.Tensor, ref: torch.Tensor) -> float:
    """Pixel-space Euclidean distance ‖x − x0‖₂ (images in [0, 1]), the paper's Figure 3 measure."""
    return float((img.detach().float().cpu() - ref.detach().float().cpu()).norm())


def feature_error(f: torch.Tensor, f0: torch.Tensor) -> float:
    """Normalized feature error ‖F(x) − F(x0)‖² / ‖F(x0)‖²."""
    f, f0 = f.detach().double(), f0.detach().double()
    return float((f - f0).pow(2).sum() / f0.pow(2).sum().clamp_min(1e-300))
