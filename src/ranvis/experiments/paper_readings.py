"""Which reading of eq. 9 lets the paper's α:β:γ = 100:1:1000 show the style? (issue 28, item 4)

Runs held-out content/style pairs under readings of eq. 9 (``CONFIGS``: how ω, µ_l are measured,
whether TV is the plain sum or the per-pixel mean, the start, the content tap) with
style_readings.run_one (one scale, zero padding, one random VGG-19, L-BFGS) and scores each with
style_quality's judge (luminance SSIM to the photo, judge Gram distance d to the style) and the
fine-texture energy of the luminance (experiments.stationarity.high_pass_bands at σ = 0.7, 1.4,
2.8 px), as the log distance of the result's band energies from the style's over the photo's:

    t = Σ_σ |log E_σ(result) − log E_σ(style)| / max(Σ_σ |log E_σ(photo) − log E_σ(style)|, 3 log 1.5)

(1: the photo's fine texture, 0: the style's).

    python -m ranvis.experiments.paper_readings OUT --images DIR --pairs path:leopard,kite:starfield
           [--configs a,b] [--size 128] [--iters 300]
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import torch

from ranvis.experiments.stationarity import high_pass_bands
from ranvis.experiments.style_readings import PAPER, run_one
from ranvis.io.images import load, save
from ranvis.io.record import atomic_write

#: name -> (factor reading of style_readings.readings, α:β:γ, TV reading, start, content tap)
CONFIGS: dict[str, tuple[str, tuple[float, float, float], str, str, str | None]] = {
    "today": ("paper", PAPER, "sum", "noise", None),
    "tv_mean": ("paper", PAPER, "mean", "noise", None),
    "tv_mean_start_factors": ("start", PAPER, "mean", "noise", None),
    "tv_mean_style_start": ("paper", PAPER, "mean", "style", None),
    "tv_sum_style_start": ("paper", PAPER, "sum", "style", None),
    "tv_mean_conv4_2": ("paper", PAPER, "mean", "noise", "conv4_2"),
    "swapped_tv_mean": ("paper", (1.0, 100.0, 1000.0), "mean", "noise", None),
    "swapped_tv_mean_content_start": ("paper", (1.0, 100.0, 1000.0), "mean", "content", None),
    # α:β between the printed 100:1 and the swapped 1:100 (third round)
    "ratio_10_1_tv_mean": ("paper", (10.0, 1.0, 1000.0), "mean", "noise", None),
    "ratio_1_1_tv_mean": ("paper", (1.0, 1.0, 1000.0), "mean", "noise", None),
    "ratio_1_10_tv_mean": ("paper", (1.0, 10.0, 1000.0), "mean", "noise", None),
    # every term's input gradient rescaled to mean |g| = 1 at every evaluation (fourth round)
    "dynamic_tv_mean": ("dynamic", PAPER, "mean", "noise", None),
}


def band_energy(img: torch.Tensor) -> torch.Tensor:
    """Std of each high-pass band of the luminance over the whole image: [3] float64."""
    return high_pass_bands(img).flatten(1).std(dim=1)


def texture_score(result: torch.Tensor, photo: torch.Tensor, style: torch.Tensor) -> float:
    """t of the module doc: 0 = the style's fine-texture energy, 1 = the photo's."""
    def dist(a: torch.Tensor) -> float:
        return float((band_energy(a).log() - band_energy(style).log()).abs().sum())

    return dist(result) / max(dist(photo), 3 * math.log(1.5))


def _image(images: Path, name: str, size: int) -> torch.Tensor:
    """NAME under ``images``: photos/NAME.jpg, else styles/NAME.png (the held-out set's layout)."""
    p = images / "photos" / f"{name}.jpg"
    return load(p if p.exists() else images / "styles" / f"{name}.png", size)


def run(out: Path, images: Path, pairs: list[tuple[str, str]], configs: list[str],
        size: int = 128, iters: int = 300, net: str = "random") -> dict[str, Any]:
    """Every pair under every config; images, JSON after each run, a table row printed."""
    from ranvis.io.images import resize
    from ranvis.objectives.judges import judge_net
    from ranvis.tasks import make_net

    out.mkdir(parents=True, exist_ok=True)
    model, judge = make_net(net), judge_net()  # random: seed 0; stacked: the ranVGG
    rows: list[dict[str, Any]] = []
    for c, s in pairs:
        xc = _image(images, c, size)
        xs = resize(_image(images, s, size), (xc.shape[-1], xc.shape[-2]))
        for name in configs:
            reading, ratio, tv, init, cl = CONFIGS[name]
            img, sc = run_one(model, judge, xc, xs, reading, ratio, tv, iters, init=init,
                              content_layer=cl)
            save(img, out / f"{c}-{s}-{name}.png")
            row = {"content": c, "style": s, "config": name, **sc,
                   "texture": round(texture_score(img, xc, xs), 3)}
            rows.append(row)
            print(json.dumps(row), flush=True)
            text = json.dumps({"size": size, "iters": iters, "net": net, "rows": rows}, indent=1)
            atomic_write(out / "paper_readings.json", lambda p, text=text: p.write_text(text))
    return {"rows": rows}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m ranvis.experiments.paper_readings",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--images", type=Path, required=True,
                    help="folder with photos/NAME.jpg and styles/NAME.png")
    ap.add_argument("--pairs", default="path:leopard", help="photo:style,...")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--net", default="random", help="random (seed 0) or stacked (the ranVGG)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    pairs = [(c, s) for c, s in (p.split(":") for p in a.pairs.split(","))]
    run(a.out, a.images, pairs, a.configs.split(","), a.size, a.iters, a.net)


if __name__ == "__main__":
    main()
