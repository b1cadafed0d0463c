"""Zero-cost scores of an untrained network, on the study's own draws (a ``zerocost`` task).

* **NASWOT** (Mellor, Turner, Storkey & Crowley, ICML 2021, "Neural architecture search without
  training"): every rectifier unit of the network, for every input of a small batch, gives a
  binary code c_i ∈ {0, 1}^{N_A} (1 where the unit's input is positive). The kernel
  K_ij = c_i·c_j + (1 − c_i)·(1 − c_j) = N_A − d_H(c_i, c_j) counts the units on which inputs
  i and j agree, and the score is log |det K| (``naswot``). For activations other than ReLU
  (SiLU, GELU, hard-swish, …) the code is the sign of the activation's input, as for ReLU.
* **synflow** (Tanaka, Kunin, Yamins & Ganguli, NeurIPS 2020; as a zero-cost proxy in
  Abdelfattah, Mehrotra, Dudziak & Lane, ICLR 2021): with every parameter replaced by its
  absolute value, normalization as the BatchNorm rule leaves it, float64 and an all-ones input
  x = 1, R = Σ f(x) over the deepest tap's outputs, and
  synflow = Σ_θ |θ ⊙ ∂R/∂θ| over conv and linear weights; reported as ``log10_synflow``.
* **params** (millions) and **GFLOPs** (floating-point operations, 2 per multiply–add, of the
  whole classifier at 224×224 — timm's or torchvision's model, counted on the ``meta`` device by
  ``torch.utils.flop_counter``): the naive baselines of that literature.

The batch for NASWOT is the task's images, each in its 8 orientations (the dihedral group:
rotations by 90° with and without a horizontal flip), preprocessed as the network's own input.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn

from ranvis.errors import InputError

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.SiLU, nn.GELU, nn.Hardswish, nn.Mish,
               nn.ELU, nn.PReLU)
TIMM_ACTIVATIONS = {"GELU", "GELUTanh", "QuickGELU", "Swish", "SwishMe", "Mish", "MishMe",
                    "HardSwish", "HardSwishMe", "PReLU"}  # timm.layers' own (gates left out)
WEIGHTED = (nn.Conv2d, nn.Linear)


def is_activation(m: nn.Module) -> bool:
    """A rectifier-like unit NASWOT reads: torch's (:data:`ACTIVATIONS`) or timm's own classes
    of the same functions (sigmoid and tanh gates are not units)."""
    cls = type(m)
    return isinstance(m, ACTIVATIONS) or (cls.__module__.startswith("timm.layers.activations")
                                          and cls.__name__ in TIMM_ACTIVATIONS)


def naswot_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K = C Cᵀ + (1 − C)(1 − C)ᵀ for binary codes C [N, N_A] (float64 [N, N]). Computed in
    float32, exact while N_A < 2**24 (every partial sum is an integer below it), else float64."""
    dtype = torch.float32 if codes.shape[1] < 2**24 else torch.float64
    c = codes.to(dtype)
    return (c @ c.T + (1.0 - c) @ (1.0 - c).T).to(torch.float64)


def naswot_score(codes: torch.Tensor) -> float:
    """log |det K| of :func:`naswot_kernel` (−inf when two inputs share a code)."""
    return float(torch.linalg.slogdet(naswot_kernel(codes))[1])


def dihedral_batch(images: list[torch.Tensor]) -> torch.Tensor:
    """Each [1, 3, S, S] image in its 8 orientations: [8·len(images), 3, S, S]."""
    out = []
    for im in images:
        for flip in (False, True):
            x = torch.flip(im, dims=[-1]) if flip else im
            out += [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)]
    return torch.cat(out)


def scored_module(net: Any, taps: list[str]) -> tuple[nn.Module, Any]:
    """(module up to the deepest of ``taps``, select(module output) -> that tap's features) of
    a registry network: timm's feature model or torchvision's extractor. InputError for a
    network ranvis cannot score this way (VGG's own layers)."""
    from ranvis.nets.timmnet import TimmNet
    from ranvis.nets.zoo import ZooNet

    deepest = net.arch.deepest(taps)
    if isinstance(net, TimmNet):
        index = net.arch.tap(deepest).index
        return net.model(index), lambda out: list(out)[index]
    if isinstance(net, ZooNet):
        return net.extractor([deepest]), lambda out: out[deepest]
    raise InputError(f"zero-cost scores need a timm: or torchvision architecture, not "
                     f"{net.arch.name}")


def codes(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Binary codes [N, N_A]: the sign of every activation module's input over the batch."""
    seen: list[torch.Tensor] = []

    def hook(_m: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        seen.append((inputs[0].detach() > 0).flatten(1))

    handles = [m.register_forward_pre_hook(hook) for m in module.modules() if is_activation(m)]
    try:
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
    if not seen:
        raise InputError("NASWOT needs activation modules (ReLU, SiLU, GELU, …) to hook")
    return torch.cat(seen, dim=1)


def synflow(module: nn.Module, select: Any, shape: tuple[int, ...]) -> float:
    """log10 of Σ |θ ⊙ ∂R/∂θ| over conv/linear weights, R = Σ select(module(1)) with every
    parameter |θ|, in float64 (module doc); on a copy, the module is left as it was."""
    m = copy.deepcopy(module).double().to(memory_format=torch.contiguous_format)
    for p in m.parameters():
        p.data = p.data.abs()
    weights = [mod.weight for mod in m.modules() if isinstance(mod, WEIGHTED)]
    for w in weights:
        w.requires_grad_(True)
    out = select(m(torch.ones(shape, dtype=torch.float64)))
    grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
    total = sum(float((w.detach() * g).abs().sum()) for w, g in zip(weights, grads, strict=True)
                if g is not None)
    return math.log10(total) if 0 < total < math.inf else (math.inf if total else -math.inf)


def classifier_size(arch: Any, side: int = 224) -> tuple[float, float]:
    """(params in millions, GFLOPs at ``side``×``side``) of the arch's whole classifier."""
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = _classifier(arch).eval()
    params = sum(p.numel() for p in model.parameters())
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.empty(1, 3, side, side, device="meta"))
    return params / 1e6, counter.get_total_flops() / 1e9


def _classifier(arch: Any) -> nn.Module:
    if arch.family == "timm":
        from ranvis.nets.timmlayout import import_timm

        return import_timm().create_model(arch.extra["timm"], pretrained=False)
    if "make_model" in arch.extra:
        return arch.extra["make_model"]()
    from ranvis.nets._torchvision import import_torchvision

    return getattr(import_torchvision().models, arch.name)(weights=None)


def zerocost_scores(net: Any, images: list[torch.Tensor], taps: list[str]) -> tuple[
        dict[str, float], torch.Tensor]:
    """({naswot, log10_synflow, params_m, gflops}, the NASWOT kernel as an image [1, 3, N, N]
    in [0, 1]) of one drawn network over the batch of ``images`` (module doc)."""
    module, select = scored_module(net, taps)
    x = net.preprocess(dihedral_batch(images))
    k = naswot_kernel(codes(module, x))
    params, gflops = classifier_size(net.arch)
    scores = {"naswot": float(torch.linalg.slogdet(k)[1]),
              "log10_synflow": synflow(module, select, (1, *x.shape[1:])),
              "params_m": params, "gflops": gflops}
    kn = (k / k.max()).float().clamp(0, 1)
    return scores, kn.expand(1, 3, *kn.shape).contiguous()

