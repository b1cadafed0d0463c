"""Short `best` inversions (the demo's, ``reproduce --quick``'s) under the old and the new
recipe, alternating: CPU seconds and whether the images are identical (issue 29, item 2).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/budget_identity.py \\
        --cases pool4:96:sample:chelsea,pool5:64:sample:astronaut --iters 100 --repeats 2

"old": ``level_plateau=False`` (the recipe before issue 29's level plateau); "new": the preset
as it is. A given budget keeps the coarse levels' shares, and 100 evaluations give each level
15, under the plateau's 40-evaluation window, so both must compute the same image.
"""
from __future__ import annotations

import argparse
import time

import torch

import ranvis
from ranvis.io.images import center_square, load


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", default="pool4:96:sample:chelsea,pool5:64:sample:astronaut",
                   help="LAYER:SIZE:IMAGE,...")
    p.add_argument("--iters", type=int, default=100)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(1)
    for case in a.cases.split(","):
        layer, size, src = case.split(":", 2)
        img = center_square(load(src), int(size))
        cpu: dict[str, list[float]] = {"old": [], "new": []}
        images: dict[str, torch.Tensor] = {}
        for _ in range(a.repeats):
            for name, kw in (("old", {"level_plateau": False}), ("new", {})):
                t = time.process_time()
                images[name] = ranvis.invert(img, layer, iters=a.iters, threads=1, **kw).image
                cpu[name].append(time.process_time() - t)
        print(f"{layer} {size} px {a.iters} evals: CPU s old {cpu['old']}, new {cpu['new']}; "
              f"identical images: {torch.equal(images['old'], images['new'])}", flush=True)


if __name__ == "__main__":
    main()
