"""Rank agreement of every study score with trained ImageNet-1k top-1, over architectures.

For a score s and top-1 a over n architectures:

* **Kendall τ_b** = (C − D) / √((P − T_s)(P − T_a)) over the P = n(n−1)/2 pairs, C concordant
  (s and a order the pair alike), D discordant, T_s / T_a pairs tied in s / in a;
* **Spearman ρ** = Pearson correlation of the average ranks of s and of a;
* **within-family** τ: the same formula over the pairs of two architectures of one family only
  (does the score order ResNet-18 < ResNet-50?); ρ: the mean of each family's ρ weighted by its
  size, over families of at least 3 architectures;
* **across-family** τ: over the pairs from two different families; ρ: over the family means of
  s and a (families as points);
* **95 % intervals**: percentile bootstrap over architectures (B resamples with replacement,
  seeded: the same numbers on every run); a resample's repeated architecture makes pairs tied
  in both s and a, which τ_b leaves out.

A positive τ means the score rises with trained accuracy (for a distance, lower is better, so
a useful distance has τ < 0).
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

BOOT = 1000
MIN_POINTS = 2  # a τ or ρ needs two points at least
FAMILY_MIN = 3  # a family's own ρ needs three architectures


def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(n, k=1)
    return i, j


def kendall_tau(s: np.ndarray, a: np.ndarray, mask: np.ndarray | None = None) -> float:
    """τ_b of s and a over the pairs (i < j, ``np.triu_indices`` order) that ``mask`` keeps
    (all if None); NaN when no pair is untied in both."""
    i, j = _pairs(len(s))
    ds, da = np.sign(s[i] - s[j]), np.sign(a[i] - a[j])
    if mask is not None:
        ds, da = ds[mask], da[mask]
    p = len(ds)
    denom = math.sqrt(float((p - np.sum(ds == 0)) * (p - np.sum(da == 0))))
    return float(np.sum(ds * da) / denom) if denom > 0 else math.nan


def _ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their positions), 1-based (scipy's rankdata;
    scipy comes with scikit-image)."""
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def spearman_rho(s: np.ndarray, a: np.ndarray) -> float:
    """Pearson correlation of the average ranks; NaN with fewer than 2 points or a constant."""
    if len(s) < MIN_POINTS:
        return math.nan
    rs, ra = _ranks(np.asarray(s, float)), _ranks(np.asarray(a, float))
    if rs.std() == 0 or ra.std() == 0:
        return math.nan
    return float(np.corrcoef(rs, ra)[0, 1])


def _family_masks(fam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = _pairs(len(fam))
    same = fam[i] == fam[j]
    return same, ~same


def within_rho(s: np.ndarray, a: np.ndarray, fam: np.ndarray) -> float:
    """Size-weighted mean of the per-family ρ over families of ≥ 3 architectures."""
    vals, weights = [], []
    for f in np.unique(fam):
        k = fam == f
        r = spearman_rho(s[k], a[k]) if k.sum() >= FAMILY_MIN else math.nan
        if math.isfinite(r):
            vals.append(r)
            weights.append(k.sum())
    return float(np.average(vals, weights=weights)) if vals else math.nan


def across_rho(s: np.ndarray, a: np.ndarray, fam: np.ndarray) -> float:
    """ρ over the family means of s and a."""
    fams = np.unique(fam)
    ms = np.array([s[fam == f].mean() for f in fams])
    ma = np.array([a[fam == f].mean() for f in fams])
    return spearman_rho(ms, ma)


def statistics(s: np.ndarray, a: np.ndarray, fam: np.ndarray) -> dict[str, float]:
    """Every statistic of the module doc on one set of points."""
    same, other = _family_masks(fam)
    return {"kendall": kendall_tau(s, a), "spearman": spearman_rho(s, a),
            "kendall_within": kendall_tau(s, a, same), "spearman_within": within_rho(s, a, fam),
            "kendall_across": kendall_tau(s, a, other), "spearman_across": across_rho(s, a, fam)}


def agreement(points: list[dict[str, Any]], boot: int = BOOT, seed: int = 0) -> dict[str, Any]:
    """{statistic: {"value", "lo", "hi"}} and ``n`` for points with ``score``, ``top1`` and
    ``family`` (study.trained.join); the interval is the bootstrap's 2.5–97.5 percentiles."""
    n = len(points)
    out: dict[str, Any] = {"n": n, "families": len({p["family"] for p in points})}
    if n < MIN_POINTS:
        return out
    s = np.array([p["score"] for p in points], float)
    a = np.array([p["top1"] for p in points], float)
    fam = np.array([p["family"] for p in points])
    value = statistics(s, a, fam)
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = defaultdict(list)
    for _ in range(boot):
        k = rng.integers(0, n, n)
        for name, v in statistics(s[k], a[k], fam[k]).items():
            samples[name].append(v)
    for name, v in value.items():
        vs = np.array(samples[name])
        vs = vs[np.isfinite(vs)]
        lo, hi = (np.percentile(vs, [2.5, 97.5]) if vs.size else (math.nan, math.nan))
        out[name] = {"value": v, "lo": float(lo), "hi": float(hi)}
    return out
