"""The paper's three tasks — invert(), synthesize_texture(), transfer_style() — and what they share.

These signatures are the one place for defaults: the CLI, the experiments and the benchmarks read
them. Each task returns a :class:`Run` whose ``record`` is the run record (see record.py).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ranvis import _version
from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.images import resize
from ranvis.metrics import feature_error, psnr, ssim
from ranvis.network import Net, NetSpec, check_input_size, check_layers
from ranvis.objectives import Objective, Term, gram_target
from ranvis.optimize import Result, Step, optimize
from ranvis.weighting import layer_factors


@dataclass
class Run:
    image: torch.Tensor  # [1, 3, H, W] in [0, 1], on the CPU
    record: dict[str, Any]
    result: Result


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU. 'cuda' without a GPU is an InputError."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but no CUDA device is available; use cpu or auto")
    if device != "cpu" and not device.startswith("cuda"):
        raise InputError(f"device must be auto, cpu or cuda, got {device!r}")
    return torch.device(device)


def make_net(net: str | NetSpec | Net = "random", *, net_seed: int = 0, sigma: float = D.SIGMA,
             pool: str = D.POOL, device: str | torch.device = "cpu") -> Net:
    """'random' (seeded plain VGG-19), 'stacked' (the shipped ranVGG), a spec path, a NetSpec, or
    a ready Net (returned as is)."""
    if isinstance(net, Net):
        return net
    if isinstance(net, NetSpec):
        spec = net
    elif net == "random":
        spec = NetSpec.random(net_seed, sigma=sigma, pool=pool)
    else:
        spec = NetSpec.load(net)
    return Net(spec, device=device)


def noise(height: int, width: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Seeded white noise N(0.5, D.NOISE_STD²) in [0, 1], [1, 3, H, W]; drawn on the CPU, so the same
    seed gives the same start on every device."""
    g = torch.Generator().manual_seed(seed)
    x = 0.5 + D.NOISE_STD * torch.randn(1, 3, height, width, generator=g)
    return x.clamp_(0, 1).to(device)


def _run(task: str, objective: Objective, init: torch.Tensor, iters: int, optimizer: str,
         callbacks: Sequence[Callable[[Step], None]], settings: dict[str, Any],
         factors: dict[str, float]) -> tuple[Result, dict[str, Any]]:
    if iters < 1:
        raise InputError(f"iterations must be a positive integer, got {iters}")
    t0 = time.perf_counter()
    res = optimize(objective, init, iters, optimizer=optimizer, callbacks=callbacks)
    seconds = time.perf_counter() - t0
    n = len(res.losses)
    record = {
        "task": task, "version": _version.__version__, "settings": settings,
        "net": objective.net.spec.to_dict(), "factors": factors, "loss": res.losses,
        "terms": res.terms, "iterations": n, "seconds": round(seconds, 3),
        "seconds_per_iteration": round(seconds / max(n, 1), 5), "interrupted": res.interrupted,
        "stopped": res.stopped, "faults": res.faults, "metrics": {},
    }
    res.image = res.image.detach().cpu()
    return res, record


def invert(image: torch.Tensor, layers: str | list[str], *, net: str | NetSpec | Net = "random",
           net_seed: int = 0, sigma: float = D.SIGMA, pool: str = D.POOL, iters: int = D.ITERS,
           seed: int = 0, optimizer: str = "lbfgs", init: torch.Tensor | None = None,
           factors: dict[str, float] | None = None, device: str = "auto",
           callbacks: Sequence[Callable[[Step], None]] = ()) -> Run:
    """Reconstruct ``image`` ([1,3,H,W] in [0,1]) from its features at ``layers`` (eq. 1–4).

    Starts from seeded white noise (or ``init``); several layers add their ω-weighted terms.
    Metrics: PSNR and SSIM against ``image``, normalized feature error per layer.
    """
    layers = check_layers(layers)
    check_input_size(image.shape[-2], image.shape[-1], layers)
    dev = resolve_device(device)
    model = make_net(net, net_seed=net_seed, sigma=sigma, pool=pool, device=dev)
    x0 = image.to(dev)
    with torch.no_grad():
        targets = model(x0, layers)
    factors = factors or layer_factors(model, x0, layers, "content")
    terms = [Term(n, n, "content", targets[n], factors[n]) for n in layers]
    objective = Objective(model, terms)
    start = noise(*image.shape[-2:], seed, dev) if init is None else init.to(dev)
    settings = {"layers": layers, "iters": iters, "seed": seed, "net_seed": net_seed,
                "sigma": model.spec.sigma, "pool": model.spec.pool, "optimizer": optimizer,
                "device": str(dev), "size": list(image.shape[-2:][::-1]),
                "init": "noise" if init is None else "given"}
    res, record = _run("invert", objective, start, iters, optimizer, callbacks, settings, factors)
    with torch.no_grad():
        feats = model(res.image.to(dev), layers)
    record["metrics"] = {"psnr": psnr(res.image, image), "ssim": ssim(res.image, image),
                         "feature_error": {n: feature_error(feats[n], targets[n]) for n in layers}}
    return Run(res.image, record, res)


