"""Time ranvis at another git revision against the working tree's, interleaved in one process.

    PYTHONPATH=src python benchmarks/compare_revs.py --base REV [--sizes 256] [--tasks style]
        [--repeats 7] [--iters 3] [--clock cpu] [--naive] [--evals 30]

The revision's ``src/ranvis`` is extracted (git archive) into a temporary folder as the package
``ranvis_base``; its Net, Term, Objective and optimize run on the same targets and factors as the
working tree's. Prints seconds per iteration (median) of floor, base, new (and the naive
reference with --naive), and each one's ratio to the floor: what the changes since REV gained.
Each side runs its own revision's L-BFGS with the history the working tree's task keeps.
``--evals K`` adds a second table that isolates the objective: K rounds of one floor pass, one
base and one new evaluation (forward + backward at the same image, no optimizer), in rotating
order; ratios are medians (min–max) of the per-round ratios, so drift of the machine over
seconds cancels.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def load_rev(rev: str, into: Path, repo: Path = ROOT):  # noqa: ANN201 - the package module
    tar = subprocess.run(["git", "-C", str(repo), "archive", rev, "src/ranvis"],
                         check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)
    pkg = into / "src" / "ranvis"
    for f in pkg.rglob("*.py"):
        text = f.read_text().replace("from ranvis.", "from ranvis_base.")
        f.write_text(text.replace("from ranvis import", "from ranvis_base import"))
    pkg.rename(pkg.with_name("ranvis_base"))
    sys.path.insert(0, str(into / "src"))
    return importlib.import_module("ranvis_base")


def base_objective(base, case: cases.Case):  # noqa: ANN001, ANN201
    net_mod = importlib.import_module("ranvis_base.network")
    obj_mod = importlib.import_module("ranvis_base.objectives")
    net = net_mod.Net(net_mod.NetSpec.random(0), device=case.x0.device)
    terms = [obj_mod.Term(t.name, t.layer, t.kind, t.target, t.factor, t.weight)
             for t in case.objective.terms]
    return obj_mod.Objective(net, terms, case.objective.tv_weight)


def _evaluate(objective, x: torch.Tensor) -> float:  # noqa: ANN001
    cases.sync(x.device)
    t = cases.clock()
    total, _ = objective(x)
    total.backward()
    cases.sync(x.device)
    x.grad = None
    return cases.clock() - t


def paired_evals(case: cases.Case, bobj, k: int) -> dict[str, list[float]]:  # noqa: ANN001
    """k rounds of floor / base / new single evaluations at the case's start image, the order
    rotating each round (after two warm-up rounds): seconds of each, per round."""
    x = case.x0.detach().clone().requires_grad_(True)
    fns = {"floor": lambda: cases.floor_pass(case, x), "base": lambda: _evaluate(bobj, x),
           "new": lambda: _evaluate(case.objective, x)}
    names = list(fns)
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(k + 2):
        order = names[r % 3:] + names[: r % 3]
        t = {n: fns[n]() for n in order}
        if r >= 2:
            for n in names:
                out[n].append(t[n])
    return out


def _spread(a: list[float], b: list[float]) -> str:
    r = [x / y for x, y in zip(a, b, strict=True)]
    return f"{cases._median(r):.3f} ({min(r):.2f}-{max(r):.2f})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--repo", type=Path, default=ROOT, help="git repository holding --base")
    p.add_argument("--device", default="cpu")
    p.add_argument("--sizes", default="256")
    p.add_argument("--tasks", default="style")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    p.add_argument("--naive", action="store_true")
    p.add_argument("--evals", type=int, default=0,
                   help="also time K paired single evaluations (objective only)")
    a = p.parse_args()
    if a.clock == "cpu":
        cases.clock = time.process_time
    tmp = tempfile.TemporaryDirectory()
    base = load_rev(a.base, Path(tmp.name), a.repo)
    base_opt = importlib.import_module("ranvis_base.optimize").optimize
    takes_history = "history" in inspect.signature(base_opt).parameters
    print(f"base {a.base} vs working tree; torch {torch.__version__}, {torch.get_num_threads()} "
          f"threads, clock {a.clock}, loadavg {cases.load()}")
    print("\n| task | px | floor s/it | base s/it | new s/it | base/floor | new/floor | new/base"
          + (" | naive s/it | new/naive |" if a.naive else " |"))
    print("|---|---|---|---|---|---|---|---|" + ("---|---|" if a.naive else ""))
    k = a.iters
    evals: list[tuple[str, int, dict[str, list[float]]]] = []
    for size in map(int, a.sizes.split(",")):
        for task in a.tasks.split(","):
            case = cases.build(task, size, a.device, with_naive=a.naive)
            bobj = base_objective(base, case)

            def opt(*args, c=case, **kw):  # noqa: ANN002, ANN003, ANN202
                if takes_history:  # the history the working tree's task keeps
                    kw["history"] = c.history
                return base_opt(*args, **kw)

            fns = {"floor": lambda c=case: cases.time_floor(c, k),
                   "base": lambda c=case, o=bobj, f=opt: cases.time_ranvis(c, k, o, f),
                   "new": lambda c=case: cases.time_ranvis(c, k)}
            if a.naive:
                runner = cases.naive.Runner(case.naive, case.x0)
                fns["naive"] = lambda r=runner: cases.time_naive(r, k)
            for f in fns.values():
                f()
            runs: dict[str, list[float]] = {n: [] for n in fns}
            for r in range(a.repeats):
                for n in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
                    runs[n].append(fns[n]())
            t = {n: cases._median(v) for n, v in runs.items()}
            row = (f"| {task} | {size} | {t['floor']:.3f} | {t['base']:.3f} | {t['new']:.3f} | "
                   f"{t['base'] / t['floor']:.3f} | {t['new'] / t['floor']:.3f} | "
                   f"{t['new'] / t['base']:.3f} |")
            if a.naive:
                row += f" {t['naive']:.3f} | {t['new'] / t['naive']:.3f} |"
            print(row, flush=True)
            if a.evals:
                evals.append((task, size, paired_evals(case, bobj, a.evals)))
    if evals:
        print("\nSingle evaluations, paired (objective forward + backward, no optimizer), "
              "median (min-max) of per-round ratios:\n")
        print("| task | px | rounds | floor s | new/floor | base/floor | new/base |")
        print("|---|---|---|---|---|---|---|")
        for task, size, r in evals:
            print(f"| {task} | {size} | {len(r['floor'])} | {cases._median(r['floor']):.3f} | "
                  f"{_spread(r['new'], r['floor'])} | {_spread(r['base'], r['floor'])} | "
                  f"{_spread(r['new'], r['base'])} |")
    print(f"(loadavg at end {cases.load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
