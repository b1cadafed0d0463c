"""ranvis against its floor, per architecture (issue 20's decision, settled in issue 29).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/floor.py --archs vgg19,resnet18 --size 256

The floor of a task is its objective's forward and backward pass: the bare network to the
deepest tap *plus* the loss terms the task cannot do without, written plainly with autograd
(content ‖F − F0‖², Gram ‖F Fᵀ/M − T‖², TV), at the same precision. For each architecture the
style-transfer case of cases.py (the task with every kind of term: the architecture's content
tap, its style taps, TV) is timed four ways, alternating, medians of ``--repeats``:

* ``floor``: the plain objective above, forward + backward;
* ``objective``: ranvis's Objective (fused terms), forward + backward;
* ``loop``: one evaluation inside ranvis's optimization loop in its steady state (the L-BFGS
  history full: cases.time_ranvis), i.e. what a run pays per evaluation, optimizer included;
* ``step``: the optimizer step's own cost, L-BFGS's two-loop over the style history
  (D.STYLE_LBFGS_HISTORY pairs of image-sized vectors), once per step.

Target (issue 29): ``loop / floor`` ≤ 1.10 on every architecture. The plain objective's loss is
checked against ranvis's (same value within 1e-4 relative) before timing.
"""
from __future__ import annotations

import argparse
import statistics
import time

import cases
import torch
from arch_overhead import two_loop_ms

from ranvis import defaults as D
from ranvis.objectives.terms import Objective


def plain_objective(obj: Objective, x: torch.Tensor) -> torch.Tensor:
    """The floor: the same loss as ``obj`` with plain autograd terms on the bare network."""
    feats = obj.net(x, obj.layers)
    total = x.new_zeros(())
    for t in obj.terms:
        f = feats[t.layer].float()
        w, n = t.factor * t.weight, f.shape[1]
        if t.kind == "content":
            m = f.shape[2] * f.shape[3] if f.dim() == 4 else 1
            total = total + w / (2.0 * n * m) * (f - t.target).pow(2).sum()
        else:
            v = f.flatten(2)  # [1, C, M]
            g = torch.bmm(v, v.transpose(1, 2)) / v.shape[2]  # [1, C, C]
            total = total + w / (4.0 * n * n) * (g - t.target).pow(2).sum()
    if obj.tv_weight:
        dx, dy = x[..., :, 1:] - x[..., :, :-1], x[..., 1:, :] - x[..., :-1, :]
        total = total + obj.tv_weight * (dx.pow(2).sum() + dy.pow(2).sum()) / x.numel()
    return total


def row(arch: str, size: int, repeats: int, evals: int) -> dict[str, float]:
    """Milliseconds of floor, objective and loop evaluation for ``arch`` at ``size`` px."""
    case = cases.build("style", size, "cpu", with_naive=False, arch=arch)
    obj = case.objective
    x = case.x0.detach().clone().requires_grad_(True)
    with torch.no_grad():
        ours, plain = float(obj(x)[0]), float(plain_objective(obj, x))
    if abs(ours - plain) > 1e-4 * abs(ours):
        raise SystemExit(f"{arch}: the plain objective {plain} is not ranvis's {ours}")

    def timed(fn) -> float:
        t = cases.clock()
        fn().backward()
        x.grad = None
        return (cases.clock() - t) * 1000

    passes = {"floor": lambda: plain_objective(obj, x), "objective": lambda: obj(x)[0]}
    for fn in passes.values():
        timed(fn)  # warm-up
    times: dict[str, list[float]] = {k: [] for k in passes}
    times["loop"] = []
    for _ in range(repeats):
        for k, fn in passes.items():
            times[k].append(timed(fn))
        times["loop"].append(1000 * cases.time_ranvis(case, evals))
    out = {k: statistics.median(v) for k, v in times.items()}
    out["step"] = step_ms(3 * size * size, D.STYLE_LBFGS_HISTORY)
    return out


def step_ms(numel: int, pairs: int, repeats: int = 10) -> float:
    """Median ms (on cases.clock) of L-BFGS's two-loop recursion over ``pairs`` pairs."""
    return two_loop_ms(numel, pairs, repeats, clock=cases.clock)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", default="vgg19,vgg11,alexnet,resnet18,resnet50,convnext_tiny")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--evals", type=int, default=3, help="loop evaluations per repeat")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                    help="process CPU time (robust to other processes with one thread) or wall")
    a = ap.parse_args()
    cases.clock = time.process_time if a.clock == "cpu" else time.perf_counter
    print(f"{a.size} px, style case, torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, {a.clock} clock, load {cases.load()}, medians of {a.repeats}")
    print("\n| arch | floor ms | objective ms | loop ms per evaluation | L-BFGS step ms | "
          "objective / floor | loop / floor |")
    print("|---|---|---|---|---|---|---|")
    for arch in a.archs.split(","):
        r = row(arch, a.size, a.repeats, a.evals)
        print(f"| {arch} | {r['floor']:.0f} | {r['objective']:.0f} | {r['loop']:.0f} | "
              f"{r['step']:.1f} | {r['objective'] / r['floor']:.2f} | "
              f"{r['loop'] / r['floor']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
