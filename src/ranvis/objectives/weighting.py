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

from dataclasses import replace

import torch

from ranvis.errors import DegenerateGradientError, InputError
from ranvis.nets.base import FrozenNet
from ranvis.objectives.losses import feature_loss, gram, gram_loss, total_variation
from ranvis.objectives.stylekinds import parse_style_loss
from ranvis.objectives.styleloss import style_target, style_value


def layer_factors(net: FrozenNet, x0: torch.Tensor, layers: list[str], kind: str) -> dict[str, float]:
    """{layer: ω_l} for kind="content" (eq. 4) or {layer: µ_l} for kind="gram" (eq. 8).

    Any other styleloss kind (sw, meanstd, cov, mean, hist, X-softmax) gets µ_l in eq. 8's
    spirit: its loss between the features of x0 and the statistics of a zero feature map
    (styleloss.style_target of zeros). ``x0``: [1, 3, H, W] in [0, 1]. One forward pass, one
    backward pass per layer.
    """
    if kind not in ("content", "gram"):
        try:
            if len(parse_style_loss(kind)) != 1:
                raise InputError(kind)
        except InputError:
            raise ValueError(f"kind must be 'content', 'gram' or a style loss, got {kind!r}") from None
    x = x0.detach().clone().requires_grad_(True)
    feats = net(x, layers)
    factors: dict[str, float] = {}
    for i, name in enumerate(layers):
        f = feats[name]
        if kind == "content":
            loss = feature_loss(f, torch.zeros_like(f))
        elif kind != "gram":
            loss = style_value(kind, f, style_target(kind, torch.zeros_like(f)), 1.0)
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


def start_factors(objective: object, x: torch.Tensor, kind: str = "gram",
                  fallback: dict[str, float] | None = None) -> dict[str, float]:
    """{term name: factor} that give each ``kind`` term (kind "style": every term that is not
    "content") of ``objective`` (objectives.Objective)
    a mean input gradient |∂(factor·E_l)/∂x| of 1 *at the image x* ([1, 3, H, W]), with E_l the
    term against its real target, not the zero representation of eq. 4/8.

    Style transfer's ``best`` preset (ranvis.presets) measures µ_l here, at its start image: eq. 8
    normalizes each Gram term at its "maximum", where the style image's Gram matrix is compared
    with zero, but the transfer starts near the content, where the terms' pushes can differ by
    orders of magnitude from one pair to the next (the loss at the start ranged 315 to 7473 over
    four pairs, ranvis.tasks.styleblocks). Normalized at the start, every pair begins with the same balance
    and one α:β serves them all. One forward pass, one backward pass per term. A term whose
    gradient is exactly zero at x (its statistics already equal the target's: a photo used as
    its own style, from a start without noise) takes ``fallback[name]`` where given (the
    transfer passes eq. 8's factor), else DegenerateGradientError.
    """
    terms = [t for t in objective.terms
             if t.kind == kind or (kind == "style" and t.kind != "content")]
    x = x.detach().clone().requires_grad_(True)
    feats = objective.net(x, objective.net.arch.check_taps([t.layer for t in terms]))
    out: dict[str, float] = {}
    for i, t in enumerate(terms):
        value = replace(t, factor=1.0, weight=1.0).value(feats[t.layer])
        (grad,) = torch.autograd.grad(value, x, retain_graph=i < len(terms) - 1)
        mean_abs = grad.abs().mean().item()
        if mean_abs == 0 and fallback is not None and t.name in fallback:
            out[t.name] = fallback[t.name]  # already matched at x (the style is the content)
            continue
        if not (0 < mean_abs < float("inf")):
            raise DegenerateGradientError(f"the input gradient of {t.name} at the start image is "
                                          "zero or non-finite, so its factor is undefined; "
                                          "use another start (--init) or --preset paper")
        out[t.name] = 1.0 / mean_abs
    return out


#: The TV factor's reference: a style whose squared neighbour differences are this fraction of its
#: variance gets the TV weight γ as given (measured, issue 18: benchmarks/README.md "Style
#: transfer"). Smooth paintings and photographs measure 0.004–0.14, grainy textures 0.23–2.6.
TV_REFERENCE = 0.2
TV_FACTOR_BOUNDS = (0.1, 10.0)


