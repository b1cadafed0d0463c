"""Cells per hour with and without lockstep groups (``ranvis study --batch N``), side by side:
an atlas-style grid of 64 px inversion cells (``best``, 40 evaluations, He init, average
pooling; by default 3 architectures × 6 photographs × strides 4, 8, 16, seed 0) run in one
process (the inline executor, one torch thread) into fresh folders, three ways interleaved
(A B C A B C):

* **grid**: the plan's order, one cell at a time (how the atlas ran; a worker's network cache
  holds 2 draws, so with more architectures than that every cell builds its network);
* **network**: ``--order network``, one cell at a time (each draw's network built once per tap);
* **groups**: ``--batch N`` (network order, the cells of one draw and tap that differ only in
  the photograph run as one lockstep job: study.rungroup, tasks.lockstep).

    RANVIS_PHOTOS=/work/heldout/photos OMP_NUM_THREADS=1 python benchmarks/atlas_group.py \
        [--archs a,b,...] [--photos calla,city,...] [--strides 4,8,16] [--seeds 0,1] \
        [--batch 6] [--rounds 2] [--ulp]

Measured in CPU seconds (``time.process_time``, which other jobs on a shared machine do not
inflate): the cells' own (the study's ``cell_cpu_seconds``; a group's shared equally by its
cells), and the whole ``run_study`` call (the driver's store writes too). Cells per CPU hour =
3600 · cells / cell CPU s. Evaluation share = the CPU spent while a cell is in its optimization
(``tasks.inversion.optimize_objective``: every forward and backward pass and L-BFGS; in a group,
from its first cell's start to its last cell's end) over the cell CPU. The allocator setting a
group makes (tasks.lockstep.lockstep_heap: freed memory kept, one arena) is made for all three
ways before the first run, so they differ only in order and grouping. Also: the largest and mean |ΔPSNR| of a
cell between the ways, the signed mean and the best loss (benchmarks/agreement_stats.py; a
batch's float rounding differs from a single image's, and L-BFGS carries such differences along);
``--ulp``: once more one cell at a time, with every photograph moved by one float32 ulp
(np.nextafter, upwards), the unbatched run's own sensitivity to a difference of that size, also
per architecture. Prints Markdown tables.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ARCHS = ("timm:resnet18", "timm:efficientnet_b0", "timm:convnext_atto")
PHOTOS = ("calla", "city", "desert", "goldfish", "kite", "path")  # the atlas's six


class EvalClock:
    """CPU seconds while at least one cell is inside its optimization (module doc)."""

    def __init__(self) -> None:
        self.inside, self.since, self.seconds = 0, 0.0, 0.0

    def wrap(self, fn: Any) -> Any:
        def timed(*a: Any, **k: Any) -> Any:
            if self.inside == 0:
                self.since = time.process_time()
            self.inside += 1
            try:
                return fn(*a, **k)
            finally:
                self.inside -= 1
                if self.inside == 0:
                    self.seconds += time.process_time() - self.since
        return timed


def plan_tables(archs: list[str], photos: list[str], strides: list[int], iters: int,
                size: int, seeds: list[int]) -> dict[str, Any]:
    """The grid (module doc): archs × photos × strides × seeds."""
    root = os.environ.get("RANVIS_PHOTOS", "/work/heldout/photos")
    return {"study": {"name": "atlas-group", "size": size, "iters": iters, "seeds": seeds,
                      "images": [str(Path(root) / f"{p}.jpg") for p in photos]},
            "arch": [{"name": archs, "init": "he"}],
            "task": [{"kind": "invert", "strides": strides, "options": {"preset": "best"}}]}


def _scores(folder: Path) -> dict[tuple, dict[str, float]]:
    """Each stored cell's PSNR and best loss by (arch, tap, photograph, net seed)."""
    import json

    out = {}
    for d in (folder / "cells").iterdir():
        cell = json.loads((d / "cell.json").read_text())
        loss = json.loads((d / "record.json").read_text())["loss"]
        i = cell["info"]
        out[(i["arch"], i["tap"], i["image"], i["net_seed"])] = {
            "psnr": cell["scores"]["psnr"], "loss": min(loss)}
    return out


