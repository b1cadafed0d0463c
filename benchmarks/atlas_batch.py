"""What batching the photographs of one network would save per evaluation: CPU seconds
(``time.process_time``, which other jobs on a shared machine do not inflate) of one forward and
backward pass to a stride's tap, for 6 images one at a time against the same 6 as one batch,
interleaved, timm architectures at 64 px, one thread.

    OMP_NUM_THREADS=1 python benchmarks/atlas_batch.py [--archs a,b,...] [--reps 3]

This is an upper bound on what a batched cell group could gain: the evaluation's passes only,
not the L-BFGS steps and line searches that batched inversions would have to keep independent
(torch.optim.LBFGS optimizes one problem; six independent line searches in lockstep would also
spend passes on images whose search already ended). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import time

import torch

ARCHS = ("timm:mobilenetv3_small_100", "timm:regnetx_002", "timm:resnet18",
         "timm:efficientnet_b0", "timm:convnext_atto", "timm:densenet121", "timm:vgg11")


def pass_seconds(arch: str, stride: int, reps: int, size: int = 64) -> tuple[float, float]:
    """CPU seconds of 6 single-image passes and of one 6-image pass (forward to the tap at
    ``stride``, backward of its squared sum), each the mean over ``reps`` interleaved rounds."""
    from ranvis.nets import get_arch
    from ranvis.study.taps import stride_tap
    from ranvis.tasks import make_net

    tap = stride_tap(get_arch(arch), stride, size).taps[-1]
    net = make_net("random", arch=arch, net_seed=0, sigma=0.015, pool="avg", weight_init="he",
                   device="cpu")
    xs = torch.rand(6, 3, size, size, generator=torch.Generator().manual_seed(0))

    def one(x: torch.Tensor) -> None:
        x = x.clone().requires_grad_(True)
        net(x, [tap])[tap].square().sum().backward()

    one(xs[:1])
    one(xs)  # built and warm
    single = batched = 0.0
    for _ in range(reps):
        t = time.process_time()
        for i in range(6):
            one(xs[i:i + 1])
        single += time.process_time() - t
        t = time.process_time()
        one(xs)
        batched += time.process_time() - t
    return single / reps, batched / reps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--archs", default=",".join(ARCHS))
    p.add_argument("--strides", default="4,16")
    p.add_argument("--reps", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(1)
    print("| arch | stride | 6 × batch 1 (CPU ms) | batch of 6 (CPU ms) | ratio |\n|---|---|---|---|---|")
    for arch in a.archs.split(","):
        for stride in (int(s) for s in a.strides.split(",")):
            single, batched = pass_seconds(arch, stride, a.reps)
            print(f"| {arch} | {stride} | {1000 * single:.1f} | {1000 * batched:.1f} | "
                  f"{single / batched:.2f} |", flush=True)


if __name__ == "__main__":
    main()
