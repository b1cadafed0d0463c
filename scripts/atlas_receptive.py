"""The receptive field of each atlas network's stride tap, ranked against trained top-1 beside
the inversion PSNR of the same networks.

    OMP_NUM_THREADS=1 python scripts/atlas_receptive.py ATLAS_DIR [--all-sizes]

ATLAS_DIR: a study of benchmarks/plans/atlas-heldout.toml. Per stride, every network with a
stored inversion cell at the study's size (``--all-sizes``: grown ones too, study.taps) whose
tap has a traced receptive field (``Arch.receptive_field``; "?" taps left out) and a top-1.
Prints a Markdown table: Kendall τ and Spearman ρ of the receptive field against top-1 with 95 %
bootstrap intervals (study.agreement), τ of the mean inversion PSNR against top-1 on the same
networks, and τ between the receptive field and PSNR.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from ranvis.study.agreement import agreement, kendall_tau
from ranvis.study.trained import join


def psnr_means(study: Path, all_sizes: bool) -> dict[int, dict[str, tuple[str, str, float]]]:
    """{stride: {label: (architecture, tap, mean PSNR)}} of the stored inversion cells."""
    size = json.loads((study / "study.json").read_text())["plan"]["size"]
    acc: dict[tuple[int, str, str, str], list[float]] = defaultdict(list)
    with open(study / "results.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["status"] == "ok" and r["kind"] == "invert" and r["psnr"] and (
                    all_sizes or int(r["size"]) == size):
                acc[(int(r["stride"]), r["arch"], r["arch_name"], r["tap"])].append(
                    float(r["psnr"]))
    out: dict[int, dict[str, tuple[str, str, float]]] = defaultdict(dict)
    for (stride, label, arch, tap), v in acc.items():
        out[stride][label] = (arch, tap, float(np.mean(v)))
    return dict(out)


def receptive(arch: str, tap: str) -> int | None:
    """The tap's traced receptive field in px, None where it is unknown ("?")."""
    from ranvis.nets import get_arch
    from ranvis.nets.arch import ReceptiveFieldUnknown

    try:
        return get_arch(arch).receptive_field(tap)
    except ReceptiveFieldUnknown:
        return None


def _ci(e: dict) -> str:
    return f"{e['value']:+.2f} [{e['lo']:+.2f}, {e['hi']:+.2f}]"


def table(study: Path, all_sizes: bool = False) -> list[str]:
    """The Markdown rows (module doc)."""
    lines = ["| score | n | τ against top-1 | ρ against top-1 | τ of inversion PSNR on the same "
             "networks | τ(receptive field, PSNR) |", "|" + "---|" * 6]
    for stride, nets in sorted(psnr_means(study, all_sizes).items()):
        rf = {label: receptive(arch, tap) for label, (arch, tap, _p) in nets.items()}
        rf_pts = join({k: (nets[k][0], float(v)) for k, v in rf.items() if v is not None}).points
        kept = [p["label"] for p in rf_pts]
        ps_pts = join({k: (nets[k][0], nets[k][2]) for k in kept}).points
        a, b = agreement(rf_pts), agreement(ps_pts)
        between = kendall_tau(np.array([float(rf[k]) for k in kept]),
                              np.array([nets[k][2] for k in kept]))
        lines.append(f"| receptive field s{stride} | {a['n']} | {_ci(a['kendall'])} | "
                     f"{_ci(a['spearman'])} | {_ci(b['kendall'])} | {between:+.2f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("atlas", type=Path)
    p.add_argument("--all-sizes", action="store_true",
                   help="include networks that ran at a grown size")
    a = p.parse_args(argv)
    if not (a.atlas / "results.csv").is_file() or not (a.atlas / "study.json").is_file():
        print(f"atlas_receptive: {a.atlas} has no results.csv and study.json", file=sys.stderr)
        return 2
    print("\n".join(table(a.atlas, a.all_sizes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
