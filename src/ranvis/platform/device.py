"""Where and in what precision a task runs: the device, the compute dtype, and the CUDA backend
flags a run needs, set only for the run's duration (:func:`backend_flags`), never left behind.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from ranvis.errors import InputError

PRECISIONS = ("auto", "fp32", "bf16", "mixed")
# "mixed" (coarse-to-fine inversion only): bfloat16 for the coarse levels and the bulk of the
# full-size stage, float32 for its last MIXED_FP32_SHARE of the budget (tasks.stages). Offered,
# not chosen: `best` pool5 at 128 px, 300 evaluations, held-out photographs: 0.45-0.47x the CPU
# time of float32 but 1.2-1.7 dB lower (path 21.27 dB / SSIM 0.525 against 22.51 / 0.572, kite
# 27.91 / 0.825 against 29.64 / 0.846); bf16 keeps up on the first two levels and stalls once
# the loss is small (benchmarks/README.md, issue 29).
MIXED_FP32_SHARE = 0.2


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' → CUDA when available, else CPU. 'cuda' without a GPU is an InputError.
    Pure: the backend flags a CUDA run needs are :func:`backend_flags`'s."""
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
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InputError(f"device {device} does not exist; this machine has "
                         f"{torch.cuda.device_count()} CUDA device(s), cuda:0 …")
    return dev


def fast_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 convolutions faster than float32: a CUDA GPU with
    bfloat16 support, or a CPU with AMX tiles or AVX512-BF16 (oneDNN's bf16 kernels)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # torch.cpu, private
    return any(bool(getattr(torch.cpu, c, lambda: False)()) for c in checks)


def resolve_precision(precision: str) -> torch.dtype:
    """The dtype the network layers compute in: "fp32"/"bf16" as named; "auto"
    (defaults.PRECISION) is float32 for every task. bfloat16 is 2-3x faster per iteration where
    :func:`fast_bfloat16` holds (README, Performance) and as good for style at 128 px, 200
    iterations (benchmarks/precision.py: float32 loss of the result 1.00x, same judge
    distances), but its rounding costs some of the optimum: on a 256 px style transfer the
    float32 loss of a bf16 result was 5674 (200 iterations, no line search), 2 % above the 5560
    float32 reaches, and texture losses ended 1.5-9x higher (judge distance unchanged). So it is
    offered, not chosen. Only the layers change: targets, factors, losses and gradients handed
    to the optimizer are float32. "mixed" computes its final stretch, and so its result, in
    float32 (:func:`bulk_precision` names its bulk's dtype)."""
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return torch.bfloat16 if precision == "bf16" else torch.float32


def bulk_precision(precision: str) -> torch.dtype | None:
    """The dtype of a run's bulk stages when it differs from its final one ("mixed":
    bfloat16), else None."""
    return torch.bfloat16 if precision == "mixed" else None


def precision_name(dtype: torch.dtype) -> str:
    return "bf16" if dtype == torch.bfloat16 else "fp32"


@contextlib.contextmanager
def backend_flags(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """For the duration of a run on CUDA: cuDNN's deterministic algorithms without autotuning
    (the same command and seed give the same image on the same machine, at some cost in speed),
    and TF32 convolutions off in float32 (measured on an H200: pool1 inversion 55 dB with TF32,
    70 dB without). The previous flags come back on exit; on a CPU nothing changes."""
    if device.type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    saved = (cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32)
    cudnn.deterministic, cudnn.benchmark = True, False
    cudnn.allow_tf32 = dtype != torch.float32
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark, cudnn.allow_tf32 = saved
