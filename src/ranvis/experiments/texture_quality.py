"""Texture quality judged by a network the synthesis did not use (issue 5, "Quality"): the
independent judge of objectives.judges, the Gram distance d(x, source) per layer and its mean.

Sources are textures that are not files of this repository: scikit-image's brick, grass and
gravel, and fixed crops of other scikit-image photos (``CROPS``; chosen by eye for texture-like
content before any synthesis was run, never tuned afterwards).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ranvis import defaults as D
from ranvis.io.images import from_pil, resize, sample
from ranvis.nets import get_arch
from ranvis.objectives.judges import JUDGE_LAYERS, JUDGE_POOL, JUDGE_SEED, gram_distances, judge_net
from ranvis.tasks import make_net, noise, resolve_device, synthesize_texture

ARCH = get_arch(D.ARCH)  # synthesis and judge: the paper's VGG-19

#: name -> (scikit-image function, (y0, y1, x0, x1) crop in the original pixels, description)
CROPS: dict[str, tuple[str, tuple[int, int, int, int], str]] = {
    "coffee_wood": ("coffee", (0, 128, 472, 600), "wooden table, top-right corner of coffee"),
    "camera_grass": ("camera", (330, 458, 384, 512), "lawn right of the tripod in camera"),
    "ihc_tissue": ("immunohistochemistry", (256, 512, 256, 512), "stained tissue, lower right"),
    "hubble_field": ("hubble_deep_field", (300, 556, 300, 556), "galaxies, centre of the field"),
    "chelsea_fur": ("chelsea", (150, 300, 20, 170), "cat fur and whiskers, left of chelsea"),
}
SOURCES = ("brick", "grass", "gravel", *CROPS)

#: variant -> (layers, weights): what the quality table compares besides the start noise.
VARIANTS: dict[str, tuple[tuple[str, ...], str]] = {
    "equal": (ARCH.presets.texture, "equal"),
    "auto": (ARCH.presets.texture, "auto"),
    "auto_relu": (tuple(ARCH.representation(n) for n in ARCH.presets.texture), "auto"),
}


def texture_source(name: str, size: int) -> torch.Tensor:
    """Source texture ``name`` (a key of CROPS or brick|grass|gravel) as [1,3,size,size]."""
    if name not in CROPS:
        return resize(sample(name), (size, size))
    import skimage.data
    from PIL import Image

    fn, (y0, y1, x0, x1), _ = CROPS[name]
    arr = np.asarray(getattr(skimage.data, fn)())[y0:y1, x0:x1]
    return resize(from_pil(Image.fromarray(arr)), (size, size))


def _grid(path: Path, images: dict[str, dict[str, torch.Tensor]], dist: dict[str, dict[str, float]],
          cols: Sequence[str]) -> None:
    """Rows = sources, columns = source + cols; each cell titled with its judge distance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(images)
    fig, axes = plt.subplots(len(rows), len(cols) + 1, squeeze=False,
                             figsize=(1.7 * (len(cols) + 1), 1.8 * len(rows)), dpi=110)
    for r, name in enumerate(rows):
        for c, col in enumerate(["source", *cols]):
            ax = axes[r][c]
            ax.imshow(images[name][col][0].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
            ax.set_xticks([]), ax.set_yticks([])
            d = "" if col == "source" else f"d={dist[name][col]:.3f}"
            ax.set_title(f"{col}\n{d}" if r == 0 else d, fontsize=7)
            if c == 0:
                ax.set_ylabel(name, fontsize=7)
    fig.suptitle("texture quality: independent-net Gram distance d (lower is closer)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _verdict(dist: dict[str, dict[str, float]], mean: dict[str, float], sources: list[str],
             cols: list[str]) -> tuple[dict[str, int], str]:
    """How often ``auto`` is closer than each other column, and the sentence that says it."""
    wins = ({v: sum(dist[n]["auto"] < dist[n][v] for n in sources) for v in cols if v != "auto"}
            if "auto" in cols else {})
    verdict = (f"Mean independent-net distance over {len(sources)} sources: "
               + ", ".join(f"{k} {mean[k]:.3f}" for k in cols)
               + (f"; auto is closer than noise on {wins.get('noise', 0)}/{len(sources)} and "
                  f"closer than equal on {wins.get('equal', 0)}/{len(sources)} sources."
                  if "auto" in cols else "."))
    return wins, verdict


def run(out_dir: Path, quick: bool = True, size: int | None = None, iters: int | None = None,
        sources: Sequence[str] | None = None, variants: Sequence[str] = tuple(VARIANTS),
        device: str = "auto", seed: int = 0) -> dict[str, Any]:
    """Synthesize every source with every variant; judge start noise and results (module doc).

    quick: 64 px, 100 iterations, 3 sources; full: 128 px, 300 iterations, all SOURCES.
    ``seed`` seeds the white-noise start; the synthesis net is the seed-0 random VGG-19.
    """
    t0 = time.perf_counter()
    size = size or (64 if quick else 128)
    iters = iters or (100 if quick else D.ITERS)
    sources = list(sources or (SOURCES[:3] if quick else SOURCES))
    dev = resolve_device(device)
    judge, net = judge_net(dev), make_net("random", device=dev)  # synthesis net: seed 0, avg
    images: dict[str, dict[str, torch.Tensor]] = {}
    dist: dict[str, dict[str, float]] = {}
    per_layer: dict[str, dict[str, dict[str, float]]] = {}
    own: dict[str, dict[str, dict[str, float]]] = {n: {} for n in sources}  # synthesis net's view
    for name in sources:
        src = texture_source(name, size)
        images[name] = {"source": src, "noise": noise(size, size, seed)}
        for v in variants:
            layers, weights = VARIANTS[v]
            r = synthesize_texture(src, layers, iters=iters, weights=weights, net=net,
                                   seed=seed, device=str(dev))
            images[name][v] = r.image
            own[name][v] = {"final_loss": r.record["loss"][-1], **r.record["metrics"]["gram_error"]}
        per_layer[name] = {k: gram_distances(judge, images[name][k], src)
                           for k in ["noise", *variants]}
        dist[name] = {k: d["mean"] for k, d in per_layer[name].items()}
    cols = ["noise", *variants]
    mean = {k: float(np.mean([dist[n][k] for n in sources])) for k in cols}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _grid(out_dir / "texture_quality.png", images, dist, cols)
    wins, verdict = _verdict(dist, mean, sources, cols)
    return {"title": "Texture quality by an independent random VGG-19 (issue 5)",
            "figures": ["texture_quality.png"],
            "numbers": {"distance": dist, "mean": mean, "auto_wins": wins, "per_layer": per_layer,
                        "synthesis_gram_error": own},
            "settings": {"size": size, "iters": iters, "sources": sources,
                         "variants": {v: list(VARIANTS[v][0]) + [VARIANTS[v][1]] for v in variants},
                         "judge": {"seed": JUDGE_SEED, "pool": JUDGE_POOL,
                                   "layers": list(JUDGE_LAYERS)},
                         "crops": {k: CROPS[k] for k in sources if k in CROPS},
                         "seed": seed, "device": str(dev)},
            "seconds": round(time.perf_counter() - t0, 2), "verdict": verdict}
