"""How far two runs of the same study cells lie apart (benchmarks/atlas_group.py): per cell
|ΔPSNR| (largest, mean, median), the signed mean with its standard error and how many cells went
up and down, and the same for the best loss (the geometric mean ratio, its standard error from
log10 of the ratios). Keys: (arch, tap, photograph,
net seed); values: {"psnr": dB, "loss": the lowest loss the cell evaluated}."""
from __future__ import annotations

import math
import statistics
from typing import Any

HEADER = ("| compared | cells | max |ΔPSNR| dB | mean |ΔPSNR| | median |ΔPSNR| | signed ΔPSNR "
          "± SE (up/down) | best loss ratio ± SE (up/down) |\n|---|---|---|---|---|---|---|")


def _signed(d: list[float]) -> str:
    se = statistics.stdev(d) / math.sqrt(len(d)) if len(d) > 1 else float("nan")
    return (f"{statistics.mean(d):+.3f} ± {se:.3f} ({sum(v > 0 for v in d)}/"
            f"{sum(v < 0 for v in d)})")


def compare(a: dict[Any, dict[str, float]], b: dict[Any, dict[str, float]], what: str,
            keep: Any = None) -> str:
    """One Markdown row: run ``b`` against run ``a`` over their common cells (``keep``: a
    filter on the key)."""
    keys = [k for k in a if k in b and (keep is None or keep(k))]
    dp = [b[k]["psnr"] - a[k]["psnr"] for k in keys]
    dl = [math.log10(b[k]["loss"] / a[k]["loss"]) for k in keys]
    ad = [abs(v) for v in dp]
    se = statistics.stdev(dl) / math.sqrt(len(dl)) if len(dl) > 1 else float("nan")
    ratio = (f"{10 ** statistics.mean(dl) - 1:+.1%} ± {10 ** se - 1:.1%} "
             f"({sum(v > 0 for v in dl)}/{sum(v < 0 for v in dl)})")
    return (f"| {what} | {len(keys)} | {max(ad):.3f} | {statistics.mean(ad):.3f} | "
            f"{statistics.median(ad):.4f} | {_signed(dp)} | {ratio} |")
