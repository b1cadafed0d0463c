"""Deep-layer inversion, photograph by photograph (issue 17's targets and report figure).

For each photograph (centre square, ``--size`` px), preset and layer, run ``invert`` and print
PSNR, SSIM, the normalized feature error, evaluations and seconds. Writes each reconstruction,
``results.json`` (after every run: an interrupted or extended run redoes nothing it has at the
same size and budget) and
``figure.png``: one row per layer, the photographs on top, ``paper`` and ``best`` side by side
under each photograph, every reconstruction captioned with its PSNR and SSIM. Photos: file stems
in ``--images`` (any extension) or scikit-image sample names. fc6–fc8 need ``--size 256``.

    python -m ranvis.experiments.deep_inversion --images DIR --photos a,b --layers pool3,pool5
    python -m ranvis.experiments.deep_inversion --layers pool1,pool2,pool3,pool4,pool5,fc6,fc7,fc8 \\
        --size 256 --device cuda --out report-figure       # the fc figure: hours on a CPU
    make readme-figure   # the README's pool1-pool5 figure, 128 px, docs/img/invert-layers.png
"""
from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

import torch
from PIL import Image

from ranvis.io.images import center_square, load, save
from ranvis.io.record import atomic_write
from ranvis.tasks import invert


def photo(name: str, folder: Path | None, size: int) -> torch.Tensor:
    """``name`` from ``folder`` (any extension) or a scikit-image sample, center ``size``² crop."""
    hits = sorted(folder.glob(name + ".*")) if folder is not None else []
    return center_square(load(str(hits[0]) if hits else "sample:" + name), size)


def run_one(img: torch.Tensor, layer: str, preset: str, iters: int | None,
            device: str) -> tuple[torch.Tensor, dict]:
    """Invert ``img`` at ``layer`` with ``preset``; the image and its scores."""
    t0 = time.perf_counter()
    run = invert(img, layer, preset=preset, iters=iters, device=device)
    m = run.record["metrics"]
    return run.image, {"psnr": m["psnr"], "ssim": m["ssim"],
                       "feature_error": m["feature_error"][layer],
                       "evaluations": run.record["iterations"],
                       "seconds": time.perf_counter() - t0}


def figure(photos: dict[str, torch.Tensor], layers: list[str], presets: list[str],
           results: dict[str, dict], folder: Path, out: Path) -> None:
    """Rows: the photographs, then one per layer; columns: each photograph's presets side by
    side. A reconstruction not (yet) in ``results`` leaves its cell empty."""
    from matplotlib.figure import Figure

    cols = [(p, s) for p in photos for s in presets]
    fig = Figure(figsize=(1.2 * len(cols) + 0.5, 1.35 * (len(layers) + 1)), dpi=100)
    axes = fig.subplots(len(layers) + 1, len(cols), squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
        ax.spines[:].set_visible(False)
    for j, (name, preset) in enumerate(cols):
        if preset == presets[0]:
            axes[0, j].imshow(photos[name][0].permute(1, 2, 0).numpy())
            axes[0, j].set_title(name, fontsize=7, pad=2)
        for i, layer in enumerate(layers, start=1):
            key = f"{name}-{layer}-{preset}"
            if key in results:
                r = results[key]
                axes[i, j].imshow(load(str(folder / f"{key}.png"))[0].permute(1, 2, 0).numpy())
                axes[i, j].set_title(f"{preset} · {r['evaluations']} evals\n"
                                     f"{r['psnr']:.1f} dB · {r['ssim']:.2f}", fontsize=6, pad=2)
            if j == 0:
                axes[i, j].set_ylabel(layer, fontsize=8)
    fig.subplots_adjust(left=0.04, right=0.995, bottom=0.005, top=0.98, wspace=0.05,
                        hspace=0.45)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write(out, lambda p: Image.open(buf).convert("RGB").save(p, format="png", optimize=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    ap.add_argument("--images", type=Path, default=None)
    ap.add_argument("--photos", default="chelsea,coffee,astronaut,rocket")
    ap.add_argument("--layers", default="pool3,pool4,pool5")
    ap.add_argument("--presets", default="paper,best")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=None, help="default: each preset's own")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    ap.add_argument("--out", type=Path, default=Path("out/deep-inversion"))
    ap.add_argument("--figure", type=Path, default=None,
                    help="also write the figure here (the README's: docs/img/invert-layers.png)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    a.out.mkdir(parents=True, exist_ok=True)
    layers, presets = a.layers.split(","), a.presets.split(",")
    photos = {n: photo(n, a.images, a.size) for n in a.photos.split(",")}
    done = a.out / "results.json"
    results = json.loads(done.read_text()) if done.exists() else {}
    print("| photo | layer | preset | PSNR dB | SSIM | feature error | evals | s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, img in photos.items():
        for preset in presets:
            for layer in layers:
                key, asked = f"{name}-{layer}-{preset}", {"size": a.size, "iters": a.iters}
                old = results.get(key, {})
                if {k: old.get(k) for k in asked} != asked or not (a.out / f"{key}.png").exists():
                    image, r = run_one(img, layer, preset, a.iters, a.device)
                    save(image, a.out / f"{key}.png")
                    results[key] = {**asked, **r}
                    atomic_write(done, lambda p: p.write_text(json.dumps(results, indent=1)))
                r = results[key]
                print(f"| {name} | {layer} | {preset} | {r['psnr']:.2f} | {r['ssim']:.3f} | "
                      f"{r['feature_error']:.2e} | {r['evaluations']} | {r['seconds']:.0f} |",
                      flush=True)
        figure(photos, layers, presets, results, a.out, a.out / "figure.png")
    if a.figure is not None:
        figure(photos, layers, presets, results, a.out, a.figure)


if __name__ == "__main__":
    main()
