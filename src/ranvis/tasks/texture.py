"""Texture synthesis (paper eq. 5–8): match the Gram matrices of a source at several taps."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ranvis import defaults as D
from ranvis import presets as P
from ranvis.errors import InputError
from ranvis.nets.base import FrozenNet
from ranvis.objectives.stylekinds import parse_style_loss
from ranvis.objectives.terms import Objective, Term, gram_target
from ranvis.objectives.weighting import layer_factors
from ranvis.optim.loop import Resume, Step
from ranvis.optim.starts import noise
from ranvis.platform.plan import Footprint, plan_run
from ranvis.tasks.common import (
    Loop,
    NetArg,
    Run,
    make_net,
    net_settings,
    optimize_objective,
    resolve_arch,
)
from ranvis.tasks.styleblocks import style_term_name, style_terms


def gram_terms(model: FrozenNet, sources: Sequence[torch.Tensor], layers: list[str],
               weights: Sequence[float], factors: dict[str, float],
               share: float = 1.0) -> list[Term]:
    """Gram terms matching the weighted blend Σ w_i·G(F(s_i))/M_i of several source images."""
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise InputError(f"style weights must be non-negative with a positive sum, got {list(weights)}")
    targets: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for src, w in zip(sources, weights, strict=True):
            feats = model(src, layers)
            for n in layers:
                t = gram_target(feats[n]) * (w / total)
                targets[n] = t if n not in targets else targets[n] + t
    return [Term(n, n, "gram", targets[n], factors[n], share) for n in layers]


def gram_errors(model: FrozenNet, image: torch.Tensor, terms: list[Term]) -> dict[str, float]:
    """Per term: ‖Ĝ(x) − T‖/‖T‖ with Ĝ = G/M on ``model`` (T: the term's target)."""
    with torch.no_grad():
        feats = model(image.to(terms[0].target.device), [t.layer for t in terms])
    return {t.layer: float((gram_target(feats[t.layer]) - t.target).norm() / t.target.norm())
            for t in terms}


def texture_start(source: torch.Tensor, height: int, width: int, seed: int,
                  start: str) -> torch.Tensor:
    """Seeded white noise N(0.5, 0.1²) (starts.noise), for ``start`` "mean" moved to the mean
    colour of ``source`` [1,3,h,w], clamped to [0, 1]: [1, 3, height, width]."""
    x = noise(height, width, seed, source.device)
    if start == "mean":
        x = (x - 0.5 + source.mean(dim=(2, 3), keepdim=True)).clamp(0, 1)
    return x


def _check_start(start: str) -> str:
    if start not in ("grey", "mean"):
        raise InputError(f"start must be grey or mean, got {start!r}")
    return start


def _terms(model: FrozenNet, src: torch.Tensor, x0: torch.Tensor, layers: list[str],
           kinds: tuple[str, ...], weights: str) -> tuple[list[Term], dict[str, float]]:
    """The texture's terms and their factors: eq. 6's Gram terms with µ_l of eq. 8 (``weights``
    "auto") or 1 ("equal"); for other style losses one term per layer and kind, each its µ_l."""
    if kinds == ("gram",):
        factors = (layer_factors(model, src, layers, "gram") if weights == "auto"
                   else dict.fromkeys(layers, 1.0))
        return gram_terms(model, [src], layers, [1.0], factors), factors
    factors = {style_term_name(n, k): v for k in kinds for n, v in (
        layer_factors(model, src, layers, k) if weights == "auto"
        else dict.fromkeys(layers, 1.0)).items()}
    terms = style_terms(model, x0, [src], [1.0], layers, kinds,
                        {"style:" + k: v for k, v in factors.items()}, 1.0)
    return terms, factors


def synthesize_texture(source: torch.Tensor, layers: str | Sequence[str] | None = None, *,
                       arch: str | None = None, out_size: tuple[int, int] | None = None,
                       net: NetArg = "random", net_seed: int = 0, sigma: float = D.SIGMA,
                       pool: str = D.POOL, weight_init: str = D.WEIGHT_INIT,
                       iters: int = D.ITERS, seed: int = 0, optimizer: str = "lbfgs",
                       weights: str = "auto", device: str = "auto",
                       callbacks: Sequence[Callable[[Step], None]] = (),
                       resume: Resume | None = None, precision: str = D.PRECISION,
                       keep_freed: bool = False, preset: str = P.DEFAULT,
                       padding: str | None = None, threads: int | None = None,
                       start: str | None = None, style_loss: str = "gram") -> Run:
    """Synthesize a texture whose Gram matrices at ``layers`` match ``source``'s (eq. 5–8).

    ``source`` [1,3,h,w] in [0,1]. ``layers`` (a list or "conv1_1,conv2_1"; None: the
    architecture's ``presets.texture``, VGG's conv1_1 … conv4_1 as the paper names them, §3: conv
    outputs before their ReLU; relu1_1 etc. match the rectified maps instead. Measured on 8
    textures at 128 px (experiments/texture_quality.py), neither is clearly closer to the source,
    conv on 4/8 sources, relu on 4/8, so the paper's naming stays). ``weights='auto'`` applies
    µ_l (eq. 8, computed at the source); ``'equal'`` gives every layer weight 1 (Gatys et al.'s
    weighting, the ablation). ``out_size`` = (W, H), any size: targets are G/M (objectives.Term).
    Metrics: per layer, ‖Ĝ(x) − Ĝ(source)‖/‖Ĝ(source)‖ with Ĝ = G/M on the synthesis net.
    ``preset`` (ranvis.presets): "best" (default) pads every convolution of a VGG with the
    opposite edge ("circular": the canvas is a torus, so the texture is stationary and tiles;
    other architectures keep zeros: not measured), "paper" with zeros; ``padding`` overrides it.
    ``start``: the white noise's mean, "grey" (0.5, the paper's) or "mean" (the source's mean
    colour); None: the preset's ("best": mean, "paper": grey). ``precision``, ``keep_freed``,
    ``threads``: as tasks.inversion.invert.
    ``style_loss``: what the terms match, "gram" (eq. 5) or any styleloss kind ("a+b": a term
    of each, each with its own µ_l).
    """
    kinds = parse_style_loss(style_loss)
    a = resolve_arch(net, arch)
    layers = a.check_taps(a.presets.texture if layers is None else (
        layers if isinstance(layers, str) else list(layers)))
    if weights not in ("auto", "equal"):
        raise InputError(f"weights must be auto or equal, got {weights!r}")
    w_out, h_out = out_size or (source.shape[-1], source.shape[-2])
    a.check_input_size(source.shape[-2], source.shape[-1], layers)
    a.check_input_size(h_out, w_out, layers)
    plan = plan_run(Footprint(h_out, w_out, gram_layers=layers, optimizer=optimizer,
                              option="--out-size" if out_size else "--size"),
                    arch=a.name, device=device, precision=precision, threads=threads,
                    keep_freed=keep_freed,
                    inputs=[Footprint(source.shape[-2], source.shape[-1], gram_layers=layers)])
    dev, dtype = plan.device, plan.dtype
    padding = padding or (P.texture_padding(preset) if a.family == "vgg" else "zeros")
    start = _check_start(start or P.texture_start(preset))
    model = make_net(net, arch=a.name, net_seed=net_seed, sigma=sigma, pool=pool,
                     weight_init=weight_init, device=dev, padding=padding)
    settings = {"preset": preset, "layers": layers, "iters": iters, "seed": seed, **net_settings(model, net_seed),
                "precision": plan.precision, "optimizer": optimizer, "weights": weights,
                "device": str(dev), "source_size": list(source.shape[-2:][::-1]),
                "out_size": [w_out, h_out], "start": start, "style_loss": style_loss}
    loop = Loop(iters, optimizer, callbacks, resume, plan=plan)
    with plan.scope():
        settings["threads"] = plan.settings()["threads"]
        src = source.to(dev)
        x0 = texture_start(src, h_out, w_out, seed, start)
        terms, factors = _terms(model, src, x0, layers, kinds, weights)
        objective = Objective(model.as_dtype(dtype), terms)
        res, record = optimize_objective("texture", objective, x0, loop, settings, factors)
        grams = [t for t in objective.terms if t.kind == "gram"]
        record["metrics"] = {"gram_error": gram_errors(model, res.image, grams) if grams else {}}
    return Run(res.image, record, res)
