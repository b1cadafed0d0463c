"""Where an atlas cell's time goes: CPU seconds (``time.process_time``, which other jobs on a
shared machine do not inflate) of each phase of ``study.runcell.run_cell`` for inversion cells,
timm architectures at 64 px, the atlas recipe (``best``, 40 iterations).

    OMP_NUM_THREADS=1 python benchmarks/atlas_cost.py IMAGE [--archs a,b,...] [--iters 40]
    OMP_NUM_THREADS=1 python benchmarks/atlas_cost.py IMAGE --cache IMAGE2   # the net cache

Phases: ``layout`` (the architecture's taps and sizes, once per architecture and process),
``build`` (the seeded network: timm's module tree, the draws), ``factors`` (the objective:
target features and layer weights), ``evaluations`` (the optimization: every forward and
backward pass and L-BFGS), ``judging`` (scores, PNG, record) and the rest of the cell
(``other``). Prints a Markdown table; the evaluation share is evaluations / cell total
(layout excluded: a worker pays it once per architecture for its 9-18 cells).
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

import numpy as np
import torch

ARCHS = ("timm:resnet18", "timm:resnet50", "timm:efficientnet_b0", "timm:mobilenetv3_large_100",
         "timm:densenet121", "timm:convnext_tiny", "timm:regnety_016", "timm:vgg16")


def _timed(fn: Any, key: str, acc: dict[str, float]) -> Any:
    def wrapper(*a: Any, **k: Any) -> Any:
        t = time.process_time()
        try:
            return fn(*a, **k)
        finally:
            acc[key] += time.process_time() - t
    return wrapper


def cell_phases(arch: str, image: np.ndarray, stride: int, iters: int) -> dict[str, float]:
    """CPU seconds per phase of one inversion cell (module doc)."""
    from ranvis import tasks as T
    from ranvis.nets import get_arch
    from ranvis.study import judges, runcell
    from ranvis.study.taps import stride_tap
    from ranvis.tasks import inversion

    acc: dict[str, float] = defaultdict(float)
    t = time.process_time()
    tap = stride_tap(get_arch(arch), stride, image.shape[-1]).taps
    acc["layout"] = time.process_time() - t
    saved = (T.make_net, inversion.make_nets, inversion._objective,
             inversion.optimize_objective, judges.inversion_scores, runcell.png_bytes)
    index = get_arch(arch).tap(tap[0]).index

    def make_built(*a: Any, **k: Any) -> Any:  # the cell builds lazily, at the first forward
        net = saved[0](*a, **k)
        net.model(index)
        return net

    T.make_net = _timed(make_built, "build", acc)
    inversion._objective = _timed(inversion._objective, "factors", acc)
    inversion.optimize_objective = _timed(inversion.optimize_objective, "evaluations", acc)
    judges.inversion_scores = _timed(judges.inversion_scores, "judging", acc)
    runcell.png_bytes = _timed(runcell.png_bytes, "judging", acc)
    job = {"key": "bench", "image": image, "device": "cpu",
           "settings": {"task": "invert", "taps": list(tap), "iters": iters, "start": 0,
                        "options": {"preset": "best"},
                        "net": {"arch": arch, "pool": "avg", "init": "he", "sigma": 0.015,
                                "net_seed": 0}}}
    try:
        t = time.process_time()
        runcell.run_cell(job)
        acc["cell"] = time.process_time() - t
    finally:
        (T.make_net, inversion.make_nets, inversion._objective, inversion.optimize_objective,
         judges.inversion_scores, runcell.png_bytes) = saved
    acc["other"] = acc["cell"] - sum(acc[k] for k in ("build", "factors", "evaluations",
                                                       "judging"))
    return dict(acc)


def _job(arch: str, image: np.ndarray, stride: int, iters: int) -> dict[str, Any]:
    from ranvis.nets import get_arch
    from ranvis.study.taps import stride_tap

    tap = stride_tap(get_arch(arch), stride, image.shape[-1]).taps
    return {"key": "bench", "image": image, "device": "cpu",
            "settings": {"task": "invert", "taps": list(tap), "iters": iters, "start": 0,
                         "options": {"preset": "best"},
                         "net": {"arch": arch, "pool": "avg", "init": "he", "sigma": 0.015,
                                 "net_seed": 0}}}


def cache_compare(archs: list[str], images: list[np.ndarray], iters: int) -> None:
    """CPU seconds of an atlas draw's cells (images × strides 4, 8, 16, in the grid's order)
    with the worker's network cache (study.runcell.NET_CACHE) and with it emptied before every
    cell, interleaved per architecture (a warm-up cell first: the layout is not counted); the
    cache is emptied between images either way, as the atlas grid runs every other network
    between two images of one."""
    from ranvis.study import runcell

    print("| arch | cells | CPU s, no cache | CPU s, cache | ratio |\n|---|---|---|---|---|")
    tot = [0.0, 0.0]
    for arch in archs:
        runcell.run_cell(_job(arch, images[0], 4, 2))
        spent = []
        for cache in (False, True):
            runcell._NETS.clear()
            t = time.process_time()
            for img in images:
                runcell._NETS.clear()  # the grid's order: every other network between images
                for stride in (4, 8, 16):
                    if not cache:
                        runcell._NETS.clear()
                    runcell.run_cell(_job(arch, img, stride, iters))
            spent.append(time.process_time() - t)
        tot = [tot[0] + spent[0], tot[1] + spent[1]]
        print(f"| {arch} | {3 * len(images)} | {spent[0]:.2f} | {spent[1]:.2f} | "
              f"{spent[0] / spent[1]:.2f} |", flush=True)
    print(f"| all | | {tot[0]:.1f} | {tot[1]:.1f} | {tot[0] / tot[1]:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("image")
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--iters", type=int, default=40)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--cache", nargs="*", metavar="IMAGE",
                   help="compare the network cache on and off over IMAGE and these images")
    a = p.parse_args()
    torch.set_num_threads(1)
    from ranvis.study.cells import prepare_image
    from ranvis.study.fields import ImageRef

    image = prepare_image(ImageRef("image", a.image), a.size)
    if a.cache is not None:
        more = [prepare_image(ImageRef("i", p), a.size) for p in a.cache]
        cache_compare(a.archs.split(","), [image, *more], a.iters)
        return
    keys = ("layout", "build", "factors", "evaluations", "judging", "other", "cell")
    print("| arch | stride | " + " | ".join(keys) + " | evaluations / cell |")
    print("|" + "---|" * (len(keys) + 3))
    totals: dict[str, float] = defaultdict(float)
    for arch in a.archs.split(","):
        for stride in (4, 8, 16):
            ph = cell_phases(arch, image, stride, a.iters)
            for k in keys:
                totals[k] += ph.get(k, 0.0)
            print(f"| {arch} | {stride} | " + " | ".join(f"{ph.get(k, 0.0):.2f}" for k in keys)
                  + f" | {ph['evaluations'] / ph['cell']:.0%} |", flush=True)
    print("| all | | " + " | ".join(f"{totals[k]:.1f}" for k in keys)
          + f" | {totals['evaluations'] / totals['cell']:.0%} |")


if __name__ == "__main__":
    main()
