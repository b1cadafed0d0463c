"""Study throughput: cells per hour with N local workers and with a local Ray instance.

    PYTHONPATH=src python benchmarks/study_bench.py --workers 1,2 --ray 2 --repeats 2

Every run computes the same fixed grid of 64 px inversion cells (VGG-16 and ResNet-18 at
strides 4 and 8, two scikit-image photos, seeds 0..S-1, 100 iterations) into a fresh study
directory, so every cell is computed. Throughput = computed cells / compute seconds (from the
first job submitted to the last result stored; start-up, i.e. starting the workers and
importing torch in them, or starting Ray, is timed separately). Each run also reports the CPU
seconds a cell's worker process spent on it: on a machine shared with other jobs, wall-clock
throughput measures the sharing as much as the executor, while CPU s/cell equal across
executors says that none of them adds work per cell. Runs alternate
(N=1, N=2, Ray, N=1, …) so that a machine shared with other jobs drifts into all of them alike;
the load average before each run is printed with it. Targets (issue 21): N workers ≥ 0.85 × N ×
one worker's cells per hour; Ray ≥ 0.90 × the process pool with as many workers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from ranvis.study import StudyOptions, parse_plan, run_study


def plan_tables(seeds: int, iters: int, size: int) -> dict[str, Any]:
    """The fixed benchmark grid (module doc): 2 archs x 2 strides x 2 photos x ``seeds``."""
    return {"study": {"name": "bench", "size": size, "iters": iters,
                      "seeds": f"0-{seeds - 1}",
                      "images": ["sample:astronaut", "sample:coffee"]},
            "arch": [{"name": ["vgg16", "resnet18"]}],
            "task": [{"kind": "invert", "strides": [4, 8]}]}


def one_run(plan: Any, executor: str, workers: int) -> dict[str, Any]:
    """Run the grid once into a fresh directory; the numbers of that run."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ranvis-bench-") as d:
        opts = StudyOptions(executor=executor, workers=workers, threads=1, progress=False,
                            report=False)
        t0 = time.perf_counter()
        s = run_study(plan, Path(d) / "study", opts)
        wall = time.perf_counter() - t0
    assert s.computed == s.cells and not s.failed, (s.computed, s.cells, s.failed)
    return {"executor": executor, "workers": workers, "cells": s.computed,
            "startup_s": s.startup_seconds, "compute_s": s.compute_seconds,
            "wall_s": round(wall, 2), "cells_per_hour": round(s.cells_per_hour, 1),
            "mean_cell_s": round(s.cell_seconds / s.computed, 2),
            "mean_cell_cpu_s": round(s.cell_cpu_seconds / s.computed, 2),
            "load_before": round(load, 2)}


def summarize(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median cells/hour and start-up per (executor, workers), and the ratios to the targets."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["executor"], r["workers"]), []).append(r)
    one = statistics.median(r["cells_per_hour"] for r in groups.get(("local", 1), [])) \
        if ("local", 1) in groups else None
    rows = []
    for (ex, n), rs in groups.items():
        cph = statistics.median(r["cells_per_hour"] for r in rs)
        row = {"executor": ex, "workers": n, "runs": len(rs), "cells_per_hour": round(cph, 1),
               "startup_s": round(statistics.median(r["startup_s"] for r in rs), 2),
               "cell_cpu_s": round(statistics.median(r["mean_cell_cpu_s"] for r in rs), 2),
               "load": round(statistics.median(r["load_before"] for r in rs), 2)}
        if one and ex == "local":
            row["vs_N_x_one_worker"] = round(cph / (n * one), 3)
        pool = groups.get(("local", n))
        if ex == "ray" and pool:
            row["vs_pool"] = round(cph / statistics.median(r["cells_per_hour"] for r in pool), 3)
        rows.append(row)
    return rows


def main() -> None:
    """Run the configurations in turn, ``--repeats`` times; print each run and the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2", help="local pool sizes, e.g. 1,2 or 1,2,4,8,16")
    ap.add_argument("--ray", type=int, default=None, metavar="N",
                    help="also a local Ray instance with N CPUs")
    ap.add_argument("--seeds", type=int, default=4, help="seeds: cells = 8 x seeds")
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None, help="write every run here")
    a = ap.parse_args()
    plan = parse_plan(plan_tables(a.seeds, a.iters, a.size), Path.cwd(), source="study_bench")
    configs = [("local", int(n)) for n in a.workers.split(",")]
    configs += [("ray", a.ray)] if a.ray else []
    runs = []
    for rep in range(a.repeats):
        for ex, n in configs:
            r = one_run(plan, ex, n)
            runs.append({**r, "repeat": rep})
            print(json.dumps(runs[-1]), flush=True)
    rows = summarize(runs)
    print("| executor | workers | runs | cells/hour (median) | start-up s | CPU s/cell | load "
          "| vs N x one worker | vs pool |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['executor']} | {r['workers']} | {r['runs']} | {r['cells_per_hour']} | "
              f"{r['startup_s']} | {r['cell_cpu_s']} | {r['load']} | "
              f"{r.get('vs_N_x_one_worker', '')} | {r.get('vs_pool', '')} |")
    if a.json:
        a.json.write_text(json.dumps({"runs": runs, "summary": rows, "cpus": os.cpu_count()},
                                     indent=1))


if __name__ == "__main__":
    main()
