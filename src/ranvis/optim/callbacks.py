"""Reporting as callbacks of the loop: a tqdm progress line, periodic snapshots, history.

A run in stages (coarse-to-fine inversion levels, style-transfer scales) tells its callbacks
when a stage begins: :func:`begin_stage` calls ``cb.stage(info)`` on every callback that has
such a method, with a :class:`StageInfo`. :class:`Progress` shows the stage and an ETA that
counts the stages still to come.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ranvis.optim.loop import Step


@dataclass(frozen=True)
class StageInfo:
    """Stage ``index`` (0-based) of ``count``, named ``label`` (e.g. "level 2/5 16x16"), begins
    after ``start`` evaluations. ``budgets``: the evaluation budgets of this stage and of each
    one after it; ``costs``: their cost per evaluation relative to the full-size stage (an
    inversion's objective is always full size: 1 each; a style scale: its share of the full
    pixel count). ``early``: a plateau rule may end a stage before its budget."""

    index: int
    count: int
    label: str
    start: int
    budgets: tuple[int, ...]
    costs: tuple[float, ...]
    early: bool = False


def begin_stage(callbacks: Iterable[Callable[[Step], None]], info: StageInfo) -> None:
    """Tell every callback with a ``stage`` method that stage ``info`` begins."""
    for cb in callbacks:
        hook = getattr(cb, "stage", None)
        if callable(hook):
            hook(info)


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """tqdm line over iterations: the stage (when the run has stages), the loss, and an ETA.

    The ETA is the run's mean seconds per unit of evaluation cost so far times the cost of the
    evaluations left in this stage and every later one (StageInfo), not tqdm's smoothed rate of
    the last few evaluations; "≤" when a plateau rule may end a stage early. A stage that ends
    early shrinks the total. The bar appears at the first iteration, not before: a run refused
    for bad input prints nothing but its one-line error. ``initial``: iterations already done
    (a resumed run).
    """

    def __init__(self, total: int, desc: str = "", initial: int = 0) -> None:
        self.total, self.desc, self.initial = total, desc, initial
        self.bar: Any = None
        self.info: StageInfo | None = None
        self.cost, self.done_cost, self.seconds = 1.0, 0.0, 0.0
        self.last: float | None = None

    def stage(self, info: StageInfo) -> None:
        """A stage begins (begin_stage): show it; the total becomes what the stages allow."""
        self.info, self.cost = info, info.costs[0]
        self.total = info.start + sum(info.budgets)
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.n = info.start

    def eta(self, n: int) -> float | None:
        """Seconds left after ``n`` evaluations, or None before the first timed one."""
        if self.done_cost <= 0:
            return None
        rate = self.seconds / self.done_cost  # seconds per unit of cost
        info = self.info
        if info is None:
            return rate * self.cost * max(self.total - n, 0)
        left = max(info.start + info.budgets[0] - n, 0) * info.costs[0]
        left += sum(b * c for b, c in zip(info.budgets[1:], info.costs[1:], strict=True))
        return rate * left

    def line(self, step: Step) -> str:
        """The postfix: stage, ETA, loss."""
        parts = []
        if self.info is not None and self.info.count > 1:
            parts.append(f"{self.info.label}")
        left = self.eta(step.i + 1)
        if left is not None:
            early = self.info is not None and self.info.early
            parts.append(f"ETA {'≤' if early else ''}{_clock(left)}")
        parts.append(f"loss {step.loss:.4g}")
        return ", ".join(parts)

    def __call__(self, step: Step) -> None:
        now = time.perf_counter()
        if self.last is not None:  # the first evaluation's time includes the set-up
            self.seconds += now - self.last
            self.done_cost += self.cost
        self.last = now
        if self.bar is None:
            from tqdm import tqdm

            fmt = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}, {rate_fmt}{postfix}]"
            self.bar = tqdm(total=self.total, desc=self.desc, unit="it", dynamic_ncols=True,
                            leave=True, initial=self.initial, bar_format=fmt)
        self.bar.set_postfix_str(self.line(step), refresh=False)
        self.bar.n = max(self.bar.n, step.i)  # a stage that ended early skipped its rest
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class Snapshots:
    """Write OUT-iterNNNNN.png every ``every`` iterations (the image the loss was computed at)."""

    def __init__(self, out: str | Path, every: int) -> None:
        self.out, self.every = Path(out), every

    def path(self, i: int) -> Path:
        return self.out.with_name(f"{self.out.stem}-iter{i:05d}.png")

    def __call__(self, step: Step) -> None:
        if (step.i + 1) % self.every == 0:
            from ranvis.io.images import save

            save(step.image, self.path(step.i + 1))


class History:
    """Keep every step's loss and terms (for plots of several runs)."""

    def __init__(self) -> None:
        self.losses: list[float] = []
        self.terms: list[dict[str, float]] = []

    def __call__(self, step: Step) -> None:
        self.losses.append(step.loss)
        self.terms.append(step.terms)
