"""Objectives: named loss terms × factors, summed (eq. 1, 5, 9). One forward pass per call.

A term matches either the features of one layer (``"content"``, eq. 1) or their Gram matrix
(``"gram"``, eq. 6). Each term's value is reported, already multiplied by its factor and weight.
Optional image priors (Mahendran & Vedaldi 2015/2016): total variation with β = 2 (weight ×
losses.total_variation, whose callers pass γ·numel to make it the plain sum Σ(Δx)²) and the
α-norm (losses.alpha_norm), plain sums whose per-pixel gradient, like the factor-normalized
terms', does not depend on the image size, so one weight serves every size and layer.
:class:`Ensemble` sums the objectives of K networks with weight 1/K each (eq. 1 against K
independent random draws at once).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ranvis.nets.base import FrozenNet
from ranvis.objectives.losses import (
    alpha_norm,
    feature_distance,
    gram,
    gram_distance,
    tv_excess,
)
from ranvis.objectives.styleloss import Target, style_value


@dataclass
class Term:
    """factor·weight·loss(F_layer(x), target). ``target`` is features (content), a Gram
    matrix divided by its number of positions M (gram: then any output size compares), or for
    any other kind of styleloss (sw, meanstd, cov, mean, hist, X-softmax) its statistics
    (styleloss.style_target)."""

    name: str
    layer: str
    kind: str  # "content" | "gram" | a styleloss kind
    target: torch.Tensor | Target
    factor: float = 1.0  # ω_l or µ_l (weighting.py)
    weight: float = 1.0  # α or β share, or a user weight

    def value(self, f: torch.Tensor) -> torch.Tensor:
        w, n = self.factor * self.weight, f.shape[1]
        if self.kind == "content":  # w·feature_loss(f, target), fused
            m = f.shape[2] * f.shape[3] if f.dim() == 4 else 1
            return feature_distance(f, self.target, w / (2.0 * n * m))
        if self.kind != "gram":
            return style_value(self.kind, f, self.target, w)
        # eq. 6 with G/M on both sides (identical to eq. 6 when M matches the target's):
        # w·gram_loss(gram(f)/M, target, n, 1), fused
        return gram_distance(f, self.target, w / (4.0 * n * n))


def gram_target(f: torch.Tensor) -> torch.Tensor:
    """The target for a gram term: G(F0)/M0, ``[B, C, C]``."""
    return gram(f) / (f.shape[2] * f.shape[3])


def lowpass(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` [B, C, H, W] blurred by a separable Gaussian of std ``sigma`` px (radius 2σ,
    reflected borders): what a content term of style transfer's ``best`` recipe compares, so
    that it keeps the photo's layout and leaves its finest texture to the style terms."""
    r = max(1, min(int(2 * sigma + 0.5), x.shape[-1] - 1, x.shape[-2] - 1))
    k = torch.exp(-torch.arange(-r, r + 1, device=x.device, dtype=x.dtype) ** 2 / (2 * sigma**2))
    k = (k / k.sum()).view(1, 1, 1, -1).expand(x.shape[1], 1, 1, -1)
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k, groups=x.shape[1])
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.transpose(-1, -2), groups=x.shape[1])


@dataclass
class Objective:
    """Σ terms + tv_weight·TV(x) + alpha_weight·Σ|2(x − ½)|⁶. Calling it on x ``[1, 3, H, W]``
    returns (total, {term name: value}); TV is losses.total_variation (a per-element mean; the
    callers that mean a sum pass γ·numel), counted only above ``tv_level`` (losses.tv_excess;
    0: all of it)."""

    net: FrozenNet
    terms: list[Term]
    tv_weight: float = 0.0
    alpha_weight: float = 0.0
    content_blur: float = 0.0  # σ px: content terms see the image Gaussian-blurred (lowpass)
    tv_level: float = 0.0  # TV's allowance (losses.tv_excess)

    @property
    def layers(self) -> list[str]:
        """The taps the terms read, in forward order (one forward pass reads them all)."""
        return self.net.arch.check_taps([t.layer for t in self.terms])

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """{term name: the features its loss reads}: one forward pass, and with
        ``content_blur`` a second one of lowpass(x) up to the content terms' layers."""
        feats = self.net(x, self.layers)
        out = {t.name: feats[t.layer] for t in self.terms}
        content = [t for t in self.terms if t.kind == "content"]
        if self.content_blur and content:
            low = self.net(lowpass(x, self.content_blur), [t.layer for t in content])
            out.update({t.name: low[t.layer] for t in content})
        return out

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self.features(x)
        parts = {t.name: t.value(feats[t.name]) for t in self.terms}
        parts.update(self.priors(x))
        total = torch.stack(list(parts.values())).sum()
        return total, parts

    def priors(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The image priors' values at x: "tv" and "alpha", each only when its weight is set."""
        out = {}
        if self.tv_weight:
            out["tv"] = self.tv_weight * tv_excess(x, self.tv_level)
        if self.alpha_weight:
            out["alpha"] = self.alpha_weight * alpha_norm(x)
        return out


@dataclass
class Ensemble:
    """(1/K)·Σ_k objective_k(x): one image against K objectives (usually the same terms on K
    independent random networks). Term names gain ``#k``; priors count once, from the first
    (the others' are ignored). ``net`` and ``terms`` are the first objective's (memory checks,
    metrics)."""

    members: list[Objective]

    @property
    def net(self) -> FrozenNet:
        return self.members[0].net

    @property
    def terms(self) -> list[Term]:
        return self.members[0].terms

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if len(self.members) == 1:
            return self.members[0](x)
        k_inv = 1.0 / len(self.members)
        parts: dict[str, torch.Tensor] = {}
        for k, obj in enumerate(self.members):
            feats = obj.features(x)
            for t in obj.terms:
                parts[f"{t.name}#{k}"] = k_inv * t.value(feats[t.name])
        parts.update(self.members[0].priors(x))
        return torch.stack(list(parts.values())).sum(), parts
