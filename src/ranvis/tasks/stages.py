"""Coarse-to-fine inversion: one objective (always at the full size), a sequence of variables.

Stage k optimizes an image at 1/2^(L−1−k) of the full side, bilinearly upsampled to the full size
(params.UpsampleParam), starting where the stage before ended; the last stage moves the full
image (``final``: "fourier" or "pixel"). The coarse image can only hold the layout and colours,
which is what a deep random representation pins down least well by gradient descent: from
white noise the optimizer otherwise settles on a high-frequency pattern that matches the
features about as well (the "colour noise" pool4/pool5 reconstructions). Measured: presets.py.
Each stage is an optimize() call continuing the one before (optimize.Resume): iteration numbers,
the loss history and the best image carry over, the L-BFGS history starts afresh.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from ranvis.errors import InputError
from ranvis.optim.callbacks import StageInfo, begin_stage
from ranvis.optim.loop import Result, Resume, optimize
from ranvis.optim.params import Param, UpsampleParam, make_param
from ranvis.optim.stopping import Plateau

COARSE_SHARE = 0.15  # of the budget per coarse stage; the full-size stage gets the rest (≥ 40 %)


@dataclass(frozen=True)
class Stage:
    """``iters`` evaluations over variable ``param``; ``bulk``: computed by the run's bulk
    objective (precision "mixed": bfloat16 layers) instead of its final one."""

    param: str | Param
    iters: int
    bulk: bool = False


def mixed(stages: list[Stage], final_share: float) -> list[Stage]:
    """``stages`` with every one but the last marked ``bulk``, and the last split: its first
    part bulk too, its final ``final_share`` of the whole budget (at least one evaluation) not
    (precision "mixed": bfloat16 for the coarse levels and the bulk, float32 at the end)."""
    total = sum(s.iters for s in stages)
    last = stages[-1]
    tail = min(last.iters, max(1, round(final_share * total)))
    head = [replace(s, bulk=True) for s in stages[:-1]]
    if last.iters > tail:
        head.append(replace(last, iters=last.iters - tail, bulk=True))
    return [*head, replace(last, iters=tail)]


def coarse_to_fine(height: int, width: int, iters: int, levels: int,
                   final: str = "fourier", per_level: int | None = None) -> list[Stage]:
    """``levels`` stages for an ``height``×``width`` image and a budget of ``iters``: sides
    1/2^(levels−1), …, 1/2 of the full one, each with ``per_level`` evaluations (None:
    COARSE_SHARE of ``iters``), then the full image over ``final`` with the rest. Levels under
    4 px a side, or that a small budget would give no evaluation (``iters`` < 7), are dropped.
    InputError if ``per_level`` leaves the full-size stage no evaluation."""
    if levels < 1:
        raise InputError(f"levels must be a positive integer, got {levels}")
    stages: list[Stage] = []
    n = int(COARSE_SHARE * iters) if per_level is None else per_level
    if per_level is not None and per_level * (levels - 1) >= iters:
        raise InputError(f"{levels - 1} coarse levels of {per_level} evaluations leave none of "
                         f"the budget of {iters} for the full-size image")
    for k in range(levels - 1, 0, -1):
        h, w = round(height / 2**k), round(width / 2**k)
        if min(h, w) >= 4 and n >= 1:
            stages.append(Stage(UpsampleParam((h, w), (height, width)), n))
    return [*stages, Stage(final, iters - sum(s.iters for s in stages))]


def _stage_plateau(plateau: Plateau | None, coarse: Plateau | None, k: int,
                   count: int, since: int = 0) -> Plateau | None:
    """Stage ``k`` of ``count``'s plateau rule (``coarse`` for a coarse stage when given, else
    ``plateau``), judging the evaluations from ``since`` on: the stage's own."""
    rule = coarse if coarse is not None and k < count - 1 else plateau
    return None if rule is None else replace(rule, since=since)


def run_stages(objective: object, x0: torch.Tensor, stages: list[Stage], *,
               optimize_kwargs: dict, plateau: Plateau | None = None,
               coarse_plateau: Plateau | None = None, bulk_objective: object = None) -> Result:
    """Run ``stages`` in order from ``x0`` (``[1, 3, H, W]``), each continuing the last; a
    coarse stage on a plateau hands over to the next (its unspent evaluations are not
    re-spent), the last one ends the run. ``plateau``: every stage's rule; ``coarse_plateau``:
    the coarse stages' instead; ``bulk_objective``: what stages marked ``bulk`` evaluate (the
    same loss in another precision; None: ``objective``). Callbacks hear of each stage (callbacks.begin_stage). Stops
    early on an interruption or a numerical fault. Returns the run's Result (all stages'
    history, the lowest-loss image of any stage)."""
    done, resume, res = 0, None, None
    h, w = x0.shape[-2:]
    for k, stage in enumerate(stages):
        size = stage.param.coarse if isinstance(stage.param, UpsampleParam) else (h, w)
        name = "" if isinstance(stage.param, UpsampleParam) else f" {stage.param}"
        name += " bf16" if stage.bulk and bulk_objective is not None else ""
        begin_stage(optimize_kwargs.get("callbacks", ()), StageInfo(
            k, len(stages), f"stage {k + 1}/{len(stages)} {size[1]}x{size[0]}{name}", done,
            tuple(s.iters for s in stages[k:]), (1.0,) * (len(stages) - k),
            early=any(_stage_plateau(plateau, coarse_plateau, j, len(stages)) is not None
                      for j in range(k, len(stages)))))
        rule = _stage_plateau(plateau, coarse_plateau, k, len(stages), done)
        done += stage.iters
        fn = bulk_objective if stage.bulk and bulk_objective is not None else objective
        res = optimize(fn, x0, done, param=make_param(stage.param, x0),
                       resume=resume, plateau=rule, **optimize_kwargs)
        if res.stopped not in ("completed", "converged", "plateau"):
            break
        done = len(res.losses)
        last = res.last if res.last is not None else res.image
        resume = Resume(last, res.losses, res.terms, res.image,
                        min(res.losses, default=float("inf")), res.accepted)
    assert res is not None
    return res
