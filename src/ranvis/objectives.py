"""Objectives: named loss terms × factors, summed (eq. 1, 5, 9). One forward pass per call.

A term matches either the features of one layer (``"content"``, eq. 1) or their Gram matrix
(``"gram"``, eq. 6). Each term's value is reported, already multiplied by its factor and weight.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ranvis.losses import feature_distance, gram, gram_distance, total_variation
from ranvis.nets.base import FrozenNet


@dataclass
class Term:
    """factor·weight·loss(F_layer(x), target). ``target`` is features (content) or a Gram
    matrix divided by its number of positions M (gram: then any output size compares)."""

    name: str
    layer: str
    kind: str  # "content" | "gram"
    target: torch.Tensor
    factor: float = 1.0  # ω_l or µ_l (weighting.py)
    weight: float = 1.0  # α or β share, or a user weight

    def value(self, f: torch.Tensor) -> torch.Tensor:
        w, n = self.factor * self.weight, f.shape[1]
        if self.kind == "content":  # w·feature_loss(f, target), fused
            m = f.shape[2] * f.shape[3] if f.dim() == 4 else 1
            return feature_distance(f, self.target, w / (2.0 * n * m))
        # eq. 6 with G/M on both sides (identical to eq. 6 when M matches the target's):
        # w·gram_loss(gram(f)/M, target, n, 1), fused
        return gram_distance(f, self.target, w / (4.0 * n * n))


def gram_target(f: torch.Tensor) -> torch.Tensor:
    """The target for a gram term: G(F0)/M0, ``[B, C, C]``."""
    return gram(f) / (f.shape[2] * f.shape[3])


@dataclass
class Objective:
    """Σ terms + tv_weight·TV(x). Calling it returns (total, {term name: value})."""

    net: FrozenNet
    terms: list[Term]
    tv_weight: float = 0.0

    @property
    def layers(self) -> list[str]:
        """The taps the terms read, in forward order (one forward pass reads them all)."""
        return self.net.arch.check_taps([t.layer for t in self.terms])

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        feats = self.net(x, self.layers)
        parts = {t.name: t.value(feats[t.layer]) for t in self.terms}
        if self.tv_weight:
            parts["tv"] = self.tv_weight * total_variation(x)
        total = torch.stack(list(parts.values())).sum()
        return total, parts