def gram_terms(model: Net, sources: Sequence[torch.Tensor], layers: list[str],
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


def synthesize_texture(source: torch.Tensor, layers: str | list[str] = D.TEXTURE_LAYERS, *,
                       out_size: tuple[int, int] | None = None, net: str | NetSpec | Net = "random",
                       net_seed: int = 0, sigma: float = D.SIGMA, pool: str = D.POOL,
                       iters: int = D.ITERS, seed: int = 0, optimizer: str = "lbfgs",
                       weights: str = "auto", device: str = "auto",
                       callbacks: Sequence[Callable[[Step], None]] = ()) -> Run:
    """Synthesize a texture whose Gram matrices at ``layers`` match ``source``'s (eq. 5–8).

    ``source`` [1,3,h,w] in [0,1]. ``layers`` (a list or "conv1_1,conv2_1") name conv outputs
    before their ReLU, as the paper names them (§3: conv1_1 … conv4_1); ``relu1_1`` etc. match the
    rectified maps instead. Measured on 8 textures at 128 px (experiments/texture_quality.py),
    neither is clearly closer to the source (conv on 4/8 sources, relu on 4/8; 8/12 runs for conv
    over 3 noise seeds), so the paper's naming stays the default. ``weights='auto'`` applies
    µ_l (eq. 8, computed at the source); ``'equal'`` gives every layer weight 1 (Gatys et al.'s
    weighting, the ablation). ``out_size`` = (W, H), any size: targets are G/M (objectives.Term).
    Metrics: per layer, ‖Ĝ(x) − Ĝ(source)‖/‖Ĝ(source)‖ with Ĝ = G/M on the synthesis net.
    """
    layers = check_layers(layers if isinstance(layers, str) else list(layers))
    if weights not in ("auto", "equal"):
        raise InputError(f"weights must be auto or equal, got {weights!r}")
    w_out, h_out = out_size or (source.shape[-1], source.shape[-2])
    check_input_size(source.shape[-2], source.shape[-1], layers)
    check_input_size(h_out, w_out, layers)
    dev = resolve_device(device)
    model = make_net(net, net_seed=net_seed, sigma=sigma, pool=pool, device=dev)
    src = source.to(dev)
    factors = (layer_factors(model, src, layers, "gram") if weights == "auto"
               else dict.fromkeys(layers, 1.0))
    objective = Objective(model, gram_terms(model, [src], layers, [1.0], factors))
    settings = {"layers": layers, "iters": iters, "seed": seed, "net_seed": net_seed,
                "sigma": model.spec.sigma, "pool": model.spec.pool, "optimizer": optimizer,
                "weights": weights, "device": str(dev), "source_size": list(source.shape[-2:][::-1]),
                "out_size": [w_out, h_out]}
    res, record = _run("texture", objective, noise(h_out, w_out, seed, dev), iters, optimizer,
                       callbacks, settings, factors)
    with torch.no_grad():
        feats = model(res.image.to(dev), layers)
    record["metrics"] = {"gram_error": {t.layer: float((gram_target(feats[t.layer]) - t.target).norm()
                                                       / t.target.norm()) for t in objective.terms}}
    return Run(res.image, record, res)


def transfer_style(content: torch.Tensor, styles: Sequence[torch.Tensor], *,
                   style_weights: Sequence[float] | None = None,
                   content_layer: str = D.CONTENT_LAYER,
                   style_layers: Sequence[str] = D.STYLE_LAYERS,
                   ratio: tuple[float, float, float] = D.RATIO, init: str = "noise",
                   net: str | NetSpec | Net = "random", net_seed: int = 0, sigma: float = D.SIGMA,
                   pool: str = D.POOL, iters: int = D.ITERS, seed: int = 0, optimizer: str = "lbfgs",
                   device: str = "auto",
                   callbacks: Sequence[Callable[[Step], None]] = ()) -> Run:
    """Content of ``content`` in the style of ``styles`` (eq. 9): α·ω·L_content + β·Σµ_l·E_l + γ·TV.

    ``content`` [1,3,H,W] sets the output size; each style image is used at its own size (its
    Gram matrices are divided by M, so sizes need not agree). ``init``: noise | content | style.
    """
    layers = check_layers([content_layer, *style_layers])
    style_layers = check_layers(list(style_layers))
    check_input_size(content.shape[-2], content.shape[-1], layers)
    for s in styles:
        check_input_size(s.shape[-2], s.shape[-1], style_layers)
    if not styles:
        raise InputError("give at least one style image")
    style_weights = list(style_weights) if style_weights is not None else [1.0] * len(styles)
    if len(style_weights) != len(styles):
        raise InputError(f"{len(style_weights)} style weights for {len(styles)} style images")
    alpha, beta, gamma = ratio
    dev = resolve_device(device)
    model = make_net(net, net_seed=net_seed, sigma=sigma, pool=pool, device=dev)
    xc, xs = content.to(dev), [s.to(dev) for s in styles]
    omega = layer_factors(model, xc, [content_layer], "content")
    mu = layer_factors(model, xs[0], style_layers, "gram")
    with torch.no_grad():
        fc = model(xc, [content_layer])[content_layer]
    terms = [Term("content", content_layer, "content", fc, omega[content_layer], alpha)]
    terms += gram_terms(model, xs, style_layers, style_weights, mu, beta)
    objective = Objective(model, terms, tv_weight=gamma)
    h, w = content.shape[-2:]
    if init == "noise":
        start = noise(h, w, seed, dev)
    elif init == "content":
        start = xc
    elif init == "style":
        start = resize(xs[0], (w, h))
    else:
        raise InputError(f"init must be noise, content or style, got {init!r}")
    settings = {"content_layer": content_layer, "style_layers": style_layers,
                "ratio": list(ratio), "style_weights": style_weights, "init": init,
                "iters": iters, "seed": seed, "net_seed": net_seed, "sigma": model.spec.sigma,
                "pool": model.spec.pool, "optimizer": optimizer, "device": str(dev),
                "size": [w, h], "style_sizes": [list(s.shape[-2:][::-1]) for s in styles]}
    factors = {"content:" + k: v for k, v in omega.items()}
    factors.update({"style:" + k: v for k, v in mu.items()})
    res, record = _run("style", objective, start, iters, optimizer, callbacks, settings, factors)
    record["metrics"] = {"ssim_content": ssim(res.image, content)}
    return Run(res.image, record, res)
