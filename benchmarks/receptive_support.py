"""The receptive field measured: the rows of input pixels that one unit's gradient reaches.

    OMP_NUM_THREADS=1 python benchmarks/receptive_support.py timm:test_resnet --size 384
        [--taps s2,s4] [--init he]

For each tap: the analytic value ``Arch.receptive_field`` gives (what ``ranvis layers`` shows)
and the support of the gradient of the centre unit (all channels summed) with respect to a
random ``size`` x ``size`` input, through a network of the architecture drawn with ``init``.
The support is the receptive field where the input is large enough (side > field + stride)
and no path is cut: a squeeze-excitation gate's global mean makes it the whole input (the
analytic value leaves such gates out); a ReLU or a max pool may cut edge paths (smaller).
"""
from __future__ import annotations

import argparse

import torch


def support(arch: str, tap: str, side: int, init: str) -> tuple[int, int]:
    """(rows, columns) spanned by the centre unit's input gradient (module doc)."""
    from ranvis.tasks import make_net

    net = make_net(arch=arch, net_seed=0, weight_init=init)
    x = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0),
                   requires_grad=True)
    f = net(x, [tap])[tap]
    f[0, :, f.shape[-2] // 2, f.shape[-1] // 2].sum().backward()
    g = x.grad.abs().sum((0, 1))
    rows, cols = torch.nonzero(g.sum(1)).flatten(), torch.nonzero(g.sum(0)).flatten()
    if not len(rows):
        return 0, 0
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def main() -> None:
    from ranvis.nets import get_arch
    from ranvis.nets.arch import ReceptiveFieldUnknown

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("arch")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--taps", default=None, help="comma-separated (default: the readable list)")
    p.add_argument("--init", default="he")
    a = p.parse_args()
    arch = get_arch(a.arch)
    print(f"| {a.arch} tap | analytic (px) | gradient support at {a.size} px (rows x cols) |")
    print("|---|---|---|")
    for tap in a.taps.split(",") if a.taps else arch.default_taps():
        if not arch.tap(tap).spatial:
            continue  # a vector: the whole input
        try:
            rf: object = arch.receptive_field(tap)
        except ReceptiveFieldUnknown:
            rf = "?"
        h, w = support(a.arch, tap, a.size, a.init)
        print(f"| {tap} | {rf} | {h} x {w} |", flush=True)


if __name__ == "__main__":
    main()
