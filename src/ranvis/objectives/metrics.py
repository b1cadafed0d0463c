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


#: High-pass band scales of :func:`band_energies`: Gaussian σ in px for a 128 px image (issue 28).
TEXTURE_SIGMAS = (0.7, 1.4, 2.8)
TEXTURE_REFERENCE_SIDE = 128
#: Floor of the photo's distance in :func:`texture_energy_score` (log 1.5: a 1.5x energy ratio).
TEXTURE_FLOOR = float(np.log(1.5))


def _gaussian_blur(y: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``[1, 1, H, W]`` with reflected borders (radius 3σ, at most
    the image's side minus one, which reflect padding needs)."""
    r = max(1, min(int(3 * sigma + 0.5), y.shape[-1] - 1, y.shape[-2] - 1))
    k = torch.exp(-torch.arange(-r, r + 1, dtype=y.dtype) ** 2 / (2 * sigma**2))
    k = k / k.sum()
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(y, (r, r, 0, 0), mode="reflect"),
                                   k.view(1, 1, 1, -1))
    return torch.nn.functional.conv2d(torch.nn.functional.pad(y, (0, 0, r, r), mode="reflect"),
                                      k.view(1, 1, -1, 1))


def band_energies(img: torch.Tensor, sigmas: tuple[float, ...] = TEXTURE_SIGMAS,
                  reference_side: int = TEXTURE_REFERENCE_SIDE) -> list[float]:
    """Fine-texture energy of ``img`` [1, 3, H, W] (or [3, H, W]) in [0, 1]: for each σ, the
    standard deviation of Y − G_σ·Y, Y the luminance (Y of YIQ) and G_σ a Gaussian blur of
    σ·max(H, W)/``reference_side`` px (the bands sit at the same fraction of the picture at
    every size). Each value is floored at 1e-6 (a flat image has none)."""
    x = img.detach().double().cpu().clamp(0, 1)
    x = x[None] if x.dim() == 3 else x
    y = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]  # [1, 1, H, W]
    scale = max(x.shape[-2:]) / reference_side
    return [max(float((y - _gaussian_blur(y, s * scale)).std()), 1e-6) for s in sigmas]


def texture_distance(a: list[float], b: list[float]) -> float:
    """RMS over the bands of log(a_k / b_k): 0 for equal energies, log r for a uniform ratio r."""
    d = np.log(np.asarray(a)) - np.log(np.asarray(b))
    return float(np.sqrt(np.mean(d**2)))


def texture_energy_score(result: torch.Tensor, style: torch.Tensor, photo: torch.Tensor,
                         floor: float = TEXTURE_FLOOR) -> float:
    """How much of the style's fine texture reached the result, in log terms (issue 28):

        score = D(result, style) / max(D(photo, style), floor),   D = :func:`texture_distance`

    over :func:`band_energies`. 0: the result has the style's band energies; 1: as far from them
    as the photo (no texture moved); over 1: further. The floor (log 1.5) keeps photos whose
    energies are already near the style's from dividing by ~0. Images [1, 3, H, W] in [0, 1],
    each measured at its own size (give the style as the transfer used it)."""
    s = band_energies(style)
    return texture_distance(band_energies(result), s) / max(
        texture_distance(band_energies(photo), s), floor)
