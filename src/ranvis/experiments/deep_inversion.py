"""Deep-layer inversion, photograph by photograph (issue 17's targets, every photo).

For each photograph (center square, ``--size`` px) and layer, run ``invert`` with each preset
and print PSNR, SSIM, the normalized feature error, evaluations and seconds; write each result
and a grid PNG (rows: photo × preset, columns: the photo and one reconstruction per layer).
Photos: file stems in ``--images`` (any extension) or scikit-image sample names.

    python -m ranvis.experiments.deep_inversion --images DIR --photos a,b --layers pool3,pool5
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ranvis.images import center_square, load, save
from ranvis.tasks import invert


def photo(name: str, folder: Path | None, size: int) -> torch.Tensor:
    """``name`` from ``folder`` (any extension) or a scikit-image sample, center ``size``² crop."""
    hits = sorted(folder.glob(name + ".*")) if folder is not None else []
    return center_square(load(str(hits[0]) if hits else "sample:" + name), size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    ap.add_argument("--images", type=Path, default=None)
    ap.add_argument("--photos", default="chelsea,coffee,astronaut,rocket")
    ap.add_argument("--layers", default="pool3,pool4,pool5")
    ap.add_argument("--presets", default="paper,best")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("out/deep-inversion"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    layers, rows = a.layers.split(","), []
    print("| photo | layer | preset | PSNR dB | SSIM | feature error | evals | s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.photos.split(","):
        img = photo(name, a.images, a.size)
        for preset in a.presets.split(","):
            row = [img]
            for layer in layers:
                t0 = time.perf_counter()
                run = invert(img, layer, preset=preset, iters=a.iters, device="cpu")
                m = run.record["metrics"]
                print(f"| {name} | {layer} | {preset} | {m['psnr']:.2f} | {m['ssim']:.3f} | "
                      f"{m['feature_error'][layer]:.2e} | {run.record['iterations']} | "
                      f"{time.perf_counter() - t0:.0f} |", flush=True)
                save(run.image, a.out / f"{name}-{layer}-{preset}.png")
                row.append(run.image)
            rows.append(torch.cat([F.pad(x, (1, 1, 1, 1), value=1.0) for x in row], 3))
    save(torch.cat(rows, 2), a.out / "grid.png")


if __name__ == "__main__":
    main()
