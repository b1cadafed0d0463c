"""Style transfer (paper eq. 9): α·ω·L_content + β·Σ µ_l·E_l + γ·TV, at one or more scales.
The building blocks (objective at one scale, TV scaling, schedule, metrics) are ranvis.tasks.styleblocks;
the two recipes (``paper``, ``best``) are ranvis.presets."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch

from ranvis import defaults as D
from ranvis import presets as P
from ranvis.errors import InputError
from ranvis.io.images import luminance_transfer, resize
from ranvis.nets.arch import Arch
from ranvis.nets.base import FrozenNet
from ranvis.objectives.color import match_colors, match_colors_yiq
from ranvis.objectives.losses import total_variation
from ranvis.objectives.stylekinds import parse_style_loss
from ranvis.objectives.terms import Ensemble
from ranvis.objectives.weighting import content_factor, start_factors, tv_factor
from ranvis.optim.callbacks import StageInfo, begin_stage
from ranvis.optim.loop import Result, Resume, Step
from ranvis.optim.starts import perturb_start, start_image
from ranvis.optim.stopping import Plateau
from ranvis.platform.device import precision_name
from ranvis.tasks import styleblocks as S
from ranvis.tasks.common import (
    Loop,
    NetArg,
    Run,
    make_nets,
    net_settings,
    optimize_objective,
    resolve_arch,
)
from ranvis.tasks.stylefit import style_energy_std


@dataclass(frozen=True)
class Plan:
    """One style transfer's inputs and schedule: the taps, α:β:γ, the start, the scale sizes
    (W, H), coarsest first, and the iterations of each; ``factors``: where µ_l is measured
    ("zero": at the style, eq. 8; "start": at each scale's start image); ``start_noise``: std of
    the noise added to an image start; ``tv_factor``: γ times weighting.tv_factor of the main style
    at each scale."""

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
    factors: str = "zero"
    start_noise: float | str = 0.0
    tv_factor: bool = False
    style_loss: str = "gram"
    start: str = "noise"
    alphas: tuple[float, ...] = ()
    content_blur: float = 0.0
    content_factor: bool = False
    content_detail: float = 0.0  # σ px at 128 px (styleblocks.content_target)
    tv_allowance: float = 0.0  # TV counts beyond this × the main style's (losses.tv_excess)


def _start(plan: Plan, xc: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    """The first scale's start: start_image, plus seeded noise of ``start_noise`` on an image."""
    x = start_image(plan.init, xc, xs, plan.seed)
    if plan.start_noise and not (isinstance(plan.init, str) and plan.init == "noise"):
        std = plan.start_noise
        if std == "style":  # the style's fine-texture energy (starts.style_energy_std)
            std = style_energy_std(x, xs, plan.start, plan.seed)
        x = perturb_start(x, plan.start, float(std), plan.seed)
    return x.clamp(0, 1)


def _objective(models: list[FrozenNet], plan: Plan, xc: torch.Tensor, xs: list[torch.Tensor],
               start: torch.Tensor, dtype: torch.dtype,
               ratio: tuple[float, float, float]) -> tuple[Ensemble, dict[str, float]]:
    """Eq. 9 at one scale on every network, averaged; the first network's factors."""
    members, first = [], None
    tv = {"tv": tv_factor(S.main_style(xs, plan.weights))} if plan.tv_factor else {}
    if plan.content_factor:  # α for the style's contrast (weighting.content_factor)
        tv["content_factor"] = content_factor(S.main_style(xs, plan.weights))
        ratio = (ratio[0] * tv["content_factor"], *ratio[1:])
    for model in models:
        obj, factors = S.style_objective(model, xc, xs, plan.weights,
                                         content_layer=plan.content_layer,
                                         style_layers=plan.style_layers, ratio=ratio,
                                         style_loss=plan.style_loss,
                                         content_blur=plan.content_blur)
        if plan.factors == "start":
            at_start = start_factors(obj, start, "style", {t.name: t.factor for t in obj.terms})
            obj.terms = [replace(t, factor=at_start.get(t.name, t.factor)) for t in obj.terms]
            factors = {**factors, **{"style:" + k: v for k, v in at_start.items()}}
        if tv:
            factors = {**factors, **tv}
            obj.tv_weight *= tv.get("tv", 1.0)
        obj.tv_level = plan.tv_allowance * float(total_variation(S.main_style(xs, plan.weights)))
        obj.net = model.as_dtype(dtype)
        members.append(obj)
        first = first or factors
    return Ensemble(members), first


def _stage_info(plan: Plan, k: int, done: int, early: bool) -> StageInfo:
    """Scale ``k`` as the progress line shows it: each scale's cost per evaluation is its share
    of the full size's pixels."""
    full = plan.sizes[-1][0] * plan.sizes[-1][1]
    count = len(plan.sizes)
    return StageInfo(k, count, f"scale {k + 1}/{count} {plan.sizes[k][0]}x{plan.sizes[k][1]}",
                     done, tuple(plan.counts[k:]),
                     tuple(w * h / full for w, h in plan.sizes[k:]), early)


def _scales(models: list[FrozenNet], plan: Plan, loop: Loop, dtype: torch.dtype,
            settings: dict[str, Any]) -> tuple[Result, dict[str, Any], Ensemble]:
    """The loop over scales (coarsest first); the record gains "scales". ``models`` (float32)
    set targets and factors; the layers compute in ``dtype`` meanwhile."""
    dev, full = models[0].device, plan.sizes[-1]
    x, record, done, per_scale = None, None, 0, []
    alphas = plan.alphas or (1.0,) * len(plan.sizes)
    for k, (size, n, a_k) in enumerate(zip(plan.sizes, plan.counts, alphas, strict=True)):
        begin_stage(loop.callbacks, _stage_info(plan, k, done, loop.plateau is not None))
        xc = resize(plan.content, size).to(dev)
        xs = [s.to(dev) for s in S.scaled_styles(plan.styles, size, full, plan.style_scale)]
        start = _start(plan, xc, xs[0]) if x is None else resize(x, size).to(dev)
        ratio = (plan.ratio[0] * a_k, *plan.ratio[1:])
        xc = S.content_target(xc, xs, plan.weights, plan.content_detail, plan.seed)
        objective, factors = _objective(models, plan, xc, xs, start, dtype, ratio)
        step_loop = replace(loop, iters=n, callbacks=S.offset_callbacks(loop.callbacks, done),
                            resume=loop.resume if x is None else None)
        res, rec = optimize_objective("style", objective, start, step_loop, settings, factors)
        per_scale.append({"size": list(size), "iters": rec["iterations"], "seconds": rec["seconds"],
                          "factors": factors, "style_sizes": [list(s.shape[-2:][::-1]) for s in xs],
                          "stopped": rec["stopped"]})
        record = rec if record is None else S.merge_records(record, rec)
        x, done = res.image, done + rec["iterations"]
        if rec["interrupted"] or rec["stopped"] not in ("completed", "converged", "plateau"):
            break
    assert record is not None
    record["scales"] = per_scale
    return res, record, objective


@dataclass(frozen=True)
class Weights:
    """Multipliers of the automatic balance α:β:γ (1 = as the preset sets it): what neural-style's
    ``-content_weight``, ``-style_weight``, ``-tv_weight`` do, here relative to ω and µ_l."""

    content: float = 1.0
    style: float = 1.0
    tv: float = 1.0

    def apply(self, ratio: Sequence[float]) -> tuple[float, float, float]:
        if min(self.content, self.style, self.tv) < 0:
            raise InputError(f"content, style and tv weights must be non-negative, got {self}")
        a, b, g = ratio
        return (a * self.content, b * self.style, g * self.tv)


def _recipe(preset: str, a: Arch, content: torch.Tensor, given: dict[str, Any], *,
            random: bool = True) -> dict[str, Any]:
    """The preset's choices (presets.style_recipe) with every non-None ``given`` in place. A
    given network (``random`` False) is one network unless ``given`` asks for more; reflect
    padding is the preset's on VGG only (measured there; a torchvision net's large kernels
    cannot mirror-pad small maps)."""
    r = P.style_recipe(preset)
    strides = {t: a.tap(t).stride for t in a.presets.style + (a.presets.content,)}
    layer = (P.deep_content_tap(a.presets.content, a.presets.style, strides) if r.deep_content
             else a.presets.content)
    out = {"ratio": r.ratio, "init": r.init, "color_match": r.color_match,
           "nets": r.nets if random else 1,
           "padding": r.padding if a.family == "vgg" else "zeros", "content_layer": layer, "style_layers": a.presets.style,
           "scales": P.style_scales(preset, max(content.shape[-2:])),
           "style_loss": r.style_loss}
    out.update({k: v for k, v in given.items() if v is not None})
    out["start"], out["style_first"], out["color_space"] = r.start, r.style_first, r.color_space
    out["content_blur"], out["content_factor"] = r.content_blur, r.content_factor
    out["content_detail"], out["tv_allowance"] = r.content_detail, r.tv_allowance
    out["plateau"] = Plateau(r.plateau_window, r.plateau_tol) if r.plateau else None
    out["factors"], out["start_noise"], out["tv_factor"] = r.factors, r.start_noise, r.tv_factor
    return out


def transfer_style(content: torch.Tensor, styles: Sequence[torch.Tensor], *,
                   arch: str | None = None, preset: str = P.DEFAULT,
                   style_weights: Sequence[float] | None = None,
                   content_layer: str | None = None, style_layers: Sequence[str] | None = None,
                   ratio: tuple[float, float, float] | None = None, weights: Weights = Weights(),
                   init: str | torch.Tensor | None = None, scales: int | None = None,
                   style_scale: float | None = None, original_colors: bool = False,
                   color_match: bool | None = None, nets: int | None = None,
                   padding: str | None = None, net: NetArg = "random", net_seed: int = 0,
                   sigma: float = D.SIGMA, pool: str = D.POOL, weight_init: str = D.WEIGHT_INIT,
                   style_loss: str | None = None, iters: int = D.ITERS, seed: int = 0,
                   optimizer: str = "lbfgs",
                   device: str = "auto", callbacks: Sequence[Callable[[Step], None]] = (),
                   resume: Resume | None = None, precision: str = D.PRECISION,
                   keep_freed: bool = False, threads: int | None = None) -> Run:
    """Content of ``content`` in the style of ``styles`` (eq. 9): α·ω·L_content + β·Σµ_l·E_l + γ·TV.

    ``content`` [1,3,H,W] sets the output size. ``styles``: one or more [1,3,h,w] images of any
    size, blended by ``style_weights`` (Gram targets Σ w_i G_i / Σ w_i). ``preset`` (ranvis.presets,
    "best" or "paper") chooses what is left as None: ``content_layer``, ``style_layers`` (the
    architecture's taps), ``ratio`` α:β:γ, ``init`` (noise | content | style | an image),
    ``scales`` (coarse-to-fine: each scale halves the next, ``iters`` split by
    ``style.split_iters``), ``color_match`` (give the content the main style's colours first,
    color.match_colors: then it is the content target and the start), ``nets`` (random draws
    matched at once) and ``padding``. ``weights`` multiply α, β, γ (1 = the preset's balance).
    ``style_scale`` F resizes each style to F × the output's longer side (None: as given).
    ``style_loss``: the style terms' loss (styleloss: gram, sw, meanstd, cov, mean, hist, each
    optionally -softmax, "a+b" for several; None: the preset's; ``paper`` is eq. 5's gram).
    ``original_colors``: keep the content's chroma (I, Q of YIQ). ``precision``,
    ``keep_freed``, ``threads``: as invert. The best recipe stops once the loss is flat (stopping.Plateau).
    """
    a = resolve_arch(net, arch)
    w = S.check_style_args(styles, style_weights, ratio or P.BEST_RATIO)
    r = _recipe(preset, a, content, {
        "ratio": ratio, "init": init, "color_match": color_match, "nets": nets,
        "padding": padding, "scales": scales, "content_layer": content_layer,
        "style_layers": None if style_layers is None else list(style_layers),
        "style_loss": style_loss},
        random=isinstance(net, str) and net == "random")
    r["style_layers"] = a.check_taps(list(r["style_layers"]))
    r["content_layer"] = a.check_taps([r["content_layer"]])[0]
    run_plan = S.plan_resources(content, styles, r, a, optimizer, device=device,
                                precision=precision, threads=threads, keep_freed=keep_freed)
    dev, dtype = run_plan.device, run_plan.dtype
    models = make_nets(r["nets"], net, arch=a.name, net_seed=net_seed, sigma=sigma, pool=pool,
                       weight_init=weight_init, device=dev, padding=r["padding"])
    full = (content.shape[-1], content.shape[-2])
    parse_style_loss(r["style_loss"])
    sizes, counts, alphas = S.schedule(full, iters, r["scales"], r["style_first"])
    S.check_coarsest(a, sizes[0], [r["content_layer"], *r["style_layers"]], r["scales"])
    if resume is not None and r["scales"] > 1:
        raise InputError("--checkpoint continues single-scale runs only; use --scales 1")
    main = S.main_style(styles, w)
    match = match_colors_yiq if r["color_space"] == "yiq" else match_colors
    target = match(content, main) if r["color_match"] else content
    plan = Plan(target, styles, w, r["content_layer"], r["style_layers"],
                weights.apply(r["ratio"]), r["init"], style_scale, sizes, counts, seed,
                r["factors"], r["start_noise"], r["tv_factor"], r["style_loss"], r["start"],
                tuple(alphas), r["content_blur"], r["content_factor"], r["content_detail"],
                r["tv_allowance"])
    settings = _settings(preset, r, plan, weights, models, net_seed, dtype, dev, styles, iters,
                         original_colors)
    settings["optimizer"] = optimizer
    loop = Loop(iters, optimizer, callbacks, resume, plan=run_plan, plateau=r["plateau"])
    with run_plan.scope():
        settings["threads"] = run_plan.settings()["threads"]
        res, record, objective = _scales(models, plan, loop, dtype, settings)
        image = resize(res.image, full)
        if original_colors:
            image = luminance_transfer(image, content)
        res.image, res.losses, res.terms = image, record["loss"], record["terms"]
        res.accepted = record["accepted"]
        record["metrics"] = S.style_metrics(models[0], image, content, objective.members[0])
    return Run(image, record, res)


def _settings(preset: str, r: dict[str, Any], plan: Plan, weights: Weights,
              models: list[FrozenNet], net_seed: int, dtype: torch.dtype, dev: torch.device,
              styles: Sequence[torch.Tensor], iters: int, original_colors: bool
              ) -> dict[str, Any]:
    """The run record's settings: the preset and every value it chose."""
    init = plan.init if isinstance(plan.init, str) else "given"
    return {"preset": preset, "content_layer": plan.content_layer,
            "style_layers": plan.style_layers, "ratio": list(r["ratio"]),
            "weights": {"content": weights.content, "style": weights.style, "tv": weights.tv},
            "style_weights": plan.weights, "init": init, "start_noise": plan.start_noise,
            "color_match": r["color_match"], "color_space": r["color_space"],
            "factors_at": plan.factors,
            "tv_factor": plan.tv_factor, "style_loss": plan.style_loss, "start": plan.start,
            "style_first": r["style_first"], "content_blur": plan.content_blur,
            "content_factor": plan.content_factor, "content_detail": plan.content_detail,
            "tv_allowance": plan.tv_allowance,
            "plateau": None if r["plateau"] is None else {
                k: v for k, v in vars(r["plateau"]).items() if k != "since"},
            "scales": len(plan.sizes), "scale_sizes": [list(s) for s in plan.sizes],
            "scale_iters": plan.counts, "style_scale": plan.style_scale,
            "original_colors": original_colors, "iters": iters, "seed": plan.seed,
            **net_settings(models[0], net_seed, len(models)), "precision": precision_name(dtype),
            "device": str(dev), "size": list(plan.sizes[-1]),
            "style_sizes": [list(s.shape[-2:][::-1]) for s in styles]}