def tv_factor(style: torch.Tensor, reference: float = TV_REFERENCE,
              bounds: tuple[float, float] = TV_FACTOR_BOUNDS) -> float:
    """The TV term's automatic factor for a style image ``style`` [1, 3, H, W] in [0, 1]:
    ``reference · Var(style) / TV(style)``, clamped to ``bounds``; TV = losses.total_variation
    (mean squared difference of adjacent pixels), Var the per-channel variance averaged over
    channels. TV/Var says how much of the style's contrast lies between neighbouring pixels
    (about 4 for white noise, near 0 for a smooth gradient), whatever its overall contrast.

    The TV prior of eq. 9 removes the high-frequency speckle that a random network does not see;
    but a texture's own grain is high-frequency too. Scaled this way, γ is strong for a smooth
    style (a flat painting, fog: up to 10x) and weak for a grainy one (gravel, canvas, text, a
    star field: down to 0.1x), so one γ serves both. A constant style counts as smooth. Style
    transfer's ``best`` preset measures it on the main style at each scale.
    """
    x = style.detach().double()
    tv, var = float(total_variation(x)), float(x.var(dim=(-2, -1)).mean())
    lo, hi = bounds
    return hi if tv <= 0 else min(hi, max(lo, reference * var / tv))


#: The content factor's reference (issue 28): α is multiplied by CONTENT_REFERENCE / σ_Y², σ_Y
#: the spread of the style's luminance (:func:`luminance_spread`), clamped to
#: CONTENT_FACTOR_BOUNDS. 0.09: a star field (std 0.028) got 116 under the std alone, where its
#: layout held (correlation 0.807 on calla + star field); a leopard pattern (0.255) the bound 3,
#: the old recipe's α. A reference of 0.15 kept chelsea + hubble's layout better (0.765 against
#: 0.737) but pushed sunset + bark's Gram ratio over its target (benchmarks/README.md).
CONTENT_REFERENCE = 0.09
CONTENT_FACTOR_BOUNDS = (3.0, 200.0)


def _median(v: torch.Tensor) -> torch.Tensor:
    """The median of a 1-D tensor, the two middle values averaged for an even count."""
    v = v.sort().values
    return 0.5 * (v[(v.numel() - 1) // 2] + v[v.numel() // 2])


def luminance_spread(style: torch.Tensor) -> float:
    """σ_Y = min(std, 1.4826·MAD) of the luminance (Y of YIQ) of ``style`` [1, 3, H, W]: the
    standard deviation, unless most pixels sit much closer together than that (MAD, the median
    absolute deviation from the median, scaled to equal the std of a normal distribution)."""
    from ranvis.io.images import luminance

    y = luminance(style.detach().double()).flatten()
    return min(float(y.std()), 1.4826 * float(_median((y - _median(y)).abs())))


def content_factor(style: torch.Tensor, reference: float = CONTENT_REFERENCE,
                   bounds: tuple[float, float] = CONTENT_FACTOR_BOUNDS) -> float:
    """Style transfer's multiplier of α for a style image ``style`` [1, 3, H, W] in [0, 1]:
    ``reference / σ_Y²``, σ_Y = :func:`luminance_spread`, clamped to ``bounds`` (a flat style
    gets the upper bound).

    Why: the ``best`` recipe's content target is the photo with the style's luminance mean and
    std (color.match_colors_yiq), so a layout change costs the content term ∝ σ_Y²; a dark,
    sparse style (a star field, σ_Y ≈ 0.03) leaves the photo's layout almost no weight, and
    the style terms redrew it (correlation 0.62 at α = 3), while a contrasted pattern (a
    leopard's spots, 0.26) needs a small α or its large shapes cannot form (Gram ratio 0.43 at
    α = 100). One α·σ_Y² serves both. σ_Y is robust to a few bright points on black (the
    Hubble field: std 0.082, 1.4826·MAD 0.010): with the std alone the points set α and the
    photo's layout was lost under them (chelsea + hubble correlation 0.70); with the style's
    detail in the content target (styleblocks.content_target) the robust spread kept every
    measured pair's targets that the std kept and added chelsea + hubble (0.88) — measured on
    every pair whose α it changes (benchmarks/README.md "A sparsity-aware α, again")."""
    sd = luminance_spread(style)
    lo, hi = bounds
    return hi if sd <= 0 else min(hi, max(lo, reference / sd**2))
