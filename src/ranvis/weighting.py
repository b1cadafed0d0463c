"""Automatic per-layer weighting factors ω_l (eq. 4) and µ_l (eq. 8).

For layer l, evaluate the layer's loss between the representation of x0 and a *zero*
representation (the "maximum possible gradient"), back-propagate to the input image, and take
the reciprocal of the mean absolute gradient over all pixels and channels. Then every layer's
term pushes the image with an input gradient of about the same size.

Departure from the paper's notation, on purpose: eq. 4 writes the absolute value outside the sum
(|Σ ∂L/∂x| / WHC), which can cancel to ~0 and blow the factor up; the paper's text says
"absolute mean gradient". We use the mean of absolute values, mean(|∂L/∂x|), which is what the
text means and is stable. The gradient is taken w.r.t. the image in [0, 1] (before
preprocessing), the same variable the optimizer moves.
"""
from __future__ import annotations

import torch

from ranvis.errors import DegenerateGradientError
from ranvis.losses import feature_loss, gram, gram_loss
from ranvis.nets.base import FrozenNet


def layer_factors(net: FrozenNet, x0: torch.Tensor, layers: list[str], kind: str) -> dict[str, float]:
    """{layer: ω_l} for kind="content" (eq. 4) or {layer: µ_l} for kind="gram" (eq. 8).

    ``x0``: [1, 3, H, W] in [0, 1]. One forward pass, one backward pass per layer.
    """
    if kind not in ("content", "gram"):
        raise ValueError(f"kind must be 'content' or 'gram', got {kind!r}")
    x = x0.detach().clone().requires_grad_(True)
    feats = net(x, layers)
    factors: dict[str, float] = {}
    for i, name in enumerate(layers):
        f = feats[name]
        if kind == "content":
            loss = feature_loss(f, torch.zeros_like(f))
        else:
            g = gram(f)
            loss = gram_loss(g, torch.zeros_like(g), f.shape[1], f.shape[2] * f.shape[3])
        (grad,) = torch.autograd.grad(loss, x, retain_graph=i < len(layers) - 1)
        mean_abs = grad.abs().mean().item()
        if not (0 < mean_abs < float("inf")):  # user-fixable: the input or --sigma
            raise DegenerateGradientError(f"the input gradient at {name} is zero or non-finite, so its "
                             f"weighting factor is undefined; use a non-constant image, or a "
                             f"--sigma nearer the paper's 0.015")
        factors[name] = 1.0 / mean_abs
    return factors
