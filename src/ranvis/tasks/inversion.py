"""Inversion (paper eq. 1–4): reconstruct an image from its features at one or more taps.

Two recipes (ranvis.presets): ``paper`` (eq. 1 from white noise over pixels, one network) and
``best`` (the default: deep taps matched on several random draws at once, coarse-to-fine).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ranvis import defaults as D
from ranvis import presets as P
from ranvis.errors import InputError
from ranvis.nets.arch import Arch
from ranvis.nets.base import FrozenNet
from ranvis.objectives.metrics import feature_error, psnr, ssim
from ranvis.objectives.terms import Ensemble, Objective, Term
from ranvis.objectives.weighting import layer_factors
from ranvis.optim.loop import Resume, Step
from ranvis.optim.starts import noise
from ranvis.optim.stopping import Plateau
from ranvis.platform.device import MIXED_FP32_SHARE
from ranvis.platform.plan import Footprint, RunPlan, plan_run
from ranvis.tasks.common import (
    Loop,
    NetArg,
    Run,
    make_nets,
    net_settings,
    optimize_objective,
    resolve_arch,
)
from ranvis.tasks.stages import Stage, coarse_to_fine, mixed

# a coarse level's plateau (level_plateau): no 0.1 % gain in 40 evaluations, style's rule
LEVEL_PLATEAU = Plateau(window=40, rel_tol=1e-3)


def auto_param(arch: Arch, layers: list[str]) -> str:
    """The variable to optimize for inverting ``layers``: "pixel" when the deepest is at or before
    the architecture's ``presets.fourier_after`` (VGG: pool2), else "fourier".

    Measured on VGG-19 at 128 px, 300 L-BFGS iterations, random seed 0 (PSNR, pixel → fourier):
    rocket pool1 63.4 → 47.7, pool2 45.1 → 35.2, pool3 23.2 → 25.8, pool4 14.1 → 21.4 dB;
    pool3 on astronaut 17.5 → 19.6, coffee 20.4 → 23.0, chelsea 22.9 → 24.5 dB. Shallow layers
    are well conditioned and pixel-space L-BFGS converges almost exactly; deep ones are not, and
    the preconditioner gains several dB there. Other architectures' boundary is set by analogy
    (the first tap at stride 4, nets.catalog), not measured.
    """
    return "fourier" if is_deep(arch, layers) else "pixel"


def default_iters(preset: str, arch: Arch, layers: list[str]) -> int:
    """The evaluation budget ``preset`` gives an inversion of ``layers`` (presets.invert_recipe)."""
    return P.invert_recipe(preset, is_deep(arch, layers),
                           arch.tap(arch.deepest(layers)).stride).iters


def is_deep(arch: Arch, layers: list[str]) -> bool:
    """Whether the deepest of ``layers`` lies beyond the architecture's ``fourier_after``."""
    return arch.tap(arch.deepest(layers)).index > arch.tap(arch.presets.fourier_after).index


@dataclass(frozen=True)
class Priors:
    """Opt-in natural-image priors (off in both presets): ``tv`` · Σ(Δx)² (β = 2) and ``alpha``
    · Σ|2(x − ½)|⁶ (a soft box), plain sums whose per-pixel gradient is on the scale of the
    ω-normalized feature terms' (mean 1 at the zero representation, eq. 4), so one weight
    serves every layer and size."""

    tv: float = 0.0
    alpha: float = 0.0


def _check_given(layers: list[str], factors: dict[str, float] | None,
                 init: torch.Tensor | None, image: torch.Tensor) -> dict[str, float]:
    given = dict(factors or {})
    if set(given) - set(layers):
        raise InputError(f"factors given for {sorted(set(given) - set(layers))}, which are not "
                         f"among the inverted layers {layers}")
    if init is not None and init.shape != image.shape:
        raise InputError(f"init has shape {tuple(init.shape)}; it must match the image's "
                         f"{tuple(image.shape)}")
    return given


