"""The platform decision of one task, made once before its loop: a :class:`RunPlan`.

A task resolves the device, the precision its layers compute in, the CPU threads, and the
memory plan (the estimate checked against what is free, whether glibc may keep freed memory,
how many L-BFGS curvature pairs fit) in one call, :func:`plan_run`, before it builds anything;
the loop and the stages read that value and never ask the platform modules again. Every
refusal (an unknown device, a run that would not fit, a bad thread count) happens there, before
any work.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.platform import memory as M
from ranvis.platform.device import (
    backend_flags,
    bulk_precision,
    precision_name,
    resolve_device,
    resolve_precision,
)
from ranvis.platform.threads import check_threads, thread_scope


@dataclass(frozen=True)
class MemoryPlan:
    """What the memory estimate decided: ``need_bytes`` (the run's estimated peak),
    ``available_bytes`` (None: unknown), ``keep_freed`` (whether glibc keeps freed blocks for
    reuse during the run: asked for by the caller and still fitting, heap.apply_policy), and the
    L-BFGS curvature pairs wanted, ``history`` (capped by :meth:`lbfgs_pairs`)."""

    need_bytes: int = 0
    available_bytes: int | None = None
    keep_freed: bool = False
    history: int = D.LBFGS_HISTORY

    def lbfgs_pairs(self, numel: int) -> int:
        """Curvature pairs L-BFGS keeps for a variable of ``numel`` float32 values: ``history``,
        capped so the pairs fit in D.LBFGS_HISTORY_BYTES (memory.lbfgs_pairs: 100 up to 1337²
        RGB pixels, 42 at 2048²)."""
        return M.lbfgs_pairs(numel, self.history)


@dataclass(frozen=True)
class RunPlan:
    """Where and how one task computes: ``device``; ``dtype``, what the network layers compute
    in (targets, factors, losses and gradients stay float32), and ``bulk`` that of the coarse
    stages and the bulk of the evaluations where it differs (precision "mixed"); ``threads``, the CPU intra-op
    threads for the run (None: torch's current setting, the caller's); ``memory``."""

    device: torch.device
    dtype: torch.dtype = torch.float32
    threads: int | None = None
    memory: MemoryPlan = MemoryPlan()
    bulk: torch.dtype | None = None

    @property
    def precision(self) -> str:
        """The run record's name of the precision: "fp32", "bf16", or "mixed" (``bulk`` in
        bfloat16, the final stretch in ``dtype``)."""
        return "mixed" if self.bulk is not None else precision_name(self.dtype)

    @contextlib.contextmanager
    def scope(self) -> Iterator[RunPlan]:
        """The process settings this run needs, for its duration only: CUDA backend flags
        (device.backend_flags) and the thread count (threads.thread_scope); both come back on
        exit."""
        with backend_flags(self.device, self.dtype), thread_scope(self.threads):
            yield self

    def settings(self) -> dict[str, object]:
        """What the run record reports of the plan (beside the task's own settings)."""
        return {"precision": self.precision, "device": str(self.device),
                "threads": self.threads if self.threads is not None else torch.get_num_threads()}


@dataclass(frozen=True)
class Footprint:
    """One optimization (or, ``optimizer="none"``, one target pass) the memory check covers:
    an ``height``×``width`` image against content ``layers`` and ``gram_layers``; ``option`` and
    ``fix`` word the refusal (memory.check_memory)."""

    height: int
    width: int
    layers: Sequence[str] = ()
    gram_layers: Sequence[str] = ()
    optimizer: str = "lbfgs"
    option: str = "--size"
    fix: str | None = None


def plan_run(run: Footprint, *, arch: str, device: str = "auto", precision: str = D.PRECISION,
             threads: int | None = None, history: int | None = None, copies: int = 1,
             keep_freed: bool = False, inputs: Sequence[Footprint] = (),
             stages: bool = False) -> RunPlan:
    """Decide a task's :class:`RunPlan` before any work. ``run``: the optimization (checked with
    ``copies`` networks, at the compute precision, with ``history`` L-BFGS pairs wanted, default
    D.LBFGS_HISTORY); ``inputs``: target passes of other images (float32, no optimizer).
    Raises InputError (one line) for an unknown device or precision, a bad thread count, or a
    run estimated not to fit the device's free memory. ``keep_freed``: the caller lets glibc
    keep freed memory (the ranvis command does); the plan keeps it only where the run still
    fits that way (lean VGG layers, whose kept heap the estimate otherwise leaves out).
    ``stages``: the task runs in stages (a "mixed" precision is refused otherwise)."""
    dev, dtype = resolve_device(device), resolve_precision(precision)
    if bulk_precision(precision) is not None and not stages:
        raise InputError(f"--precision {precision} switches precision between coarse-to-fine "
                         "stages, which only invert has; use fp32 or bf16")
    threads = check_threads(threads)
    name = precision_name(dtype)
    lbfgs = run.optimizer == "lbfgs"
    M.check_memory(run.height, run.width, run.layers, gram_layers=run.gram_layers,
                   optimizer=run.optimizer, device=str(dev), option=run.option, fix=run.fix,
                   dtype=name, history=history if lbfgs else None, arch=arch, copies=copies)
    for inp in inputs:
        M.check_memory(inp.height, inp.width, inp.layers, gram_layers=inp.gram_layers,
                       optimizer="none", device=str(dev), option=inp.option, fix=inp.fix,
                       arch=arch)
    keep = keep_freed and _keeping_fits(run, dev, name, history if lbfgs else None, arch)
    need = M.estimate_bytes(run.height, run.width, run.layers, gram_layers=run.gram_layers,
                            optimizer=run.optimizer, dtype=name,
                            history=history if lbfgs else None, arch=arch, copies=copies)
    mem = MemoryPlan(need, M.available_bytes(str(dev)), keep,
                     D.LBFGS_HISTORY if history is None else history)
    return RunPlan(dev, dtype, threads, mem, bulk_precision(precision))


def _keeping_fits(run: Footprint, dev: torch.device, dtype: str, history: int | None,
                  arch: str) -> bool:
    """Does the run fit with freed memory kept? Without lean layers (VGG in float32 above
    D.LEAN_PIXELS on a CPU) check_memory has counted that heap already."""
    from ranvis.nets import get_arch

    lean = (get_arch(arch).family == "vgg" and dtype == "fp32"
            and run.height * run.width > D.LEAN_PIXELS)
    if not lean or dev.type != "cpu":
        return True
    return M.keeping_freed_fits(run.height, run.width, run.layers, gram_layers=run.gram_layers,
                                optimizer=run.optimizer, device="cpu", dtype=dtype,
                                history=history, arch=arch)
