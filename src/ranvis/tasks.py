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
from ranvis.memory import check_memory, keeping_freed_fits
from ranvis.metrics import feature_error, psnr, ssim
from ranvis.network import LAYER_INDEX, Net, NetSpec, check_input_size, check_layers
from ranvis.objectives import Objective, Term, gram_target
from ranvis.optimize import Result, Resume, Step, lbfgs_history, optimize
from ranvis.runtime import apply_memory_policy, freed_memory_kept
from ranvis.weighting import layer_factors


@dataclass
class Run:
    image: torch.Tensor  # [1, 3, H, W] in [0, 1], on the CPU
    record: dict[str, Any]
    result: Result


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU. 'cuda' without a GPU is an InputError.

    On CUDA, cuDNN is set to deterministic algorithms without autotuning, so the same command
    and seed give the same image on the same machine (at some cost in speed).
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but no CUDA device is available; use cpu or auto")
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        raise InputError(f"device must be auto, cpu, cuda or cuda:N, got {device!r}")
    if dev.type == "cuda":
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError(f"device {device} does not exist; this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s), cuda:0 …")
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    return dev


def fast_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 convolutions faster than float32: a CUDA GPU with
    bfloat16 support, or a CPU with AMX tiles or AVX512-BF16 (oneDNN's bf16 kernels)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # torch.cpu, private
    return any(bool(getattr(torch.cpu, c, lambda: False)()) for c in checks)


PRECISIONS = ("auto", "fp32", "bf16")


def resolve_precision(precision: str, task: str, device: torch.device) -> torch.dtype:
    """The dtype the network layers compute in for ``task`` (invert | texture | style).

    "fp32"/"bf16" as named; "auto" (defaults.PRECISION) is float32 for every task. bfloat16 is
    2-3x faster per iteration where :func:`fast_bfloat16` holds (README, Performance) and as
    good for style at 128 px, 200 iterations (benchmarks/precision.py: float32 loss of the result
    1.00x, same judge distances), but its rounding costs some of the optimum: on a 256 px style
    transfer the float32 loss of a bf16 result was 5674 (200 iterations, no line search), 2 %
    above the 5560 float32 reaches, and texture losses ended 1.5-9x higher (judge distance unchanged). So it is
    offered, not chosen. Only the layers change: the
    targets, factors, losses and gradients handed to the optimizer are float32. On CUDA,
    "fp32" also turns cuDNN's TF32 convolutions off (measured on an H200: pool1 inversion 55 dB
    with TF32, 70 dB without). Measured quality and speed of bf16: benchmarks/precision.py and
    the README's performance section.
    """
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        precision = "fp32"  # bf16 is opt-in: it ends a little above fp32's optimum (docstring)
    if device.type == "cuda":  # fp32 means fp32: cuDNN's TF32 default cost ~15 dB at pool1
        torch.backends.cudnn.allow_tf32 = precision != "fp32"
    return torch.bfloat16 if precision == "bf16" else torch.float32


def precision_name(dtype: torch.dtype) -> str:
    return "bf16" if dtype == torch.bfloat16 else "fp32"


def make_net(net: str | NetSpec | Net = "random", *, net_seed: int = 0, sigma: float = D.SIGMA,
             pool: str = D.POOL, device: str | torch.device = "cpu") -> Net:
    """'random' (seeded plain VGG-19), 'stacked' (the shipped ranVGG), a spec path, a NetSpec, or
    a ready Net (its float32 view: tasks choose the compute precision with ``precision``)."""
    if isinstance(net, Net):
        return net.as_dtype(torch.float32)
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


def fits_keeping_freed(objective: Objective, init: torch.Tensor, optimizer: str,
                        history: int | None) -> bool:
    """runtime.apply_memory_policy's question: does this run fit with freed memory kept?
    Without lean layers check_memory has counted that heap already (memory.estimate_bytes)."""
    net, (h, w) = objective.net, init.shape[-2:]
    if not net.uses_lean(h, w) or net.device.type != "cpu":
        return True
    return keeping_freed_fits(
        h, w, [t.layer for t in objective.terms if t.kind == "content"],
        gram_layers=[t.layer for t in objective.terms if t.kind == "gram"], optimizer=optimizer,
        device="cpu", dtype=precision_name(net.dtype),
        history=history if optimizer == "lbfgs" else None)


def _run(task: str, objective: Objective, init: torch.Tensor, iters: int, optimizer: str,
         callbacks: Sequence[Callable[[Step], None]], settings: dict[str, Any],
         factors: dict[str, float], resume: Resume | None = None,
         param: str = "pixel", history: int | None = None) -> tuple[Result, dict[str, Any]]:
    if iters < 1:
        raise InputError(f"iterations must be a positive integer, got {iters}")
    if resume is not None and resume.image.shape != init.shape:
        got, want = resume.image.shape[-2:][::-1], init.shape[-2:][::-1]
        raise InputError(f"the checkpoint's image is {got[0]}x{got[1]}, this run's is "
                         f"{want[0]}x{want[1]}; delete the checkpoint or use the same options")
    apply_memory_policy(fits_keeping_freed(objective, init, optimizer, history))
    settings = {**settings, "freed_memory_kept": freed_memory_kept()}
    t0 = time.perf_counter()
    res = optimize(objective, init, iters, optimizer=optimizer, callbacks=callbacks,
                   resume=resume, param=param, history=history)
    seconds = time.perf_counter() - t0
    n = len(res.losses)
    if optimizer == "lbfgs":
        settings = {**settings, "lbfgs_history": lbfgs_history(init.numel(), history)}
    record = {
        "task": task, "version": _version.__version__, "settings": settings,
        "net": objective.net.spec.to_dict(), "factors": factors, "loss": res.losses,
        "terms": res.terms, "iterations": n, "seconds": round(seconds, 3),
        "seconds_per_iteration": round(seconds / max(n, 1), 5), "interrupted": res.interrupted,
        "stopped": res.stopped, "faults": res.faults, "metrics": {},
        "resumed_from": len(resume.losses) if resume is not None else 0,
    }
    res.image = res.image.detach().cpu()
    return res, record


def auto_param(layers: list[str]) -> str:
    """The variable to optimize for inverting ``layers``: "pixel" when the deepest is at or before
    pool2, else "fourier".

    Measured at 128 px, 300 L-BFGS iterations, random VGG seed 0 (PSNR, pixel → fourier):
    rocket pool1 63.4 → 47.7, pool2 45.1 → 35.2, pool3 23.2 → 25.8, pool4 14.1 → 21.4 dB;
    pool3 on astronaut 17.5 → 19.6, coffee 20.4 → 23.0, chelsea 22.9 → 24.5 dB. Shallow layers
    are well conditioned and pixel-space L-BFGS converges almost exactly; deep ones are not, and
    the preconditioner gains several dB there.
    """
    deepest = max(LAYER_INDEX[n].index for n in layers)
    return "pixel" if deepest <= LAYER_INDEX["pool2"].index else "fourier"


def invert(image: torch.Tensor, layers: str | list[str], *, net: str | NetSpec | Net = "random",
           net_seed: int = 0, sigma: float = D.SIGMA, pool: str = D.POOL, iters: int = D.ITERS,
           seed: int = 0, optimizer: str = "lbfgs", init: torch.Tensor | None = None,
           factors: dict[str, float] | None = None, device: str = "auto",
           callbacks: Sequence[Callable[[Step], None]] = (), resume: Resume | None = None,
           param: str = D.INVERT_PARAM, precision: str = D.PRECISION) -> Run:
    """Reconstruct ``image`` ([1,3,H,W] in [0,1]) from its features at ``layers`` (eq. 1–4).

    Starts from seeded white noise (or ``init``); several layers add their ω-weighted terms.
    ``param``: optimize pixels ("pixel", the paper) or preconditioned Fourier coefficients
    ("fourier"; optimize.FourierParam), same objective; "auto" picks pixels up to pool2 and
    Fourier beyond (see :func:`auto_param`).
    ``resume`` continues an interrupted run (checkpoint.py). ``precision``: the layers' dtype
    (:func:`resolve_precision`; "auto" is float32 here). Raises InputError, before any work,
    for bad layers, a too-small image, or one whose estimated memory need exceeds the device's.
    Metrics: PSNR and SSIM against ``image``, normalized feature error per layer.
    """
    layers = check_layers(layers)
    check_input_size(image.shape[-2], image.shape[-1], layers)
    param = auto_param(layers) if param == "auto" else param
    dev = resolve_device(device)
    dtype = resolve_precision(precision, "invert", dev)
    check_memory(image.shape[-2], image.shape[-1], layers, optimizer=optimizer, device=str(dev),
                 dtype=precision_name(dtype))
    model = make_net(net, net_seed=net_seed, sigma=sigma, pool=pool, device=dev)
    given = dict(factors or {})
    if set(given) - set(layers):
        raise InputError(f"factors given for {sorted(set(given) - set(layers))}, which are not "
                         f"among the inverted layers {layers}")
    if init is not None and init.shape != image.shape:
        raise InputError(f"init has shape {tuple(init.shape)}; it must match the image's "
                         f"{tuple(image.shape)}")
    x0 = image.to(dev)
    with torch.no_grad():
        targets = model(x0, layers)
    missing = [n for n in layers if n not in given]  # a user may override some or all ω_l
    factors = {**(layer_factors(model, x0, missing, "content") if missing else {}), **given}
    factors = {n: float(factors[n]) for n in layers}
    terms = [Term(n, n, "content", targets[n], factors[n]) for n in layers]
    objective = Objective(model.as_dtype(dtype), terms)
    start = noise(*image.shape[-2:], seed, dev) if init is None else init.to(dev)
    settings = {"layers": layers, "iters": iters, "seed": seed, "net_seed": net_seed,
                "precision": precision_name(dtype),
                "sigma": model.spec.sigma, "pool": model.spec.pool, "optimizer": optimizer,
                "device": str(dev), "size": list(image.shape[-2:][::-1]),
                "init": "noise" if init is None else "given", "param": param}
    res, record = _run("invert", objective, start, iters, optimizer, callbacks, settings, factors,
                       resume, param)
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
                       callbacks: Sequence[Callable[[Step], None]] = (),
                       resume: Resume | None = None, precision: str = D.PRECISION) -> Run:
    """Synthesize a texture whose Gram matrices at ``layers`` match ``source``'s (eq. 5–8).

    ``source`` [1,3,h,w] in [0,1]. ``layers`` (a list or "conv1_1,conv2_1") name conv outputs
    before their ReLU, as the paper names them (§3: conv1_1 … conv4_1); ``relu1_1`` etc. match the
    rectified maps instead. Measured on 8 textures at 128 px (experiments/texture_quality.py),
    neither is clearly closer to the source (conv on 4/8 sources, relu on 4/8; 8/12 runs for conv
    over 3 noise seeds), so the paper's naming stays the default. ``weights='auto'`` applies
    µ_l (eq. 8, computed at the source); ``'equal'`` gives every layer weight 1 (Gatys et al.'s
    weighting, the ablation). ``out_size`` = (W, H), any size: targets are G/M (objectives.Term).
    Metrics: per layer, ‖Ĝ(x) − Ĝ(source)‖/‖Ĝ(source)‖ with Ĝ = G/M on the synthesis net.
    ``precision``: the layers' dtype while optimizing (:func:`resolve_precision`); targets,
    factors and metrics are float32.
    """
    layers = check_layers(layers if isinstance(layers, str) else list(layers))
    if weights not in ("auto", "equal"):
        raise InputError(f"weights must be auto or equal, got {weights!r}")
    w_out, h_out = out_size or (source.shape[-1], source.shape[-2])
    check_input_size(source.shape[-2], source.shape[-1], layers)
    check_input_size(h_out, w_out, layers)
    dev = resolve_device(device)
    dtype = resolve_precision(precision, "texture", dev)
    check_memory(h_out, w_out, gram_layers=layers, optimizer=optimizer, device=str(dev),
                 option="--out-size" if out_size else "--size", dtype=precision_name(dtype))
    check_memory(source.shape[-2], source.shape[-1], gram_layers=layers, optimizer="none",
                 device=str(dev))
    model = make_net(net, net_seed=net_seed, sigma=sigma, pool=pool, device=dev)
    src = source.to(dev)
    factors = (layer_factors(model, src, layers, "gram") if weights == "auto"
               else dict.fromkeys(layers, 1.0))
    objective = Objective(model.as_dtype(dtype), gram_terms(model, [src], layers, [1.0], factors))
    settings = {"layers": layers, "iters": iters, "seed": seed, "net_seed": net_seed,
                "precision": precision_name(dtype),
                "sigma": model.spec.sigma, "pool": model.spec.pool, "optimizer": optimizer,
                "weights": weights, "device": str(dev), "source_size": list(source.shape[-2:][::-1]),
                "out_size": [w_out, h_out]}
    res, record = _run("texture", objective, noise(h_out, w_out, seed, dev), iters, optimizer,
                       callbacks, settings, factors, resume)
    with torch.no_grad():
        feats = model(res.image.to(dev), layers)
    record["metrics"] = {"gram_error": {t.layer: float((gram_target(feats[t.layer]) - t.target).norm()
                                                       / t.target.norm()) for t in objective.terms}}
    return Run(res.image, record, res)


