"""What the optimization loop remembers between evaluations: the last few points evaluated
(:class:`EvalCache`, so that L-BFGS never pays for the same point twice) and the lowest-loss
image so far (:class:`BestSoFar`, the run's result). Used by ranvis.optim.loop."""
from __future__ import annotations

import math

import torch

CACHE = 4  # evaluations remembered: enough for the point a line search ends on


class EvalCache:
    """The last few (point, loss, gradient) evaluated. L-BFGS re-evaluates the point its previous
    line search ended on; served from here (same point, bit for bit), no evaluation is paid
    twice. ``size`` 0 (Adam) remembers nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]] = []

    def lookup(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int] | None:
        """(loss, gradient, evaluation index) if ``z`` was evaluated, else None."""
        for cz, closs, cgrad, index in self.items:
            if torch.equal(cz, z):
                return closs, cgrad, index
        return None

    def store(self, z: torch.Tensor, loss: torch.Tensor, grad: torch.Tensor, index: int) -> None:
        if self.size:
            self.items.append((z.detach().clone(), loss.detach(), grad.detach().clone(), index))
            del self.items[:-self.size]

    def clear(self) -> None:
        self.items.clear()


class BestSoFar:
    """The lowest-loss image evaluated (clamped to [0, 1]) and its loss."""

    def __init__(self, image: torch.Tensor, loss: float = math.inf) -> None:
        self.image, self.loss = image, loss

    def offer(self, image: torch.Tensor, loss: float) -> None:
        if loss < self.loss:
            self.image, self.loss = image, loss
