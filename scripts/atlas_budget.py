"""Does the atlas's answer depend on the evaluation budget? Rank agreement with trained top-1
of inversion PSNR and SSIM at two budgets, on the same networks, seed, photograph and strides.

    python scripts/atlas_budget.py ATLAS_DIR BUDGET_DIR [--image calla] [--seed 0]

ATLAS_DIR: a study of benchmarks/plans/atlas-heldout.toml (40 evaluations); BUDGET_DIR: one of
benchmarks/plans/atlas-budget.toml (120). Rows are read from each study's results.csv; only the
networks with a cell in both at a stride are ranked (the same set at both budgets). Prints a
Markdown table: Kendall τ and Spearman ρ with 95 % bootstrap intervals (study.agreement), and
the Kendall τ between the two budgets' own orders.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from ranvis.study.agreement import agreement, kendall_tau
from ranvis.study.trained import join


def scores(path: Path, image: str, seed: int, key: str) -> dict[int, dict[str, tuple[str, float]]]:
    """{stride: {network label: (architecture, score)}} of the stored inversion cells of
    ``image`` and ``seed`` in a results.csv."""
    out: dict[int, dict[str, tuple[str, float]]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if (r["status"] == "ok" and r["kind"] == "invert" and r["image"] == image
                    and r["net_seed"] == str(seed) and r[key]):
                out.setdefault(int(r["stride"]), {})[r["arch"]] = (r["arch_name"], float(r[key]))
    return out


def _ci(e: dict) -> str:
    return f"{e['value']:+.2f} [{e['lo']:+.2f}, {e['hi']:+.2f}]"


def table(atlas: Path, budget: Path, image: str, seed: int) -> list[str]:
    """The Markdown rows (module doc)."""
    lines = ["| score | n | τ at 40 | τ at 120 | ρ at 40 | ρ at 120 | τ(40, 120) | mean "
             "40 → 120 |", "|" + "---|" * 8]
    for key in ("psnr", "ssim"):
        low = scores(atlas / "results.csv", image, seed, key)
        high = scores(budget / "results.csv", image, seed, key)
        for stride in sorted(set(low) & set(high)):
            both = sorted(set(low[stride]) & set(high[stride]))
            a = agreement(join({k: low[stride][k] for k in both}).points)
            b = agreement(join({k: high[stride][k] for k in both}).points)
            x = np.array([low[stride][k][1] for k in both])
            y = np.array([high[stride][k][1] for k in both])
            lines.append(f"| {key} s{stride} | {a['n']} | {_ci(a['kendall'])} | "
                         f"{_ci(b['kendall'])} | {_ci(a['spearman'])} | {_ci(b['spearman'])} | "
                         f"{kendall_tau(x, y):+.2f} | {x.mean():.2f} → {y.mean():.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("atlas", type=Path)
    p.add_argument("budget", type=Path)
    p.add_argument("--image", default="calla")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    for d in (a.atlas, a.budget):
        if not (d / "results.csv").is_file():
            print(f"atlas_budget: {d} has no results.csv", file=sys.stderr)
            return 2
    print("\n".join(table(a.atlas, a.budget, a.image, a.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
