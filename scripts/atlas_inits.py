"""Does the atlas's answer depend on the initialization? Rank agreement with trained top-1 of
every score, per init, on the same reduced grid.

    python scripts/atlas_inits.py STUDY_DIR

STUDY_DIR: a study of benchmarks/plans/atlas-inits.toml (every network drawn with `he`,
`paper` and `timm`). Rows are read from its results.csv; a network's score is its mean over
the stored cells of one init (images, seeds); only the architectures every init scored at a
stride (or zero-cost score) are ranked, so the inits are compared on the same networks. Prints
a Markdown table: per score and init, Kendall τ and Spearman ρ against top-1 with 95 % bootstrap
intervals (study.agreement), the mean score, and the Kendall τ between that init's order of the
networks and He's.
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ranvis.study.agreement import agreement, kendall_tau
from ranvis.study.trained import join

INITS = ("he", "paper", "timm")
SCORES = (("invert", "psnr"), ("invert", "ssim"), ("zerocost", "naswot"),
          ("zerocost", "log10_synflow"))


def means(path: Path) -> dict[tuple[str, str], dict[str, dict[str, float]]]:
    """{(score name, init): {architecture: mean score}} of the stored, finite cells of a
    results.csv ("invert psnr s4", "zerocost naswot", ...)."""
    acc: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            for kind, key in SCORES:
                if r["status"] != "ok" or r["kind"] != kind or not r.get(key):
                    continue
                name = f"{kind} {key}" + (f" s{r['stride']}" if kind == "invert" else "")
                acc[(name, r["init"])][r["arch_name"]].append(float(r[key]))
    return {k: {a: float(np.mean(v)) for a, v in per.items() if np.all(np.isfinite(v))}
            for k, per in acc.items()}


def _ci(e: dict) -> str:
    return f"{e['value']:+.2f} [{e['lo']:+.2f}, {e['hi']:+.2f}]"


def table(study: Path) -> list[str]:
    """The Markdown rows (module doc)."""
    m = means(study / "results.csv")
    lines = ["| score | init | n | τ | ρ | mean | τ with He's order |", "|" + "---|" * 7]
    for name in sorted({n for n, _ in m}, key=lambda n: (n.split()[0] != "invert", n)):
        inits = [i for i in INITS if (name, i) in m]
        common = sorted(set.intersection(*(set(m[(name, i)]) for i in inits)))
        if len(common) < 2:
            continue
        he = np.array([m[(name, "he")][a] for a in common]) if "he" in inits else None
        for init in inits:
            x = np.array([m[(name, init)][a] for a in common])
            e = agreement(join({a: (a, m[(name, init)][a]) for a in common}).points)
            with_he = f"{kendall_tau(x, he):+.2f}" if he is not None else "–"
            lines.append(f"| {name} | {init} | {e['n']} | {_ci(e['kendall'])} | "
                         f"{_ci(e['spearman'])} | {x.mean():.2f} | {with_he} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("study", type=Path)
    a = p.parse_args(argv)
    if not (a.study / "results.csv").is_file():
        print(f"atlas_inits: {a.study} has no results.csv", file=sys.stderr)
        return 2
    print("\n".join(table(a.study)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