def transfer_style(content: torch.Tensor, styles: Sequence[torch.Tensor], *,
                   style_weights: Sequence[float] | None = None,
                   content_layer: str = D.CONTENT_LAYER,
                   style_layers: Sequence[str] = D.STYLE_LAYERS,
                   ratio: tuple[float, float, float] = D.RATIO,
                   init: str | torch.Tensor = "noise", scales: int = 1,
                   style_scale: float | None = None, original_colors: bool = False,
                   net: str | NetSpec | Net = "random", net_seed: int = 0, sigma: float = D.SIGMA,
                   pool: str = D.POOL, iters: int = D.ITERS, seed: int = 0, optimizer: str = "lbfgs",
                   device: str = "auto",
                   callbacks: Sequence[Callable[[Step], None]] = (),
                   resume: Resume | None = None, precision: str = D.PRECISION) -> Run:
    """Content of ``content`` in the style of ``styles`` (eq. 9): α·ω·L_content + β·Σµ_l·E_l + γ·TV.

    ``content`` [1,3,H,W] sets the output size. ``styles``: one or more [1,3,h,w] images of any
    size, blended by ``style_weights`` (Gram targets Σ w_i G_i / Σ w_i). ``style_scale`` F resizes
    each style to F × the output's longer side (None: as given). ``init``: noise | content |
    style | an image. ``scales`` K > 1: coarse-to-fine, K scales halving the size, each started
    from the upsampled result of the one before, ``iters`` split by ``style.split_iters``.
    ``original_colors``: keep the content's chroma (I, Q of YIQ), take only the luminance.
    How α:β:γ and the factors are applied: see ranvis.style. The default ``ratio`` is *not* the
    paper's 100:1:1000 (that keeps the content almost unchanged; pass D.PAPER_RATIO for it):
    defaults.RATIO says why and what was measured. ``precision``: the layers' dtype while
    optimizing (:func:`resolve_precision`); targets, factors and metrics are float32.
    """
    from ranvis import style as S
    from ranvis.images import luminance_transfer

    weights = S.check_style_args(styles, style_weights, ratio)
    style_layers = check_layers(list(style_layers))
    check_layers([content_layer])
    dev = resolve_device(device)
    dtype = resolve_precision(precision, "style", dev)
    check_memory(content.shape[-2], content.shape[-1], [content_layer], gram_layers=style_layers,
                 optimizer=optimizer, device=str(dev), dtype=precision_name(dtype),
                 history=D.STYLE_LBFGS_HISTORY)
    for s in styles:
        check_memory(s.shape[-2], s.shape[-1], gram_layers=style_layers, optimizer="none",
                     device=str(dev), fix="use a smaller --style-scale")
    model = make_net(net, net_seed=net_seed, sigma=sigma, pool=pool, device=dev)
    full = (content.shape[-1], content.shape[-2])
    sizes, counts = S.scale_sizes(*full, scales), S.split_iters(iters, scales)
    S.check_coarsest(sizes[0], [content_layer, *style_layers], scales)
    settings = {"content_layer": content_layer, "style_layers": style_layers,
                "ratio": list(ratio), "style_weights": weights,
                "init": init if isinstance(init, str) else "given", "scales": scales,
                "scale_sizes": [list(s) for s in sizes], "scale_iters": counts,
                "style_scale": style_scale, "original_colors": original_colors,
                "iters": iters, "seed": seed, "net_seed": net_seed, "sigma": model.spec.sigma,
                "precision": precision_name(dtype),
                "pool": model.spec.pool, "optimizer": optimizer, "device": str(dev),
                "size": list(full), "style_sizes": [list(s.shape[-2:][::-1]) for s in styles]}
    if resume is not None and scales > 1:
        raise InputError("--checkpoint continues single-scale runs only; use --scales 1")
    res, record, objective = _style_scales(model, content, styles, weights, content_layer,
                                           style_layers, ratio, init, style_scale, sizes, counts,
                                           seed, optimizer, callbacks, settings, resume, dtype)
    image = resize(res.image, full)
    if original_colors:
        image = luminance_transfer(image, content)
    res.image, res.losses, res.terms = image, record["loss"], record["terms"]
    record["metrics"] = S.style_metrics(model, image, content, objective)
    return Run(image, record, res)


