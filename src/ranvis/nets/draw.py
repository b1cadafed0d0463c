"""Seeded weight draws, identical on every device and torch release.

One stream per parameter: NumPy's PCG64 bit generator (whose raw stream NumPy guarantees) and a
Box–Muller transform written here, in float64 on the CPU, rounded once to float32. The
initializations (:data:`INITS`): ``paper`` draws N(0, σ) with σ = 0.015 by default (He, Wang,
Hopcroft §2), ``he`` draws N(0, √(2 / fan_in)) (He et al. 2015; σ is then unused).
"""
from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import torch

INITS = ("paper", "he", "timm")  # timm: timm's own, timm: architectures only (nets.timmnet)


def normal_weights(seed: int, shape: tuple[int, ...], sigma: float) -> torch.Tensor:
    """Draw N(0, sigma) float32 weights of ``shape`` from integer ``seed``, identically everywhere.

    Stream: PCG64(seed) raw 64-bit words → top 53 bits → uniforms u in (0, 1] → Box–Muller pairs
    (z0, z1) = sqrt(-2 ln u1)·(cos 2πu2, sin 2πu2), laid out in C order, scaled by sigma in float64
    and rounded once to float32. Depends on neither torch's RNG nor the device.
    """
    n = math.prod(shape)
    bitgen = np.random.PCG64(seed)
    out = np.empty(n, dtype=np.float32)
    chunk = 1 << 22  # even, bounds temporary memory to ~100 MB for fc6
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        pairs = (m + 1) // 2
        raw = bitgen.random_raw(2 * pairs)
        u = ((raw >> np.uint64(11)).astype(np.float64) + 1.0) * (1.0 / 9007199254740992.0)
        r = np.sqrt(-2.0 * np.log(u[0::2]))
        theta = (2.0 * math.pi) * u[1::2]
        z = np.empty(2 * pairs, dtype=np.float64)
        z[0::2], z[1::2] = r * np.cos(theta), r * np.sin(theta)
        out[start:start + m] = (z[:m] * sigma).astype(np.float32)
    return torch.from_numpy(out).reshape(shape)


def init_std(init: str, sigma: float, shape: tuple[int, ...]) -> float:
    """The standard deviation a weight of ``shape`` ([out, in, kh, kw] or [out, in]) is drawn
    with: σ for ``paper``; √(2 / fan_in), fan_in = in·kh·kw, for ``he``."""
    if init == "paper":
        return sigma
    if init == "he":
        return math.sqrt(2.0 / math.prod(shape[1:]))
    raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")


def draw(seed: int, shape: tuple[int, ...], init: str, sigma: float) -> torch.Tensor:
    """One weighted layer's weight, drawn from ``seed`` with :func:`init_std`."""
    return normal_weights(seed, shape, init_std(init, sigma, shape))


def valid_seed(v: Any) -> bool:
    """An integer (Python or NumPy, not bool) that PCG64 and torch accept: 0 ≤ v < 2**63."""
    if isinstance(v, bool):
        return False
    try:
        return 0 <= operator.index(v) < 2**63
    except TypeError:
        return False
