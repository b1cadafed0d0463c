"""Inversion (paper eq. 1–4): reconstruct an image from its features at one or more taps."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ranvis import defaults as D
from ranvis.device import backend_flags, precision_name, resolve_device, resolve_precision
from ranvis.errors import InputError
from ranvis.memory import check_memory
from ranvis.metrics import feature_error, psnr, ssim
from ranvis.nets.arch import Arch
from ranvis.objectives import Objective, Term
from ranvis.optimize import Resume, Step
from ranvis.starts import noise
from ranvis.tasks.common import (
    Loop,
    NetArg,
    Run,
    make_net,
    net_settings,
    optimize_objective,
    resolve_arch,
)
from ranvis.weighting import layer_factors


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
    last = arch.tap(arch.presets.fourier_after).index
    return "pixel" if arch.tap(arch.deepest(layers)).index <= last else "fourier"


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


def invert(image: torch.Tensor, layers: str | list[str], *, arch: str | None = None,
           net: NetArg = "random", net_seed: int = 0, sigma: float = D.SIGMA,
           pool: str = D.POOL, weight_init: str = D.WEIGHT_INIT, iters: int = D.ITERS,
           seed: int = 0, optimizer: str = "lbfgs", init: torch.Tensor | None = None,
           factors: dict[str, float] | None = None, device: str = "auto",
           callbacks: Sequence[Callable[[Step], None]] = (), resume: Resume | None = None,
           param: str = D.INVERT_PARAM, precision: str = D.PRECISION,
           keep_freed: bool = False) -> Run:
    """Reconstruct ``image`` ([1,3,H,W] in [0,1]) from its features at ``layers`` (eq. 1–4).

    ``arch``: the architecture of a random net (default VGG-19; a spec or network brings its
    own). Starts from seeded white noise (or ``init``); several layers add their ω-weighted
    terms. ``param``: optimize pixels ("pixel", the paper) or preconditioned Fourier
    coefficients ("fourier"; optimize.FourierParam), same objective; "auto": :func:`auto_param`.
    ``resume`` continues an interrupted run (checkpoint.py). ``precision``: the layers' dtype
    (device.resolve_precision). ``keep_freed``: tasks.common.Loop. Raises InputError, before any
    work, for bad layers, a too-small image, or one whose estimated memory need exceeds the
    device's. Metrics: PSNR and SSIM against ``image``, normalized feature error per layer.
    """
    a = resolve_arch(net, arch)
    layers = a.check_taps(layers)
    a.check_input_size(image.shape[-2], image.shape[-1], layers)
    param = auto_param(a, layers) if param == "auto" else param
    dev, dtype = resolve_device(device), resolve_precision(precision)
    check_memory(image.shape[-2], image.shape[-1], layers, optimizer=optimizer, device=str(dev),
                 dtype=precision_name(dtype), arch=a.name)
    model = make_net(net, arch=a.name, net_seed=net_seed, sigma=sigma, pool=pool,
                     weight_init=weight_init, device=dev)
    given = _check_given(layers, factors, init, image)
    loop = Loop(iters, optimizer, callbacks, resume, param, keep_freed=keep_freed)
    settings = {"layers": layers, "iters": iters, "seed": seed, **net_settings(model, net_seed),
                "precision": precision_name(dtype), "optimizer": optimizer, "device": str(dev),
                "size": list(image.shape[-2:][::-1]),
                "init": "noise" if init is None else "given", "param": param}
    with backend_flags(dev, dtype):
        x0 = image.to(dev)
        with torch.no_grad():
            targets = model(x0, layers)
        missing = [n for n in layers if n not in given]  # a user may override some or all ω_l
        factors = {**(layer_factors(model, x0, missing, "content") if missing else {}), **given}
        factors = {n: float(factors[n]) for n in layers}
        terms = [Term(n, n, "content", targets[n], factors[n]) for n in layers]
        start = noise(*image.shape[-2:], seed, dev) if init is None else init.to(dev)
        res, record = optimize_objective("invert", Objective(model.as_dtype(dtype), terms),
                                         start, loop, settings, factors)
        with torch.no_grad():
            feats = model(res.image.to(dev), layers)
    record["metrics"] = {"psnr": psnr(res.image, image), "ssim": ssim(res.image, image),
                         "feature_error": {n: feature_error(feats[n], targets[n]) for n in layers}}
    return Run(res.image, record, res)