def _style_scales(model: Net, content: torch.Tensor, styles: Sequence[torch.Tensor],
                  weights: list[float], content_layer: str, style_layers: list[str],
                  ratio: tuple[float, float, float], init: str | torch.Tensor,
                  style_scale: float | None, sizes: list[tuple[int, int]], counts: list[int],
                  seed: int, optimizer: str, callbacks: Sequence[Callable[[Step], None]],
                  settings: dict[str, Any], resume: Resume | None = None,
                  dtype: torch.dtype = torch.float32) -> tuple[Result, dict[str, Any], Objective]:
    """transfer_style's loop over scales (coarsest first); the record gains "scales".
    ``model`` (float32) sets targets and factors; the layers compute in ``dtype`` meanwhile."""
    from ranvis import style as S

    dev, full = model.device, sizes[-1]
    x, record, done, per_scale = None, None, 0, []
    for size, n in zip(sizes, counts, strict=True):
        xc = resize(content, size).to(dev)
        xs = [s.to(dev) for s in S.scaled_styles(styles, size, full, style_scale)]
        objective, factors = S.style_objective(model, xc, xs, weights, content_layer,
                                               style_layers, ratio)
        objective.net = model.as_dtype(dtype)
        start = (S.start_image(init, xc, xs[0], seed, noise) if x is None
                 else resize(x, size).to(dev))
        res, rec = _run("style", objective, start, n, optimizer,
                        S.offset_callbacks(callbacks, done), settings, factors,
                        resume if x is None else None, history=D.STYLE_LBFGS_HISTORY)
        per_scale.append({"size": list(size), "iters": rec["iterations"], "seconds": rec["seconds"],
                          "factors": factors, "style_sizes": [list(s.shape[-2:][::-1]) for s in xs]})
        record = rec if record is None else S.merge_records(record, rec)
        x, done = res.image, done + rec["iterations"]
        if rec["interrupted"] or rec["stopped"] not in ("completed", "converged"):
            break
    assert record is not None
    record["scales"] = per_scale
    return res, record, objective
