"""Which score should the stacked-ranVGG search select by, and how many iterations does it need?

For several conv layers (earlier layers fixed at the k = 0 draw), K candidate draws are scored
on a reference image by (a) pixel RMSE and (b) normalized feature error of the reconstruction
from the layer's ReLU, at several iteration counts, and each candidate's pixel RMSE on held-out
photographs is measured too. A good selector's pick has a low held-out error (small regret to
the held-out best) and its ranking agrees with the held-out ranking (Spearman).

    PYTHONPATH=src python benchmarks/stacking_selector.py OUT.json [size] [iters] [device]
    PYTHONPATH=src python benchmarks/stacking_selector.py --analyze OUT.json
"""
from __future__ import annotations

import json
import math
import sys
import time

import torch

from ranvis.io.images import sample
from ranvis.nets import get_arch
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.objectives.metrics import feature_error, l2_distance
from ranvis.tasks import invert
from ranvis.tasks.stacking import candidate_seed, draw_weights

VGG19 = get_arch("vgg19")
WEIGHTED = VGG19.weighted()

LAYERS = ["conv2_2", "conv3_4", "conv4_4", "conv5_4"]  # shallower layers invert almost exactly
REFERENCE = "chelsea"
HELD_OUT = ["astronaut", "coffee"]
K = 5
CHECKPOINTS = [25, 50, 100]


def one(net: Net, rep: str, img: torch.Tensor, iters: int, device: str) -> dict[str, dict]:
    """Pixel RMSE and feature error of the iterate at each checkpoint."""
    snaps: dict[int, torch.Tensor] = {}

    def cb(step):  # noqa: ANN001
        if step.i + 1 in CHECKPOINTS:
            snaps[step.i + 1] = step.image.clone()

    invert(img, rep, net=net, iters=iters, seed=0, device=device, callbacks=[cb])
    with torch.no_grad():
        f0 = net(img.to(device), [rep])[rep]
        out = {"rmse": {}, "ferr": {}}
        for it, x in snaps.items():
            out["rmse"][it] = l2_distance(x, img) / math.sqrt(img.numel())
            out["ferr"][it] = feature_error(net(x.to(device), [rep])[rep], f0)
    return out


def main() -> None:
    torch.set_num_threads(1)
    path = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    iters = int(sys.argv[3]) if len(sys.argv) > 3 else max(CHECKPOINTS)
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    imgs = {n: sample(n, size) for n in [REFERENCE, *HELD_OUT]}
    net = Net(NetSpec({n: candidate_seed(0, i, 0) for i, n in enumerate(WEIGHTED)}), device)
    draw = draw_weights(VGG19, "paper", 0.015)
    results = []
    for name in LAYERS:
        pos = WEIGHTED.index(name)
        for k in range(K):
            seed = candidate_seed(0, pos, k)
            net.set_weights(name, *draw(name, k, seed))
            t0 = time.perf_counter()
            row = {"layer": name, "k": k, "seed": seed}
            for img_name, img in imgs.items():
                row[img_name] = one(net, VGG19.representation(name), img, iters, device)
            row["seconds"] = time.perf_counter() - t0
            results.append(row)
            print(name, k, round(row["seconds"], 1), {n: row[n]["rmse"][iters] for n in imgs},
                  flush=True)
            with open(path, "w") as f:
                json.dump({"size": size, "iters": iters, "results": results}, f)
        net.set_weights(name, *draw(name, 0, candidate_seed(0, pos, 0)))


def _spearman(a: list[float], b: list[float]) -> float:
    import numpy as np

    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def analyze(path: str) -> None:
    """Per layer and checkpoint: held-out RMSE of each selector's pick, regret, rank agreement."""
    import numpy as np

    data = json.load(open(path))
    rows, held = data["results"], HELD_OUT
    print("layer    it  mean-all  pick-rmse  pick-ferr  best  rho(rmse) rho(ferr) same-pick-as-final")
    for name in dict.fromkeys(r["layer"] for r in rows):
        rs = [r for r in rows if r["layer"] == name]
        final = str(data["iters"])
        out = [float(np.mean([r[h]["rmse"][final] for h in held])) for r in rs]
        pick_final = int(np.argmin([r[REFERENCE]["rmse"][final] for r in rs]))
        for it in map(str, CHECKPOINTS):
            ref_rmse = [r[REFERENCE]["rmse"][it] for r in rs]
            ref_ferr = [r[REFERENCE]["ferr"][it] for r in rs]
            pr, pf = int(np.argmin(ref_rmse)), int(np.argmin(ref_ferr))
            print(f"{name:8s} {it:>3s}  {np.mean(out):.5f}   {out[pr]:.5f}    {out[pf]:.5f}  "
                  f"{min(out):.5f}  {_spearman(ref_rmse, out):+.2f}     {_spearman(ref_ferr, out):+.2f}"
                  f"      {pr == pick_final}")


if __name__ == "__main__":
    if sys.argv[1] == "--analyze":
        analyze(sys.argv[2])
    else:
        main()