def _objective(models: list[FrozenNet], x0: torch.Tensor, layers: list[str],
               given: dict[str, float], priors: Priors, dtype: torch.dtype
               ) -> tuple[Ensemble, dict[str, float]]:
    """Eq. 1 on every network (ω_l each at ``x0``, eq. 4; ``given`` overrides), averaged, plus the
    priors; the factors of the first network (what the run record reports)."""
    members, first = [], None
    for model in models:
        with torch.no_grad():
            targets = model(x0, layers)
        missing = [n for n in layers if n not in given]  # a user may override some or all ω_l
        f = {**(layer_factors(model, x0, missing, "content") if missing else {}), **given}
        f = {n: float(f[n]) for n in layers}
        first = first or f
        terms = [Term(n, n, "content", targets[n], f[n]) for n in layers]
        members.append(Objective(model.as_dtype(dtype), terms, tv_weight=priors.tv * x0.numel(),
                                 alpha_weight=priors.alpha))
    return Ensemble(members), first


def _stages(h: int, w: int, iters: int, r: dict[str, Any], plan: RunPlan) -> tuple[Stage, ...]:
    """The coarse-to-fine stages (none with one level); precision "mixed" marks the bulk."""
    if r["levels"] <= 1:
        if plan.bulk is not None:
            raise InputError("--precision mixed runs the coarse-to-fine levels in bfloat16; it "
                             "needs --levels 2 or more")
        return ()
    stages = coarse_to_fine(h, w, iters, r["levels"], r["param"], r["coarse_iters"])
    return tuple(mixed(stages, MIXED_FP32_SHARE) if plan.bulk is not None else stages)


def _stage_list(stages: Sequence[Stage]) -> list[list[Any]]:
    """The run record's stages: [[W, H] of a coarse stage or the full-size variable, iters],
    and "bf16" third where a stage computes in the bulk precision (precision "mixed")."""
    return [[s.param if isinstance(s.param, str) else list(s.param.coarse[::-1]), s.iters,
             *(["bf16"] if s.bulk else [])] for s in stages]


def _recipe(preset: str, arch: Arch, layers: list[str], overrides: dict[str, Any], *,
            random: bool = True) -> dict[str, Any]:
    """The preset's recipe with every non-None ``overrides`` value in its place; a given
    network (``random`` False) is one network unless ``overrides`` asks for more."""
    r = P.invert_recipe(preset, is_deep(arch, layers), arch.tap(arch.deepest(layers)).stride)
    out = {"nets": r.nets if random else 1, "levels": r.levels, "param": r.param,
           "noise_std": r.noise_std, "iters": r.iters, "level_plateau": r.level_plateau,
           # the per-level split belongs to the default budget and levels; a given budget or
           # number of levels keeps the shares
           "coarse_iters": (r.coarse_iters if overrides.get("iters") is None
                            and overrides.get("levels") is None else None)}
    if out["param"] == "auto":
        out["param"] = auto_param(arch, layers)
    out.update({k: v for k, v in overrides.items() if v is not None})
    if out["param"] == "auto":
        out["param"] = auto_param(arch, layers)
    return out


