"""Style losses that compare feature *distributions*, beside eq. 5's Gram matrix (issue 28).

Features ``f`` are ``[1, C, h, w]``; X = ``[M, C]`` their M = h·w positions as rows. Each loss is
two pure functions: ``style_target(kind, f)`` (the statistics of a style's features, computed
once, no grad) and ``style_value(kind, f, target, c)`` (c × the distance of f's statistics from
the target, differentiable in f). ``kind`` is an atom of :data:`ATOMS`, optionally with the
suffix ``-softmax`` (Wang et al.'s transformation applied to the features first). A target of
``torch.zeros_like(f)`` is the "zero representation" at which eq. 8's µ_l is measured, for every
kind (weighting.layer_factors).

Every loss is 0 when the features' distribution equals the target's (for the sorted ones:
the same multiset of positions) and > 0 otherwise (tests/test_styleloss.py).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ranvis.objectives.stylekinds import SOFTMAX

#: Random directions of the sliced Wasserstein loss per channel (K = SW_DIRECTIONS · C, at
#: least SW_MIN_DIRECTIONS).
SW_DIRECTIONS = 1.0
SW_MIN_DIRECTIONS = 8
#: At most this many positions of a tap enter the sliced Wasserstein sort (None: all of them):
#: a seeded subset, the same at every evaluation (:func:`fit_target`).
SW_POSITIONS: int | None = 16384
SW_SEED = 0
#: Quantiles kept of a style's per-channel histogram (the hist loss's 256 bins).
HIST_BINS = 256
Target = tuple[torch.Tensor, ...]


def rows(f: torch.Tensor) -> torch.Tensor:
    """``[1, C, h, w]`` → X ``[M, C]`` (positions as rows)."""
    return f.flatten(2)[0].t()


def softmax_features(f: torch.Tensor) -> torch.Tensor:
    """Wang, Li & Vasconcelos (CVPR 2021, SWAG): each channel's map through a softmax over its
    positions, σ(F)_ck = exp(F_ck) / Σ_j exp(F_cj), which raises the entropy of peaky (residual or
    random) activations. Times M here (each map then has mean 1 at every size, so targets of
    another size compare); ``[1, C, h, w]`` → same shape."""
    m = f.shape[2] * f.shape[3]
    return torch.softmax(f.flatten(2), dim=2).mul(m).view_as(f)


def directions(channels: int, seed: int = SW_SEED) -> torch.Tensor:
    """The sliced Wasserstein loss's K = max(SW_MIN_DIRECTIONS, round(SW_DIRECTIONS·C)) unit
    directions ``[C, K]``, seeded (the same for every image at a layer, so a target's
    projections are computed once)."""
    g = torch.Generator().manual_seed(seed * 100003 + channels)
    k = max(SW_MIN_DIRECTIONS, round(SW_DIRECTIONS * channels))
    v = torch.randn(channels, k, generator=g, dtype=torch.float64)
    return (v / v.norm(dim=0, keepdim=True)).float()


def quantiles(sorted_rows: torch.Tensor, m: int) -> torch.Tensor:
    """Each row of ``[K, M0]`` (sorted ascending) resampled to ``m`` values: the empirical
    quantile function at (i + ½)/m, linearly interpolated (the identity when m = M0)."""
    if sorted_rows.shape[1] == m:
        return sorted_rows
    return F.interpolate(sorted_rows[None], size=m, mode="linear", align_corners=False)[0]


def style_target(kind: str, f: torch.Tensor) -> Target:
    """The statistics of style features ``f`` [1, C, h, w] that ``kind`` matches (no grad):
    gram (G/M,), cov (Σ,), mean (µ,), meanstd (µ, σ), sw (V, sorted projections [K, M]),
    hist (per-channel quantiles [C, min(M, HIST_BINS)]: the histogram as its inverse CDF)."""
    with torch.no_grad():
        if kind.endswith(SOFTMAX):
            kind, f = kind.removesuffix(SOFTMAX), softmax_features(f)
        x = rows(f.float())
        if kind == "gram":
            return (x.t() @ x / x.shape[0],)
        if kind == "mean":
            return (x.mean(0),)
        if kind == "meanstd":
            return (x.mean(0), x.std(0, unbiased=False))
        if kind == "cov":
            d = x - x.mean(0)
            return (d.t() @ d / x.shape[0],)
        if kind == "sw":
            v = directions(x.shape[1]).to(x.device)
            return (v, (v.t() @ x.t()).sort(dim=1).values)
        if kind == "hist":
            return (quantiles(x.t().sort(dim=1).values, min(x.shape[0], HIST_BINS)),)
    raise ValueError(f"unknown style loss kind {kind!r}")


def fit_target(kind: str, target: Target, m: int) -> Target:
    """``target`` with its sorted statistics (sw) resampled to ``m`` positions, the M of the
    image being optimized: done once when the objective is built, so :func:`style_value` never
    resamples (hist keeps its HIST_BINS quantiles, resampled per evaluation: 256 values each)."""
    if kind.removesuffix(SOFTMAX) != "sw":
        return target
    if SW_POSITIONS is None or m <= SW_POSITIONS:
        return (target[0], quantiles(target[1], m))
    g = torch.Generator().manual_seed(SW_SEED * 100003 + m)
    keep = torch.randperm(m, generator=g)[:SW_POSITIONS].sort().values.to(target[1].device)
    return (target[0], quantiles(target[1], SW_POSITIONS), keep)


def blend_targets(kind: str, targets: Sequence[Target], weights: Sequence[float]) -> Target:
    """Σ w_i·T_i / Σ w_i, statistic by statistic; sorted ones (sw, hist) are first resampled to
    the longest (a 1-D Wasserstein barycentre is the mean of the quantile functions). The sw
    directions are shared, not averaged."""
    total = float(sum(weights))
    out = []
    for k in range(len(targets[0])):
        if kind.removesuffix(SOFTMAX) == "sw" and k == 0:
            out.append(targets[0][0])
            continue
        parts = [t[k] for t in targets]
        m = max(p.shape[-1] for p in parts)
        if kind.removesuffix(SOFTMAX) in ("sw", "hist"):
            parts = [quantiles(p, m) for p in parts]
        out.append(sum(p * (w / total) for p, w in zip(parts, weights, strict=True)))
    return tuple(out)


def style_value(kind: str, f: torch.Tensor, target: Target, c: float) -> torch.Tensor:
    """c × the ``kind`` distance between the statistics of ``f`` [1, C, h, w] and ``target``
    (:func:`style_target`); X = rows(f), M positions, C channels, ^ the target's statistic:

    * gram: ‖XᵀX/M − Ĝ‖² / (4C²)  (eq. 6 with G/M; objectives uses the fused losses.gram_distance)
    * cov (centred Gram): ‖Σ − Σ̂‖² / (4C²),  Σ = (X − µ)ᵀ(X − µ)/M
    * mean: ‖µ − µ̂‖² / C,  µ = the per-channel mean of X
    * meanstd (Li et al. 2017, the batch-norm view of style): (‖µ − µ̂‖² + ‖σ − σ̂‖²) / C
    * sw (Heitz et al. CVPR 2021): Σ_k ‖sort(X·v_k) − Q̂_k‖² / (M·K), v_k the K seeded unit
      directions, Q̂_k the style's sorted projections resampled to M values (:func:`quantiles`)
    * hist (Risser et al. 2017): ‖X − R‖² / (M·C), R = X histogram-matched per channel to the
      style's (each value replaced by the style's quantile at its rank; R held constant, so the
      gradient is 2(X − R)/(M·C) as in the paper)
    With ``-softmax``: the same on softmax_features(f). Scalar.
    """
    if kind.endswith(SOFTMAX):
        kind, f = kind.removesuffix(SOFTMAX), softmax_features(f)
    x = rows(f).float()
    m, ch = x.shape
    if kind == "gram":
        return c * (x.t() @ x / m - target[0]).pow(2).sum() / (4.0 * ch * ch)
    if kind == "cov":
        d = x - x.mean(0)
        return c * (d.t() @ d / m - target[0]).pow(2).sum() / (4.0 * ch * ch)
    if kind == "mean":
        return c * (x.mean(0) - target[0]).pow(2).sum() / ch
    if kind == "meanstd":
        mu, sd = x.mean(0), (x.var(0, unbiased=False) + 1e-12).sqrt()
        return c * ((mu - target[0]).pow(2).sum() + (sd - target[1]).pow(2).sum()) / ch
    if kind == "sw":
        if len(target) == 3:  # a fixed subset of the positions (fit_target, SW_POSITIONS)
            x, m = x[target[2]], len(target[2])
        p = (target[0].t() @ x.t()).sort(dim=1).values  # [K, M], sorted along contiguous rows
        return c * (p - quantiles(target[1], m)).pow(2).sum() / p.numel()
    if kind == "hist":
        with torch.no_grad():
            order = x.t().argsort(dim=1)  # [C, M]
            r = torch.empty_like(x.t()).scatter_(1, order, quantiles(target[0], m)).t()
        return c * (x - r).pow(2).sum() / x.numel()
    raise ValueError(f"unknown style loss kind {kind!r}")
