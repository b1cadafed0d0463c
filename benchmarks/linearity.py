"""How linear is a random network up to a tap, and does that explain the atlas's inits?

    OMP_NUM_THREADS=1 python benchmarks/linearity.py PHOTO [PHOTO ...] --out benchmarks/linearity
        [--plan benchmarks/plans/atlas-paper.toml] [--inits he,paper] [--size 64]

For every architecture of the plan, drawn with each init (net seed 0, average pooling, the
study's size; a tap that needs more, as the atlas's ``grow``, at the size it needs), and every
ordered pair of photographs (x1, x2): the share of the change from f(x1) to f(x2) that the
network's first-order Taylor expansion at x1 misses,

    N = || f(x1) + J_f(x1) (x2 - x1) - f(x2) || / || f(x2) - f(x1) ||,

f the tap's features (the network's own ImageNet normalization included: an affine map, which
leaves N unchanged). N = 0 for an affine network; a ReLU network that switches many units
between two photographs has N near 1 or above. Reported: N per architecture, init and stride
(mean over pairs), and, joined to the atlas's inversion PSNR per architecture and stride
(benchmarks/atlas/results.csv for He, benchmarks/atlas-paper/results.csv for the paper's init),
Kendall's tau between N and PSNR under each init and between the change of N and the change of
PSNR from He to the paper's init. Writes linearity.csv and linearity.md under --out.

    OMP_NUM_THREADS=1 python benchmarks/linearity.py PHOTO --branches timm:resnet50

prints instead, for a timm ResNet (BasicBlock / Bottleneck blocks), each block's
||residual branch|| / ||shortcut|| on the photograph under each init (stride 16 and above).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import sys
import tomllib
from pathlib import Path

import numpy as np
import torch

RESULTS = {"he": Path("benchmarks/atlas/results.csv"),
           "paper": Path("benchmarks/atlas-paper/results.csv")}


def miss(net: torch.nn.Module, tap: str, x1: torch.Tensor, x2: torch.Tensor) -> float:
    """N of the module doc for one ordered pair ([1, 3, H, W] each); NaN where f(x1) = f(x2)
    (a network whose tap is all zeros)."""
    f = lambda x: net(x, [tap])[tap]  # noqa: E731
    with torch.no_grad():
        f2 = f(x2)  # also builds the network before any transform sees it
        try:  # forward mode; double backward where an op has no forward derivative
            f1, lin = torch.func.jvp(f, (x1,), (x2 - x1,))
        except (RuntimeError, NotImplementedError):
            f1, lin = torch.autograd.functional.jvp(f, x1, x2 - x1)
    return float((f1 + lin - f2).norm() / (f2 - f1).norm())


def measure(arch: str, init: str, photos: list[Path], size: int) -> dict[int, float]:
    """{stride: mean N over ordered photo pairs} at strides 4, 8, 16 (where the net has them)."""
    from ranvis.io.images import center_square, load
    from ranvis.nets import get_arch
    from ranvis.tasks import make_net

    net, a = make_net(arch=arch, net_seed=0, weight_init=init), get_arch(arch)
    out = {}
    for stride in (4, 8, 16):
        tap = f"s{stride}"
        if tap not in {t.name for t in a.nodes()}:
            continue
        side = max(size, a.min_input(tap))
        xs = [center_square(load(p), side) for p in photos]  # as the study prepares them
        out[stride] = float(np.mean([miss(net, tap, x1, x2)
                                     for x1, x2 in itertools.permutations(xs, 2)]))
    return {k: v for k, v in out.items() if np.isfinite(v)}


def branch_ratios(arch: str, init: str, photo: Path, size: int) -> dict[str, float]:
    """{block: ||branch|| / ||shortcut||} of a timm ResNet's blocks up to s16 (module doc)."""
    from ranvis.io.images import center_square, load
    from ranvis.tasks import make_net

    net, x = make_net(arch=arch, net_seed=0, weight_init=init), center_square(load(photo), size)
    net(x, ["s16"])
    model = net.models[max(net.models)]
    seen: dict[tuple[str, str], torch.Tensor] = {}
    blocks = {n: b for n, b in model.named_modules()
              if type(b).__name__ in ("BasicBlock", "Bottleneck")}
    for n, b in blocks.items():  # clones: the block adds the shortcut into the branch in place
        b.register_forward_hook(lambda _m, i, _o, n=n: seen.__setitem__((n, "in"), i[0].clone()))
        last = b.bn3 if hasattr(b, "bn3") else b.bn2
        last.register_forward_hook(lambda _m, _i, o, n=n: seen.__setitem__((n, "br"), o.clone()))
    with torch.no_grad():
        net(x, ["s16"])
        short = {n: b.downsample(seen[n, "in"]) if b.downsample is not None else seen[n, "in"]
                 for n, b in blocks.items()}
    return {n: float(seen[n, "br"].norm() / short[n].norm()) for n in blocks}


