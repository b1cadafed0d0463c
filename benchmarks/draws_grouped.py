"""The ``best`` inversion's K random draws: K separate passes against one grouped pass (issue 29,
item 3).

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/draws_grouped.py --image DIR/path.jpg \\
        --layers pool3,pool5 --size 128 --nets 4 --repeats 5

One evaluation of the objective ``invert --preset best`` builds (eq. 1 at the layer, averaged over
``--nets`` draws of VGG-19), forward and backward to the image, computed three ways, alternating
within each repeat so that a change of load hits all of them:

* ``separate``: what ranvis runs (objectives.terms.Ensemble: K forward passes, one per draw);
* ``grouped``: one pass through a network K times as wide whose first convolution concatenates
  the K draws' filters (the image is shared) and whose later ones are grouped convolutions
  (``groups=K``: draw k's channels see only draw k's), the features split back into K;
* ``grouped-nchw``: the same in contiguous (NCHW) memory instead of channels-last.

Prints the loss of each way (they must agree: the same function) and the process CPU seconds
per evaluation, median of ``--repeats`` after one warm-up each, on ``--device`` (CPU by default;
CUDA timings synchronize the device).
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ranvis.io.images import center_square, load
from ranvis.objectives.terms import Ensemble
from ranvis.tasks.common import make_nets
from ranvis.tasks.inversion import Priors, _objective


def grouped_loss(obj: Ensemble, layer: str, channels_last: bool
                 ) -> Callable[[torch.Tensor], torch.Tensor]:
    """The Ensemble ``obj`` (one content term at ``layer`` per member, VGG, zero padding) as one
    grouped pass: x ``[1, 3, H, W]`` → the same scalar loss."""
    nets = [m.net for m in obj.members]
    k = len(nets)
    net = nets[0]
    upto = net.layers[: net.index[layer].index + 1]
    weights = {}
    for la in upto:
        if la.kind == "conv":
            ws, bs = zip(*(n.layer_weights(la.name) for n in nets), strict=True)
            weights[la.name] = (torch.cat(ws).to(net.device), torch.cat(bs).to(net.device))
    fmt = torch.channels_last if channels_last else torch.contiguous_format

    def loss(x: torch.Tensor) -> torch.Tensor:
        h = net.preprocess(x).contiguous(memory_format=fmt)
        for i, la in enumerate(upto):
            if la.kind == "conv":
                h = F.conv2d(h, *weights[la.name], padding=1, groups=1 if i == 0 else k)
            elif la.kind == "relu":
                h = F.relu(h)
            else:
                h = F.avg_pool2d(h, 2) if net.spec.pool == "avg" else F.max_pool2d(h, 2)
        parts = h.chunk(k, dim=1)
        return sum(m.terms[0].value(f) for m, f in zip(obj.members, parts, strict=True)) / k

    return loss


def seconds(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, device: str
            ) -> tuple[float, float]:
    """(CPU seconds of one forward+backward of ``fn`` at ``x``, the loss)."""
    if device != "cpu":
        torch.cuda.synchronize()
    t = time.process_time() if device == "cpu" else time.perf_counter()
    value = fn(x)
    value.backward()
    if device != "cpu":
        torch.cuda.synchronize()
    x.grad = None
    return (time.process_time() if device == "cpu" else time.perf_counter()) - t, float(value.detach())


def compare(img: torch.Tensor, layer: str, nets: int, repeats: int, device: str) -> None:
    """Time the three ways at ``layer`` and print one table row."""
    obj, _ = _objective(make_nets(nets, device=device), img, [layer], {}, Priors(),
                        torch.float32)
    ways = {"separate": lambda x: obj(x)[0], "grouped": grouped_loss(obj, layer, True),
            "grouped-nchw": grouped_loss(obj, layer, False)}
    x = torch.rand(1, 3, *img.shape[-2:], device=device, requires_grad=True)
    losses = {n: seconds(f, x, device)[1] for n, f in ways.items()}  # warm-up
    times: dict[str, list[float]] = {n: [] for n in ways}
    for _ in range(repeats):
        for n, f in ways.items():
            times[n].append(seconds(f, x, device)[0])
    med = {n: statistics.median(t) for n, t in times.items()}
    agree = max(abs(v - losses["separate"]) for v in losses.values()) / abs(losses["separate"])
    print(f"| {layer} | {nets} | " + " | ".join(f"{med[n]:.3f}" for n in ways)
          + f" | {med['separate'] / min(med['grouped'], med['grouped-nchw']):.2f} "
          f"| {agree:.1e} |", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", default="sample:chelsea")
    p.add_argument("--layers", default="pool3,pool5")
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--nets", type=int, default=4)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    torch.set_num_threads(1)
    img = center_square(load(a.image), a.size).to(a.device)
    print(f"{a.size} px, {a.device} ({torch.backends.cpu.get_cpu_capability()}), seconds per "
          f"evaluation, median of {a.repeats}")
    print("| layer | draws | separate | grouped | grouped-nchw | separate/best grouped "
          "| loss rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for layer in a.layers.split(","):
        compare(img, layer, a.nets, a.repeats, a.device)


if __name__ == "__main__":
    main()
