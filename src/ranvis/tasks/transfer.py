"""Style transfer (paper eq. 9): α·ω·L_content + β·Σ µ_l·E_l + γ·TV, at one or more scales.
The building blocks (objective at one scale, TV scaling, schedule, metrics) are ranvis.style."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from ranvis import defaults as D
from ranvis import style as S
from ranvis.device import backend_flags, precision_name, resolve_device, resolve_precision
from ranvis.errors import InputError
from ranvis.images import luminance_transfer, resize
from ranvis.memory import check_memory
from ranvis.nets.base import FrozenNet
from ranvis.objectives import Objective
from ranvis.optimize import Result, Resume, Step
from ranvis.starts import start_image
from ranvis.tasks.common import (
    Loop,
    NetArg,
    Run,
    make_net,
    net_settings,
    optimize_objective,
    resolve_arch,
)


@dataclass(frozen=True)
class Plan:
    """One style transfer's inputs and schedule: the taps, α:β:γ, the start, the scale sizes
    (W, H), coarsest first, and the iterations of each."""

    content: torch.Tensor
    styles: Sequence[torch.Tensor]
    weights: list[float]
    content_layer: str
    style_layers: list[str]
    ratio: tuple[float, float, float]
    init: str | torch.Tensor
    style_scale: float | None
    sizes: list[tuple[int, int]]
    counts: list[int]
    seed: int


def _scales(model: FrozenNet, plan: Plan, loop: Loop, dtype: torch.dtype,
            settings: dict[str, Any]) -> tuple[Result, dict[str, Any], Objective]:
    """The loop over scales (coarsest first); the record gains "scales". ``model`` (float32)
    sets targets and factors; the layers compute in ``dtype`` meanwhile."""
    dev, full = model.device, plan.sizes[-1]
    x, record, done, per_scale = None, None, 0, []
    for size, n in zip(plan.sizes, plan.counts, strict=True):
        xc = resize(plan.content, size).to(dev)
        xs = [s.to(dev) for s in S.scaled_styles(plan.styles, size, full, plan.style_scale)]
        objective, factors = S.style_objective(
            model, xc, xs, plan.weights, content_layer=plan.content_layer,
            style_layers=plan.style_layers, ratio=plan.ratio)
        objective.net = model.as_dtype(dtype)
        start = (start_image(plan.init, xc, xs[0], plan.seed) if x is None
                 else resize(x, size).to(dev))
        step_loop = replace(loop, iters=n, callbacks=S.offset_callbacks(loop.callbacks, done),
                            resume=loop.resume if x is None else None)
        res, rec = optimize_objective("style", objective, start, step_loop, settings, factors)
        per_scale.append({"size": list(size), "iters": rec["iterations"], "seconds": rec["seconds"],
                          "factors": factors, "style_sizes": [list(s.shape[-2:][::-1]) for s in xs]})
        record = rec if record is None else S.merge_records(record, rec)
        x, done = res.image, done + rec["iterations"]
        if rec["interrupted"] or rec["stopped"] not in ("completed", "converged"):
            break
    assert record is not None
    record["scales"] = per_scale
    return res, record, objective


def transfer_style(content: torch.Tensor, styles: Sequence[torch.Tensor], *,
                   arch: str | None = None, style_weights: Sequence[float] | None = None,
                   content_layer: str | None = None, style_layers: Sequence[str] | None = None,
                   ratio: tuple[float, float, float] = D.RATIO,
                   init: str | torch.Tensor = "noise", scales: int = 1,
                   style_scale: float | None = None, original_colors: bool = False,
                   net: NetArg = "random", net_seed: int = 0, sigma: float = D.SIGMA,
                   pool: str = D.POOL, weight_init: str = D.WEIGHT_INIT, iters: int = D.ITERS,
                   seed: int = 0, optimizer: str = "lbfgs", device: str = "auto",
                   callbacks: Sequence[Callable[[Step], None]] = (),
                   resume: Resume | None = None, precision: str = D.PRECISION,
                   keep_freed: bool = False) -> Run:
    """Content of ``content`` in the style of ``styles`` (eq. 9): α·ω·L_content + β·Σµ_l·E_l + γ·TV.

    ``content`` [1,3,H,W] sets the output size. ``styles``: one or more [1,3,h,w] images of any
    size, blended by ``style_weights`` (Gram targets Σ w_i G_i / Σ w_i). ``content_layer`` and
    ``style_layers`` default to the architecture's presets (VGG: conv2_2 and conv1_1 … conv5_1,
    §3). ``style_scale`` F resizes each style to F × the output's longer side (None: as given).
    ``init``: noise | content | style | an image. ``scales`` K > 1: coarse-to-fine, K scales
    halving the size, each started from the upsampled result of the one before, ``iters`` split
    by ``style.split_iters``. ``original_colors``: keep the content's chroma (I, Q of YIQ). How
    α:β:γ and the factors are applied: see ranvis.style. The default ``ratio`` is *not* the
    paper's 100:1:1000 (defaults.RATIO says why). ``precision``, ``keep_freed``: as invert.
    """
    a = resolve_arch(net, arch)
    weights = S.check_style_args(styles, style_weights, ratio)
    style_layers = a.check_taps(list(a.presets.style if style_layers is None else style_layers))
    content_layer = a.check_taps([content_layer or a.presets.content])[0]
    dev, dtype = resolve_device(device), resolve_precision(precision)
    check_memory(content.shape[-2], content.shape[-1], [content_layer], gram_layers=style_layers,
                 optimizer=optimizer, device=str(dev), dtype=precision_name(dtype),
                 history=D.STYLE_LBFGS_HISTORY, arch=a.name)
    for s in styles:
        check_memory(s.shape[-2], s.shape[-1], gram_layers=style_layers, optimizer="none",
                     device=str(dev), fix="use a smaller --style-scale", arch=a.name)
    model = make_net(net, arch=a.name, net_seed=net_seed, sigma=sigma, pool=pool,
                     weight_init=weight_init, device=dev)
    full = (content.shape[-1], content.shape[-2])
    sizes, counts = S.scale_sizes(*full, scales), S.split_iters(iters, scales)
    S.check_coarsest(a, sizes[0], [content_layer, *style_layers], scales)
    if resume is not None and scales > 1:
        raise InputError("--checkpoint continues single-scale runs only; use --scales 1")
    plan = Plan(content, styles, weights, content_layer, style_layers, ratio, init, style_scale,
                sizes, counts, seed)
    settings = {"content_layer": content_layer, "style_layers": style_layers,
                "ratio": list(ratio), "style_weights": weights,
                "init": init if isinstance(init, str) else "given", "scales": scales,
                "scale_sizes": [list(s) for s in sizes], "scale_iters": counts,
                "style_scale": style_scale, "original_colors": original_colors,
                "iters": iters, "seed": seed, **net_settings(model, net_seed),
                "precision": precision_name(dtype), "optimizer": optimizer, "device": str(dev),
                "size": list(full), "style_sizes": [list(s.shape[-2:][::-1]) for s in styles]}
    loop = Loop(iters, optimizer, callbacks, resume, history=D.STYLE_LBFGS_HISTORY,
                keep_freed=keep_freed)
    with backend_flags(dev, dtype):
        res, record, objective = _scales(model, plan, loop, dtype, settings)
        image = resize(res.image, full)
        if original_colors:
            image = luminance_transfer(image, content)
        res.image, res.losses, res.terms = image, record["loss"], record["terms"]
        record["metrics"] = S.style_metrics(model, image, content, objective)
    return Run(image, record, res)
