"""How much memory a task needs, how much the machine has, and a refusal before it starts.

The estimate is a simple model, calibrated by peak-RSS measurements on the project's CPU
machine (torch 2.x, oneDNN, one thread; tests/test_reliability.py keeps its shape honest):

    bytes ≈ ACT_FACTOR · Σ_{layers ≤ deepest} C·h·w·4        (every conv/relu/pool output)
          + CONTENT_COPIES · Σ_{content layers} C·h·w·4    (target, difference, its gradient …)
          + GRAM_COPIES · Σ_{gram layers} C·h·w·4          (channels-last reshape, its gradient)
          + L-BFGS history: 2 · HISTORY · 3·H·W·4          (the s and y vectors, optimize.py)
          + weights up to the deepest layer, 4 bytes each (+ the float64 draw buffer)
          + OVERHEAD                                        (libraries loaded after the check)

Measured peaks (MB above the process's RSS after imports) against the model, 2-5 iterations
(the L-BFGS history not yet filled, so the model's history term is left out of this comparison):
invert conv5_1 at 256² 311 vs 349, at 768² 1124 vs 1304; invert conv1_2 at 768² 1696 vs 1782;
texture up to conv4_1 at 768² 1522 vs 1737. It errs on the generous side by design; a refusal
only happens when the estimate exceeds what is available, so it stops runs that cannot fit, not
runs that merely look large. Torch-free: the CLI can ask before importing torch.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

from ranvis.errors import InputError

ACT_FACTOR = 0.75  # measured: autograd keeps about half of all layer outputs, plus transients
CONTENT_COPIES = 8  # measured: conv1_2 inversion at 768² (the loss layer dominates)
GRAM_COPIES = 2  # measured: texture synthesis at 768²
LBFGS_HISTORY = 100  # optimize.py: torch.optim.LBFGS(history_size=100)
OVERHEAD = 256 * 2**20  # SSIM, plotting and allocator slack after the check
DRAW_CHUNK = 1 << 22  # network.normal_weights draws at most this many values at once (float64)
GIB = 2**30


def _layer_table() -> list[tuple[str, str, int, int, int]]:
    """(name, kind, channels out, pools before, parameters) for every layer, without torch."""
    from ranvis.network import LAYERS  # torch is imported there; kept lazy for the CLI

    return [(la.name, la.kind, la.c_out, la.pools_before,
             (la.c_out * la.c_in * (9 if la.kind == "conv" else 1) if la.kind in ("conv", "fc")
              else 0)) for la in LAYERS]


def estimate_bytes(height: int, width: int, layers: Sequence[str] = (), *,
                   gram_layers: Sequence[str] = (), optimizer: str = "lbfgs") -> int:
    """Peak bytes of one optimization over an ``height``×``width`` image whose loss matches the
    features of ``layers`` (content, eq. 1) and the Gram matrices of ``gram_layers`` (eq. 6).

    ``optimizer``: lbfgs (adds its history), adam, or none (a forward/backward pass without an
    optimizer, e.g. computing targets and factors). See the module docstring for the model and
    its calibration. Layer names must be known (check them first with ``network.check_layers``).
    """
    table = _layer_table()
    order = {name: i for i, (name, *_rest) in enumerate(table)}
    wanted = list(layers) + list(gram_layers)
    deepest = max((order[n] for n in wanted), default=-1)

    def out_bytes(kind: str, c: int, pools: int) -> int:
        if kind == "fc":
            return c * 4
        return c * math.ceil(height / 2**pools) * math.ceil(width / 2**pools) * 4

    acts = sum(out_bytes(k, c, p) for _n, k, c, p, _w in table[: deepest + 1])
    by_name = {n: out_bytes(k, c, p) for n, k, c, p, _w in table}
    params = sum(w for *_rest, w in table[: deepest + 1])
    need = ACT_FACTOR * acts + OVERHEAD + 4 * params + (8 * 4 * min(params, DRAW_CHUNK) if params else 0)
    need += CONTENT_COPIES * sum(by_name[n] for n in layers)
    need += GRAM_COPIES * sum(by_name[n] for n in gram_layers)
    image = 3 * height * width * 4
    need += (2 * LBFGS_HISTORY if optimizer == "lbfgs" else 2) * image + 4 * image
    return int(need)


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_bytes(device: str = "cpu") -> int | None:
    """Bytes free for a new allocation on ``device`` ('cpu' or 'cuda[:i]'); None if unknown.

    CPU: MemAvailable from /proc/meminfo, lowered to the cgroup's remaining allowance (v2
    memory.max − memory.current, or v1 limit − usage) when a container sets one. CUDA: free bytes
    from ``torch.cuda.mem_get_info``. ``RANVIS_MEMORY_LIMIT`` (bytes) overrides either, for tests
    and for users who want to keep memory for other work.
    """
    override = os.environ.get("RANVIS_MEMORY_LIMIT", "")
    if override.isdigit():
        return int(override)
    if str(device).startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    for limit_f, used_f in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                            ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                             "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit, used = _read_int(limit_f), _read_int(used_f)
        if limit is not None and used is not None and limit < 2**60:
            avail = limit - used if avail is None else min(avail, limit - used)
    return avail


def check_memory(height: int, width: int, layers: Sequence[str] = (), *,
                 gram_layers: Sequence[str] = (), optimizer: str = "lbfgs",
                 device: str = "cpu", option: str = "--size", fix: str | None = None) -> None:
    """Raise InputError (one line) if an optimization of an ``height``×``width`` image is
    estimated to need more memory than ``device`` has free. The message names the largest size
    that would fit as a value of ``option`` (``--size``: the longer side; ``--out-size``: WxH),
    or says ``fix`` instead when given."""
    avail = available_bytes(device)
    if avail is None:
        return

    def need(h: int, w: int) -> int:
        return estimate_bytes(h, w, layers, gram_layers=gram_layers, optimizer=optimizer)

    total = need(height, width)
    if total <= avail:
        return
    long_side = max(height, width)
    lo, hi = 0, long_side  # largest longer side that fits, aspect kept
    while lo < hi:
        mid = (lo + hi + 1) // 2
        h, w = max(1, round(height * mid / long_side)), max(1, round(width * mid / long_side))
        lo, hi = (mid, hi) if need(h, w) <= avail else (lo, mid - 1)
    fh, fw = max(1, round(height * lo / long_side)), max(1, round(width * lo / long_side))
    if fix:
        hint = fix
    elif not lo:
        hint = "free some memory"
    elif option == "--out-size":
        hint = f"use --out-size {fw}x{fh} or smaller"
    else:
        hint = f"use {option} {lo} or less"
    where = "GPU memory" if str(device).startswith("cuda") else "memory"
    raise InputError(f"a {width}x{height} image needs about {total / GIB:.1f} GiB of {where} "
                     f"but {max(avail, 0) / GIB:.1f} GiB is available; {hint}")
