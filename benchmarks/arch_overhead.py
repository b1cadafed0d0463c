"""Where a style evaluation's time goes above its floor, per architecture (256 px, CPU).

    PYTHONPATH=src python benchmarks/arch_overhead.py --archs alexnet,resnet18,vgg19

For each architecture (its presets' style and content taps, the benchmark case of cases.py):
the objective's forward + backward (the network to the deepest tap, the Gram and content terms,
TV), the floor (the bare network's forward + backward to the deepest tap) and the network
forward + backward to every tap with a trivial loss, alternating, medians of --repeats; and the
L-BFGS two-loop over the style history (D.STYLE_LBFGS_HISTORY pairs of image-sized vectors),
which the optimizer adds once per step. Milliseconds.
"""
from __future__ import annotations

import argparse
import statistics
import time

import cases
import torch

from ranvis import defaults as D


def timed(fn, clock=time.perf_counter) -> float:
    t = clock()
    fn()
    return (clock() - t) * 1000


def arch_row(arch: str, size: int, repeats: int) -> dict[str, float]:
    """Median ms of the objective, the floor and the taps-only pass on ``arch`` at ``size``."""
    case = cases.build("style", size, "cpu", with_naive=False, arch=arch)
    obj, net = case.objective, case.objective.net
    x = case.x0.detach().clone().requires_grad_(True)

    def objective() -> None:
        obj(x)[0].backward()
        x.grad = None

    def taps() -> None:
        sum(f.sum() for f in net(x, obj.layers).values()).backward()
        x.grad = None

    passes = {"objective": objective, "floor": lambda: cases.floor_pass(case, x), "taps": taps}
    for fn in passes.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in passes}
    for _ in range(repeats):
        for k, fn in passes.items():
            times[k].append(timed(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def two_loop_ms(numel: int, pairs: int, repeats: int = 10, clock=time.perf_counter) -> float:
    """Median ms (on ``clock``) of L-BFGS's two-loop recursion over ``pairs`` curvature pairs."""
    g = torch.Generator().manual_seed(0)
    s = [torch.randn(numel, generator=g) for _ in range(pairs)]
    y = [torch.randn(numel, generator=g) for _ in range(pairs)]
    q = torch.randn(numel, generator=g)

    def run() -> None:
        al = []
        for i in reversed(range(pairs)):
            al.append(float(s[i].dot(q)) * 0.1)
            q.add_(y[i], alpha=-al[-1])
        for i in range(pairs):
            b = float(y[i].dot(q)) * 0.1
            q.add_(s[i], alpha=al[pairs - 1 - i] - b)

    return statistics.median(timed(run, clock) for _ in range(repeats))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", default="alexnet,resnet18,resnet50,vgg11,vgg19")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=15)
    a = ap.parse_args()
    print(f"{a.size} px, torch {torch.__version__}, {torch.get_num_threads()} threads, load "
          f"{cases.load()}; two-loop over {D.STYLE_LBFGS_HISTORY} pairs: "
          f"{two_loop_ms(3 * a.size * a.size, D.STYLE_LBFGS_HISTORY):.1f} ms per step")
    print("\n| arch | objective ms | floor ms | taps-only ms | objective / floor |")
    print("|---|---|---|---|---|")
    for arch in a.archs.split(","):
        r = arch_row(arch, a.size, a.repeats)
        print(f"| {arch} | {r['objective']:.1f} | {r['floor']:.1f} | {r['taps']:.1f} | "
              f"{r['objective'] / r['floor']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
