"""Reporting as callbacks of the loop: a tqdm progress bar and periodic snapshots."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ranvis.optim.loop import Step


class Progress:
    """tqdm bar over iterations, showing the loss; it/s comes from tqdm.

    The bar appears at the first iteration, not before: a run refused for bad input prints
    nothing but its one-line error. ``initial``: iterations already done (a resumed run).
    """

    def __init__(self, total: int, desc: str = "", initial: int = 0) -> None:
        self.total, self.desc, self.initial = total, desc, initial
        self.bar: Any = None

    def __call__(self, step: Step) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit="it", dynamic_ncols=True,
                            leave=True, initial=self.initial)
        self.bar.set_postfix_str(f"loss {step.loss:.4g}", refresh=False)
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
