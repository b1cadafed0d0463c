"""How much of a grid (a period-2 or period-4 checkerboard) an image holds (issue 28, item 3).

A network with stride-2 pools, optimized through, can print a pattern that repeats every 2, 4,
8 … pixels: in the power spectrum of the luminance it is a spike at the frequencies k·H/p, k·W/p
(p = 2, 4), where a natural image's spectrum is smooth. The measure, for period p:

    P = |FFT(Y − mean Y)|²  (Y = 0.299 R + 0.587 G + 0.114 B, no window),
    peak_p = mean over the bins (a·H/p, b·W/p), a, b ∈ 0 … p−1, not both 0 and not both of the
             period p/2 (those are the coarser grid's), of  P[bin] / median(P over the 7×7 bins
             around it, itself left out)

so peak_p ≈ 1 for an image without the grid (a chance spike of white noise is 1 on average) and
≫ 1 with it. H and W must be multiples of p (128 px is): otherwise the grid's frequencies fall
between bins. ``grid_peaks`` gives p = 2 and 4.

The lattice that style transfer actually prints is not locked to those frequencies: dots a
little over 4 px apart, in rows that need not align with the image's axes, so peak_4 reads
1.6 on a picture that shows it (kite + star field). :func:`lattice` sees it in the image plane:
the largest autocorrelation of the luminance's fine band at a lag of 3–12 px, ≈ 0.05–0.15 for a
photograph or an irregular texture, 0.2–0.35 for the dot lattices seen, 1 for a perfect one
(also high for a style that is itself periodic or streaked: compare with the style's own).
"""
from __future__ import annotations

import torch

from ranvis.errors import InputError


def power_spectrum(img: torch.Tensor) -> torch.Tensor:
    """|FFT2(Y − mean Y)|² of the luminance of ``img`` [1,3,H,W] or [3,H,W]: [H, W] float64."""
    x = img.detach().cpu().double()
    x = x[0] if x.dim() == 4 else x
    if x.dim() != 3 or x.shape[0] != 3:
        raise InputError(f"expected an RGB image [1,3,H,W] or [3,H,W], got {tuple(img.shape)}")
    y = 0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]
    return torch.fft.fft2(y - y.mean()).abs().pow(2)


def _background(p: torch.Tensor, i: int, j: int, r: int = 3) -> float:
    """Median of ``p`` [H,W] over the (2r+1)² bins around (i, j), wrapping, the bin left out."""
    h, w = p.shape
    rows = torch.arange(i - r, i + r + 1) % h
    cols = torch.arange(j - r, j + r + 1) % w
    win = p[rows][:, cols].flatten()
    win = torch.cat([win[: win.numel() // 2], win[win.numel() // 2 + 1:]])
    return float(win.median())


def grid_peak(img: torch.Tensor, period: int) -> float:
    """peak_p of ``img`` (module doc): ≈ 1 without a period-``period`` grid, ≫ 1 with one."""
    h, w = img.shape[-2:]
    if period < 2 or h % period or w % period or min(h, w) < 4 * period:
        raise InputError(f"grid_peak needs H and W multiples of {period} and >= {4 * period} px, "
                         f"got {w}x{h}")
    p = power_spectrum(img)
    ratios = []
    for a in range(period):
        for b in range(period):
            if (a, b) == (0, 0) or (a % 2 == 0 and b % 2 == 0 and period > 2):
                continue
            i, j = a * h // period, b * w // period
            ratios.append(float(p[i, j]) / max(_background(p, i, j), 1e-30))
    return sum(ratios) / len(ratios)


#: lattice(): the fine band is Y minus its Gaussian blur of this σ (px); lags in this range (px).
LATTICE_SIGMA = 1.5
LATTICE_LAGS = (3.0, 12.0)


def lattice(img: torch.Tensor) -> float:
    """max over lags 3 ≤ |d| ≤ 12 px of the normalized circular autocorrelation
    Σ_p h(p)·h(p + d) / Σ_p h(p)² of h = Y − blur_σ(Y) − mean, Y the luminance of ``img``
    [1,3,H,W] (module doc): how strongly the picture's finest detail repeats itself a few
    pixels away. Lags reach at most half the shorter side (H, W >= 8 px)."""
    from ranvis.io.images import luminance
    from ranvis.objectives.terms import lowpass

    x = img.detach().cpu().double()
    x = x if x.dim() == 4 else x[None]
    if x.dim() != 4 or x.shape[1] != 3 or min(x.shape[-2:]) < 2 * LATTICE_LAGS[0] + 2:
        raise InputError(f"lattice needs an RGB image of at least 8x8 px, got "
                         f"{tuple(img.shape)}")
    y = luminance(x)
    h = (y - lowpass(y, LATTICE_SIGMA))[0, 0]
    h = h - h.mean()
    ac = torch.fft.ifft2(torch.fft.fft2(h).abs().pow(2)).real
    if float(ac[0, 0]) <= 0:
        return 0.0
    fy = torch.fft.fftfreq(h.shape[0], dtype=h.dtype) * h.shape[0]
    fx = torch.fft.fftfreq(h.shape[1], dtype=h.dtype) * h.shape[1]
    lag = (fy[:, None] ** 2 + fx[None] ** 2).sqrt()
    ring = (lag >= LATTICE_LAGS[0]) & (lag <= min(LATTICE_LAGS[1], min(h.shape) / 2))
    return float(ac[ring].max() / ac[0, 0])


def grid_peaks(img: torch.Tensor) -> dict[str, float]:
    """{"p2": peak_2, "p4": peak_4} of ``img`` [1,3,H,W] (H, W multiples of 4, >= 16 px)."""
    return {"p2": grid_peak(img, 2), "p4": grid_peak(img, 4)}