def atlas_psnr(path: Path, init: str) -> dict[tuple[str, int], float]:
    """Mean inversion PSNR per (architecture, stride) over a study's ok cells drawn with
    ``init`` (scripts/atlas_inits.py's reader of results.csv)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from atlas_inits import means

    scores = means(path)
    return {(arch, stride): v for stride in (4, 8, 16)
            for arch, v in scores.get((f"invert psnr s{stride}", init), {}).items()}


def tau(pairs: list[tuple[float, float]]) -> tuple[float, int]:
    """Kendall's tau_b between the pairs' first and second values, and their number."""
    from ranvis.study.agreement import kendall_tau

    if len(pairs) < 3:
        return float("nan"), len(pairs)
    a, b = np.array(pairs, float).T
    return kendall_tau(a, b), len(pairs)


def _row(rows: list[dict], init: str, stride: int, psnr: dict[tuple[str, int], float]) -> str:
    """One line of the first table: N's spread, tau with PSNR, tau with trained top-1."""
    from ranvis.study.agreement import agreement
    from ranvis.study.trained import join

    at = [r for r in rows if r["init"] == init and r["stride"] == stride]
    ns = [r["N"] for r in at]
    pairs = [(r["N"], psnr[r["arch"], stride]) for r in at if (r["arch"], stride) in psnr]
    t, n = tau(pairs)
    top = agreement(join({r["arch"]: (r["arch"], r["N"]) for r in at}
                         ).points)["kendall"]
    return (f"| {stride} | {init} | {np.median(ns):.2f} | {min(ns):.2f}-{max(ns):.3g} | "
            f"{t:+.2f} ({n}) | {top['value']:+.2f} [{top['lo']:+.2f}, {top['hi']:+.2f}] |")


def report(rows: list[dict], inits: list[str]) -> str:
    """linearity.md: N per init and stride (median, range) and the taus of the module doc."""
    psnr = {i: atlas_psnr(RESULTS[i], i) if RESULTS[i].is_file() else {} for i in inits}
    lines = ["| stride | init | median N | N range | tau(N, PSNR) (n) | tau(N, top-1) [95 %] |",
             "|---|---|---|---|---|---|"]
    lines += [_row(rows, init, stride, psnr[init]) for stride in (4, 8, 16) for init in inits]
    if {"he", "paper"} <= {i for i in inits if psnr[i]}:
        lines += ["", "| stride | tau(N_he - N_paper, PSNR_paper - PSNR_he) | n |", "|---|---|---|"]
        for stride in (4, 8, 16):
            n_of = {(r["arch"], r["init"]): r["N"] for r in rows if r["stride"] == stride}
            d = [(n_of[a, "he"] - n_of[a, "paper"], psnr["paper"][a, stride] - psnr["he"][a, stride])
                 for a in sorted({r["arch"] for r in rows})
                 if (a, "he") in n_of and (a, "paper") in n_of
                 and (a, stride) in psnr["he"] and (a, stride) in psnr["paper"]]
            t, n = tau(d)
            lines.append(f"| {stride} | {t:+.2f} | {n} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("photos", nargs="+", type=Path)
    p.add_argument("--out", type=Path)
    p.add_argument("--plan", type=Path, default=Path("benchmarks/plans/atlas-paper.toml"))
    p.add_argument("--inits", default="he,paper")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--archs", help="comma-separated subset of the plan's architectures")
    p.add_argument("--branches", metavar="ARCH", help="a timm ResNet's branch/shortcut ratios")
    a = p.parse_args()
    if a.branches:
        for init in a.inits.split(","):
            r = branch_ratios(a.branches, init, a.photos[0], a.size)
            print(init, " ".join(f"{n} {v:.2g}" for n, v in r.items()))
        return
    archs = tomllib.loads(a.plan.read_text())["arch"][0]["name"]
    archs = a.archs.split(",") if a.archs else archs
    inits = a.inits.split(",")
    if a.out is None:
        p.error("--out is required (unless --branches)")
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for arch, init in itertools.product(archs, inits):
        try:
            got = measure(arch, init, a.photos, a.size)
        except Exception as e:  # noqa: BLE001 (a benchmark: say which network and go on)
            print(f"{arch} {init}: {type(e).__name__}: {e}", flush=True)
            continue
        for stride, n in got.items():
            rows.append({"arch": arch, "init": init, "stride": stride, "N": n})
        print(arch, init, " ".join(f"s{s} {n:.3f}" for s, n in got.items()), flush=True)
    with (a.out / "linearity.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, ["arch", "init", "stride", "N"])
        w.writeheader()
        w.writerows(rows)
    md = report(rows, inits)
    (a.out / "linearity.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
