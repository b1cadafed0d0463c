"""How much memory a task needs, how much the machine has, and a refusal before it starts.

The estimate is a simple model, calibrated by peak-RSS measurements on the project's CPU
machine (torch 2.13, oneDNN, 2 threads; tests/test_reliability.py keeps its shape honest).
Per image pixel everything scales with H·W, so the model is a sum of per-layer sizes:

    bytes ≈ CONTENT_COPIES · Σ_{content layers} C·h·w·4   (target, difference, their gradients)
          + GRAM_COPIES · Σ_{gram layers} C·h·w·4         (the float32 features the Gram needs)
          + max(setup, optimization), where
            setup        = act_bytes(float32) · Σ_{layers ≤ deepest} C·h·w   (targets, factors)
            optimization = act_bytes(dtype) · Σ_{layers ≤ deepest} C·h·w
                           + L-BFGS history: 2 · pairs · 3·H·W·4  (platform.plan.MemoryPlan.lbfgs_pairs)
          + weights up to the deepest layer, 4 bytes each (+ the float64 draw buffer)
          + HEAP_SLACK · Σ_{layers ≤ deepest} C·h·w          (heap kept by keep_freed_memory;
            LEAN_HEAP_SLACK with lean layers, counted there only with keep_freed=True:
            such runs keep freed memory only where that fits, heap.apply_policy)
          + OVERHEAD                                        (libraries loaded after the check)

act_bytes: bytes autograd keeps per layer-output element: ACT_BYTES (float32), half that in
bfloat16, LEAN_ACT_BYTES for float32 inputs above defaults.LEAN_PIXELS (boolean masks).

Measured peaks (MB above the process's RSS after imports) against the model, 3 iterations at
768² (history: 3 pairs): invert conv1_2 1625 vs 1687, invert conv5_1 1121 vs 1262; texture
(conv1_1..conv4_1) float32 1327 vs 1365, bfloat16 1289 vs 1351; style transfer float32 1826 vs
2077, bfloat16 1459 vs 2063. With a full history (peak RSS of the whole process, ~350 MB of it
imports): style 1024² float32 5647 vs 5731, bfloat16 5046 vs 5062; at 2048², before the history
was capped (100 pairs, 10 GB), bfloat16 17836 and float32 lean 16409 MB. It errs on the generous
side by design; a refusal only happens when the estimate exceeds what is available, so it stops
runs that cannot fit, not runs that merely look large.
The per-layer sizes come from the architecture (nets.arch.Arch.footprint: VGG's from its
configuration, the others' from a pass of their graph on the ``meta`` device); the constants were
calibrated on VGG-19 and are used as they are for every architecture (README: peak memory per
architecture at 1024 px, measured against this estimate).
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ranvis import defaults as D
from ranvis.errors import InputError

DEFAULT_ARCH = "vgg19"

ACT_BYTES = 2.2  # float32: autograd keeps ~0.55 of all layer outputs (fitted, 768² runs)
LEAN_ACT_BYTES = 1.0  # ranvis.nets.frozen: 1-byte masks plus transients (768² style and texture)
CONTENT_COPIES = 8  # measured: conv1_2 inversion at 768² (the loss layer dominates)
GRAM_COPIES = 1  # measured: texture synthesis and style transfer at 768²
OVERHEAD = 256 * 2**20  # SSIM, plotting and allocator slack after the check
# bytes per activation element that glibc's heap holds on top when freed blocks are kept for reuse
# (heap.keep_freed_memory, which the CLI applies where it fits): style 1024² float32, 20 L-BFGS pairs, peak RSS
# 4771 MB with it, 4012 MB without, model without this term 3811 MB.
HEAP_SLACK = 1.6
# the same with lean layers (ranvis.nets.frozen), whose freed float32 outputs leave larger holes:
# style 2048² float32, 20 pairs, peak RSS 18258 MB kept vs 8896 MB not, over 2.4 G elements.
# heap.apply_policy keeps freed memory in lean runs only where this still fits.
LEAN_HEAP_SLACK = 3.9
# torchvision-structured architectures (nets.zoo) on top: torchvision's import, the traced graphs
# and the meta-device module trees. Measured (style transfer at 1024 px, fp32, 20 L-BFGS pairs,
# peak RSS of a fresh process) against the model without this term: AlexNet 1533 vs 1097 MB,
# ResNet-18 1871 vs 1704, ResNet-50 2737 vs 4331, ConvNeXt-T 3095 vs 3833 (VGG-19 4651 vs 4784).
GRAPH_OVERHEAD = 512 * 2**20
DRAW_CHUNK = 1 << 22  # nets.draw.normal_weights draws at most this many values at once (float64)
GIB = 2**30


def lbfgs_pairs(numel: int, wanted: int | None = None) -> int:
    """The L-BFGS history rule, torch-free (platform.plan.MemoryPlan.lbfgs_pairs reads it):
    curvature pairs kept for ``numel`` values when ``wanted`` (default D.LBFGS_HISTORY) are
    asked for."""
    fit = D.LBFGS_HISTORY_BYTES // (2 * 4 * max(numel, 1))
    wanted = D.LBFGS_HISTORY if wanted is None else wanted
    return int(max(min(D.LBFGS_HISTORY_MIN, wanted), min(wanted, fit)))


def _act_bytes(dtype: str, lean: bool) -> float:
    if dtype == "fp32":
        return LEAN_ACT_BYTES if lean else ACT_BYTES
    return ACT_BYTES / 2


def estimate_bytes(height: int, width: int, layers: Sequence[str] = (), *,
                   gram_layers: Sequence[str] = (), optimizer: str = "lbfgs",
                   dtype: str = "fp32", history: int | None = None,
                   keep_freed: bool | None = None, arch: str = DEFAULT_ARCH,
                   lean: bool | None = None, copies: int = 1) -> int:
    """Peak bytes of one optimization over an ``height``×``width`` image whose loss matches the
    features of ``layers`` (content, eq. 1) and the Gram matrices of ``gram_layers`` (eq. 6) of
    architecture ``arch`` (a registry name).

    ``optimizer``: lbfgs (adds its history), adam, or none (a forward/backward pass without an
    optimizer, e.g. computing targets and factors); ``history``: the L-BFGS pairs asked for
    (default D.LBFGS_HISTORY; lbfgs_pairs caps them). ``dtype``: "fp32" or "bf16", what the layers
    compute in while optimizing (targets and factors are always float32). See the module
    docstring for the model and its calibration. Layer names must be known taps of ``arch``.
    ``keep_freed``: whether glibc keeps freed blocks (heap.keep_freed_memory) and their slack
    counts; None: as the ranvis command decides (yes unless the run uses lean layers).
    ``lean``: whether the network keeps 1-byte masks (VGG above D.LEAN_PIXELS in float32: None
    decides so; other architectures have no lean layers). ``copies``: networks evaluated in one
    objective (an inversion matched on several random draws keeps each one's activations and
    weights until the backward pass).
    """
    from ranvis.nets import get_arch

    a = get_arch(arch)
    wanted = list(layers) + list(gram_layers)
    fp = a.footprint(height, width, wanted)
    pixels = height * width
    image = 3 * pixels * 4
    pairs = lbfgs_pairs(3 * pixels, history) if optimizer == "lbfgs" else 1
    if lean is None:
        lean = a.family == "vgg" and dtype == "fp32" and pixels > D.LEAN_PIXELS
    setup = _act_bytes("fp32", lean) * fp.activations
    run = _act_bytes(dtype, lean) * fp.activations + 2 * pairs * image
    keep = not lean if keep_freed is None else keep_freed
    slack = (LEAN_HEAP_SLACK if lean else HEAP_SLACK) * fp.activations if keep else 0.0
    params = fp.params
    overhead = OVERHEAD + (GRAPH_OVERHEAD if a.family == "graph" else 0)
    need = copies * (max(setup, run) + slack + 4 * params) + overhead + (
        8 * 4 * min(params, DRAW_CHUNK) if params else 0)
    need += CONTENT_COPIES * sum(4 * fp.per_tap[n] for n in layers)
    need += GRAM_COPIES * sum(4 * fp.per_tap[n] for n in gram_layers)
    need += 4 * image
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


def keeping_freed_fits(height: int, width: int, layers: Sequence[str] = (), *,
                       gram_layers: Sequence[str] = (), optimizer: str = "lbfgs",
                       device: str = "cpu", dtype: str = "fp32",
                       history: int | None = None, arch: str = DEFAULT_ARCH) -> bool:
    """Whether the run still fits in ``device``'s free memory when freed blocks are kept
    (:func:`estimate_bytes` with ``keep_freed=True``); True when the free memory is unknown."""
    avail = available_bytes(device)
    return avail is None or estimate_bytes(
        height, width, layers, gram_layers=gram_layers, optimizer=optimizer, dtype=dtype,
        history=history, keep_freed=True, arch=arch) <= avail


def check_memory(height: int, width: int, layers: Sequence[str] = (), *,
                 gram_layers: Sequence[str] = (), optimizer: str = "lbfgs",
                 device: str = "cpu", option: str = "--size", fix: str | None = None,
                 dtype: str = "fp32", history: int | None = None,
                 arch: str = DEFAULT_ARCH, copies: int = 1) -> None:
    """Raise InputError (one line) if an optimization of an ``height``×``width`` image is
    estimated to need more memory than ``device`` has free. The message names the largest size
    that would fit as a value of ``option`` (``--size``: the longer side; ``--out-size``: WxH),
    or says ``fix`` instead when given."""
    avail = available_bytes(device)
    if avail is None:
        return

    def need(h: int, w: int) -> int:
        return estimate_bytes(h, w, layers, gram_layers=gram_layers, optimizer=optimizer,
                              dtype=dtype, history=history, arch=arch, copies=copies)

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