def one_run(plan: Any, order: str, batch: int, clock: EvalClock) -> dict[str, Any]:
    """Run the grid once into a fresh folder (networks built afresh); its numbers and scores."""
    from ranvis.study import StudyOptions, run_study
    from ranvis.study.runcell import _NETS

    _NETS.clear()
    opts = StudyOptions(executor="inline", order=order, batch=batch, progress=False,
                        report=False)
    with tempfile.TemporaryDirectory(prefix="ranvis-group-") as d:
        clock.seconds = 0.0
        c0, t0 = time.process_time(), time.perf_counter()
        s = run_study(plan, Path(d) / "study", opts)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        scores = _scores(Path(d) / "study")
    assert s.computed == s.cells and not s.failed, (s.computed, s.cells, s.failed)
    return {"cells": s.computed, "cell_cpu": s.cell_cpu_seconds, "command_cpu": cpu,
            "eval_cpu": clock.seconds, "compute_wall": s.compute_seconds, "wall": wall,
            "scores": scores}


def row(r: dict[str, Any], label: str, k: int) -> str:
    """One Markdown row of a run."""
    return (f"| {label} | {k} | {r['cells']} | {r['cell_cpu']:.2f} | "
            f"{3600 * r['cells'] / r['cell_cpu']:,.0f} | {r['command_cpu']:.2f} | "
            f"{r['eval_cpu'] / r['cell_cpu']:.0%} | "
            f"{3600 * r['cells'] / r['compute_wall']:,.0f} |")


def ulp_photos() -> None:
    """Every photograph the grid prepares moved up by one float32 ulp (``--ulp``)."""
    import numpy as np

    from ranvis.study import cells

    prepare = cells.prepare_image
    cells.prepare_image = lambda ref, size: np.nextafter(
        prepare(ref, size), np.float32(np.inf)).astype(np.float32)


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--photos", default=",".join(PHOTOS))
    p.add_argument("--strides", default="4,8,16")
    p.add_argument("--seeds", default="0")
    p.add_argument("--iters", type=int, default=40)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=6)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--ulp", action="store_true")
    return p.parse_args()


def timed_rounds(plan: Any, batch: int, rounds: int, clock: EvalClock
                 ) -> list[list[dict[str, Any]]]:
    """The three ways (module doc), interleaved, ``rounds`` times; prints a row per run and
    the ratios of the median cell CPU. Returns the runs per way."""
    ways = (("grid", 1, "plan's order, one cell at a time"),
            ("network", 1, "`--order network`, one cell at a time"),
            ("network", batch, f"`--batch {batch}` (groups of {batch})"))
    runs: list[list[dict[str, Any]]] = [[], [], []]
    print("| way | round | cells | cell CPU s | cells per CPU hour | command CPU s | "
          "evaluation share | cells/hour (wall) |\n|---|---|---|---|---|---|---|---|")
    for k in range(1, rounds + 1):
        for (order, b, label), done in zip(ways, runs, strict=True):
            done.append(one_run(plan, order, b, clock))
            print(row(done[-1], label, k), flush=True)
    grid, net, group = (statistics.median(r["cell_cpu"] for r in rs) for rs in runs)
    print(f"\nCell CPU (medians): plan's order / groups {grid / group:.2f}x, network order "
          f"/ groups {net / group:.2f}x, plan's order / network order {grid / net:.2f}x\n")
    return runs


def main() -> None:
    a = _args()
    torch.set_num_threads(1)
    from agreement_stats import HEADER, compare

    from ranvis.study import parse_plan
    from ranvis.study.cells import expand
    from ranvis.tasks import inversion
    from ranvis.tasks.lockstep import lockstep_heap

    lockstep_heap()
    clock = EvalClock()
    inversion.optimize_objective = clock.wrap(inversion.optimize_objective)
    archs, photos = a.archs.split(","), a.photos.split(",")
    tables = plan_tables(archs, photos, [int(s) for s in a.strides.split(",")], a.iters,
                         a.size, [int(s) for s in a.seeds.split(",")])
    plan = parse_plan(tables, Path.cwd(), source="atlas_group")
    expand(plan)  # the layouts and photographs, once, before any timing
    warm = plan_tables(archs[:1], photos[:2], [4], 2, a.size, [0])
    one_run(parse_plan(warm, Path.cwd(), source="warm-up"), "network", a.batch, clock)
    grid, alone, groups = (rs[0]["scores"] for rs in timed_rounds(plan, a.batch, a.rounds, clock))
    print(HEADER)
    print(compare(alone, groups, "groups against network order alone"))
    print(compare(grid, alone, "network order alone against the plan's order"))
    if a.ulp:
        ulp_photos()
        moved = one_run(parse_plan(tables, Path.cwd(), source="ulp"), "network", 1, clock)
        print(compare(alone, moved["scores"], "alone, photographs 1 ulp up, against alone"))
        for arch in sorted({k[0] for k in alone}):
            for other, what in ((groups, "groups"), (moved["scores"], "1 ulp")):
                print(compare(alone, other, f"{arch}: {what}", lambda k, x=arch: k[0] == x))


if __name__ == "__main__":
    main()
