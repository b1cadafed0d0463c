"""Style transfer's α rule, the luminance's std against the sparsity-aware spread that `best`
uses since issue 28's third round (weighting.luminance_spread: σ = min(std, 1.4826·MAD); a star
field or the Hubble field, a few bright points on black, has a large std but a tiny median
spread): runs experiments.style_pairs with tasks.transfer's content factor computed either way.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/alpha_rule.py std \
        --pairs chelsea:hubble_deep_field,rocket:brick --out OUT      # any style_pairs flags
    ... alpha_rule.py robust ...                                       # today's rule, same driver

Measured results and the decision: benchmarks/README.md, "A sparsity-aware α" and "A
sparsity-aware α, again".
"""
from __future__ import annotations

import sys

import torch

import ranvis.tasks.transfer as transfer
from ranvis.io.images import luminance
from ranvis.objectives import weighting


def std_factor(style: torch.Tensor, reference: float = weighting.CONTENT_REFERENCE,
               bounds: tuple[float, float] = weighting.CONTENT_FACTOR_BOUNDS) -> float:
    """weighting.content_factor as it was before: σ = the std of the style's luminance."""
    sd = float(luminance(style.detach().double()).std())
    lo, hi = bounds
    return hi if sd <= 0 else min(hi, max(lo, reference / sd**2))


def main() -> None:
    rule, rest = sys.argv[1], sys.argv[2:]
    if rule not in ("std", "robust"):
        raise SystemExit("usage: alpha_rule.py std|robust [experiments.style_pairs flags]")
    if rule == "std":
        transfer.content_factor = std_factor
    from ranvis.experiments import style_pairs

    sys.argv = ["style_pairs", *rest]
    style_pairs.main()


if __name__ == "__main__":
    main()