def invert(image: torch.Tensor, layers: str | list[str], *, arch: str | None = None,
           preset: str = P.DEFAULT, net: NetArg = "random", net_seed: int = 0,
           sigma: float = D.SIGMA, pool: str = D.POOL, weight_init: str = D.WEIGHT_INIT,
           iters: int | None = None, seed: int = 0, optimizer: str = "lbfgs",
           init: torch.Tensor | None = None, factors: dict[str, float] | None = None,
           device: str = "auto", callbacks: Sequence[Callable[[Step], None]] = (),
           resume: Resume | None = None, param: str | None = None,
           precision: str = D.PRECISION, keep_freed: bool = False, nets: int | None = None,
           levels: int | None = None, noise_std: float | None = None,
           priors: Priors = Priors(), padding: str | None = None,
           threads: int | None = None, level_plateau: bool | None = None) -> Run:
    """Reconstruct ``image`` ([1,3,H,W] in [0,1]) from its features at ``layers`` (eq. 1–4).

    ``preset`` (ranvis.presets): "best" (default) or "paper"; ``iters`` (evaluations; None: the
    preset's, 1000 for ``best`` beyond the architecture's ``fourier_after``, else 300), ``nets`` (independent random
    draws matched at once), ``levels`` (coarse-to-fine levels, 1: none), ``param`` (the
    full-size variable: "pixel", the paper's, "fourier", preconditioned, or "auto",
    :func:`auto_param`) and ``noise_std`` (of the white-noise start) override the preset's
    choice, and so does ``level_plateau`` (end a coarse-to-fine level once its loss is flat,
    LEVEL_PLATEAU; the evaluations it leaves are not spent). ``arch``: the architecture of a
    random net (default VGG-19; a spec or network brings
    its own). Several layers add their ω-weighted terms. ``init``: start there instead of noise.
    ``priors``: opt-in image priors. ``padding``: the convolutions' ("zeros", the paper's and
    both presets'; "reflect" gave no consistent gain at pool5: presets.py). ``resume``
    continues an interrupted run (checkpoint.py).
    ``precision``: the layers' dtype. ``keep_freed``: let glibc keep freed memory where the
    run still fits (platform.heap; process-wide, so the caller's choice: the ranvis command
    says yes). ``threads``: CPU threads for the run, given back afterwards (None: torch's
    current setting; platform.threads). Raises InputError,
    before any work, for bad layers, a too-small image, or one whose estimated memory need
    exceeds the device's. Metrics: PSNR and SSIM against ``image``, normalized feature error
    per layer on the first network.
    """
    a = resolve_arch(net, arch)
    layers = a.check_taps(layers)
    a.check_input_size(image.shape[-2], image.shape[-1], layers)
    r = _recipe(preset, a, layers, {"nets": nets, "levels": levels, "param": param,
                                    "noise_std": noise_std, "iters": iters,
                                    "level_plateau": level_plateau},
                random=isinstance(net, str) and net == "random")
    iters = r["iters"]
    h, w = image.shape[-2:]
    plan = plan_run(Footprint(h, w, layers, optimizer=optimizer), arch=a.name, device=device,
                    precision=precision, threads=threads, copies=r["nets"],
                    keep_freed=keep_freed, stages=True)
    dev, dtype = plan.device, plan.dtype
    models = make_nets(r["nets"], net, arch=a.name, net_seed=net_seed, sigma=sigma, pool=pool,
                       weight_init=weight_init, device=dev, padding=padding)
    given = _check_given(layers, factors, init, image)
    stages = _stages(h, w, iters, r, plan)
    loop = Loop(iters, optimizer, callbacks, resume, r["param"], plan=plan, stages=stages,
                coarse_plateau=LEVEL_PLATEAU if r["level_plateau"] else None)
    settings = {"preset": preset, "layers": layers, "iters": iters, "seed": seed,
                **net_settings(models[0], net_seed, r["nets"]), "levels": r["levels"],
                "precision": plan.precision, "optimizer": optimizer, "device": str(dev),
                "size": [w, h], "init": "noise" if init is None else "given",
                "noise_std": r["noise_std"], "param": r["param"], "stages": _stage_list(stages),
                **({"level_plateau": {"window": LEVEL_PLATEAU.window,
                                       "rel_tol": LEVEL_PLATEAU.rel_tol}}
                   if r["level_plateau"] else {}),
                "priors": {"tv": priors.tv, "alpha": priors.alpha}}
    with plan.scope():
        settings["threads"] = plan.settings()["threads"]
        x0 = image.to(dev)
        objective, f = _objective(models, x0, layers, given, priors, dtype)
        start = (noise(h, w, seed, dev, r["noise_std"]) if init is None else init.to(dev))
        res, record = optimize_objective("invert", objective, start, loop, settings, f)
        with torch.no_grad():
            feats = models[0](res.image.to(dev), layers)
        targets = {t.layer: t.target for t in objective.members[0].terms}
    record["metrics"] = {"psnr": psnr(res.image, image), "ssim": ssim(res.image, image),
                         "feature_error": {n: feature_error(feats[n], targets[n]) for n in layers}}
    return Run(res.image, record, res)
