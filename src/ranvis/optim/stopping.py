"""When a run stops before its budget: the loss has stopped improving (a plateau).

A run is on a plateau when the best loss of its last ``window`` evaluations is less than
``rel_tol`` (relative) below the best loss before them (the defaults: 40 evaluations, 0.1 %).
Style transfer's ``best`` preset (ranvis.presets) uses 10 evaluations and 1 %: its scores stop
moving after 20–30 evaluations (issue 28, benchmarks/README.md). The defaults, measured at 128
px, 300 evaluations, VGG-19 (``python -m ranvis.experiments.style_pairs``, benchmarks/README.md): on 10 of 11
held-out pairs the runs stopped after 141–281 evaluations; on the one pair also run to the full
300 (aqua + autumn) the result scored the same (layout correlation 0.982 both, judge ratio 0.332 vs 0.333)
in 141 evaluations instead of 300. L-BFGS's own convergence (a step that evaluates nothing new)
is ``converged``, not this.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Plateau:
    """Stop when ``min(losses[-window:]) > (1 − rel_tol) · min(losses[:-window])``, over the
    history from evaluation ``since`` on (a stage of a longer run judges its own evaluations:
    tasks.stages)."""

    window: int = 40
    rel_tol: float = 1e-3
    since: int = 0

    def __post_init__(self) -> None:
        if self.window < 1 or not (0.0 <= self.rel_tol < 1.0) or self.since < 0:
            raise ValueError(f"plateau needs window >= 1, 0 <= rel_tol < 1 and since >= 0, "
                             f"got {self}")

    def flat(self, losses: Sequence[float]) -> bool:
        """Whether the run whose loss history is ``losses`` (one per evaluation) is flat."""
        losses = losses[self.since:]
        if len(losses) <= self.window:
            return False
        before = min(losses[: -self.window])
        recent = min(losses[-self.window:])
        if not math.isfinite(before):
            return False
        return recent > before - self.rel_tol * abs(before)
