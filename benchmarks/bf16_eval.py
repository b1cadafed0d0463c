"""fp32 against bf16, one evaluation of the ``best`` inversion objective (issue 29, item 1).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/bf16_eval.py --image DIR/path.jpg \\
        --layer pool5 --size 128 --nets 4

The objective ``invert --preset best`` builds (``--nets`` random draws of VGG-19, eq. 1 at
``--layer`` on the image's centre square), forward and backward, float32 and bfloat16 layers
alternating, process CPU time (one thread), median of ``--repeats`` after one warm-up each.
"""
from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch

from ranvis.io.images import center_square, load
from ranvis.objectives.terms import Ensemble
from ranvis.tasks.common import make_nets
from ranvis.tasks.inversion import Priors, _objective


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", default="sample:chelsea")
    p.add_argument("--layer", default="pool5")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--nets", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(1)
    img = center_square(load(a.image), a.size)
    obj32, _ = _objective(make_nets(a.nets), img, [a.layer], {}, Priors(), torch.float32)
    obj16 = Ensemble([replace(m, net=m.net.as_dtype(torch.bfloat16)) for m in obj32.members])
    x = torch.rand(1, 3, a.size, a.size, requires_grad=True)

    def cpu_seconds(objective: Ensemble) -> float:
        t = time.process_time()
        objective(x)[0].backward()
        x.grad = None
        return time.process_time() - t

    cpu_seconds(obj32), cpu_seconds(obj16)  # warm-up
    fp32, bf16 = [], []
    for _ in range(a.repeats):
        fp32.append(cpu_seconds(obj32))
        bf16.append(cpu_seconds(obj16))
    f, b = statistics.median(fp32), statistics.median(bf16)
    print(f"{a.layer}, {a.nets} draws, {a.size} px, CPU s per evaluation (median of "
          f"{a.repeats}): fp32 {f:.3f}, bf16 {b:.3f}, bf16/fp32 {b / f:.2f}; "
          f"{torch.backends.cpu.get_cpu_capability()}")


if __name__ == "__main__":
    main()
