"""Style transfer's α rule, std against a sparsity-aware spread (issue 28): runs
experiments.style_pairs with tasks.transfer's content factor computed from
σ = min(std, 1.4826·MAD) of the style's luminance instead of its std (a star field or the
Hubble field: a few bright points on black have a large std but a tiny median spread).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/alpha_rule.py robust \
        --pairs chelsea:hubble_deep_field,rocket:brick --out OUT      # any style_pairs flags
    ... alpha_rule.py std ...                                          # today's rule, same driver

Measured results and the decision: benchmarks/README.md, "A sparsity-aware α".
"""
from __future__ import annotations

import sys

import torch

import ranvis.tasks.transfer as transfer
from ranvis.io.images import luminance
from ranvis.objectives import weighting


def robust_factor(style: torch.Tensor, reference: float = weighting.CONTENT_REFERENCE,
                  bounds: tuple[float, float] = weighting.CONTENT_FACTOR_BOUNDS) -> float:
    """weighting.content_factor with σ = min(std, 1.4826·MAD) of the style's luminance."""
    y = luminance(style.detach().double()).flatten()
    sd = float(y.std())
    mad = float((y - y.median()).abs().median()) * 1.4826
    s = min(sd, mad)
    lo, hi = bounds
    return hi if s <= 0 else min(hi, max(lo, reference / s**2))


def main() -> None:
    rule, rest = sys.argv[1], sys.argv[2:]
    if rule not in ("std", "robust"):
        raise SystemExit("usage: alpha_rule.py std|robust [experiments.style_pairs flags]")
    if rule == "robust":
        transfer.content_factor = robust_factor
    from ranvis.experiments import style_pairs

    sys.argv = ["style_pairs", *rest]
    style_pairs.main()


if __name__ == "__main__":
    main()
