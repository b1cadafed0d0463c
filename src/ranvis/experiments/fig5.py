"""Figure 5: textures on the random VGG-19 from layers up to conv1_1 … conv5_1, and the ablation.

Columns are source textures (first row: the source). Row "≤convK_1" matches the Gram matrices of
conv1_1 … convK_1 with the automatic factors µ_l (eq. 5–8), as the paper's rows 1–4 do; we add
conv5_1. The last row matches the paper's four layers with every factor 1 — Gatys et al.'s
weighting on the same random net, the ablation the paper argues from (§1: white noise). The
paper's bottom row (trained VGG) is left out: this project ships no trained weights.

Each cell is labelled with the independent-net Gram distance d to its source
(experiments/texture_quality.py; lower is closer).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ranvis import defaults as D
from ranvis.experiments.texture_quality import texture_source
from ranvis.nets import get_arch
from ranvis.objectives.judges import gram_distance, judge_net
from ranvis.tasks import make_net, resolve_device, synthesize_texture

ARCH = get_arch(D.ARCH)  # the paper's VGG-19
TOPS = ARCH.presets.style  # conv1_1 .. conv5_1: paper Fig. 5 rows, plus conv5_1
QUICK_SOURCES = ("brick", "gravel", "coffee_wood")
FULL_SOURCES = ("brick", "grass", "gravel", "coffee_wood", "ihc_tissue")  # 30 runs: ~1 h, 1 CPU


def rows() -> dict[str, tuple[list[str], str]]:
    """Row label -> (layers, weights): auto rows up to each TOPS layer, then the equal ablation."""
    out = {f"≤{t}": (list(TOPS[: TOPS.index(t) + 1]), "auto") for t in TOPS}
    out[f"equal (≤{ARCH.presets.texture[-1]})"] = (list(ARCH.presets.texture), "equal")
    return out


def _plot(path: Path, srcs: dict[str, torch.Tensor], cells: dict[str, dict[str, torch.Tensor]],
          dist: dict[str, dict[str, float]], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["source", *next(iter(cells.values()))]
    cols = list(srcs)
    fig, axes = plt.subplots(len(labels), len(cols), squeeze=False,
                             figsize=(1.6 * len(cols) + 0.8, 1.65 * len(labels)), dpi=110)
    for c, name in enumerate(cols):
        for r, label in enumerate(labels):
            img = srcs[name] if label == "source" else cells[name][label]
            ax = axes[r][c]
            ax.imshow(img[0].permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_xticks([]), ax.set_yticks([])
            if label != "source":
                ax.set_xlabel(f"d={dist[name][label]:.3f}", fontsize=7, labelpad=1)
            if r == 0:
                ax.set_title(name, fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _verdict(mean: dict[str, float]) -> str:
    """Plain comparison of the row means with the paper's claims (numbers from this run)."""
    t1, t2, t4 = TOPS[0], TOPS[1], ARCH.presets.texture[-1]
    c1, c2, c4, eq = (mean[k] for k in (f"≤{t1}", f"≤{t2}", f"≤{t4}", f"equal (≤{t4})"))
    best = min((k for k in mean if k.startswith("≤")), key=mean.__getitem__)
    grows = "falls" if c2 < c1 else "does NOT fall"
    ablation = ("farther from the sources than" if eq > c4 else "NOT farther than")
    return (f"Mean distance by row: {', '.join(f'{k} {v:.3f}' for k, v in mean.items())}. "
            f"{'As' if c2 < c1 else 'Unlike'} in the paper, where added layers organize the local "
            f"{t1} structure, the distance {grows} from {c1:.3f} ({t1}) to {c2:.3f} (≤{t2}); "
            f"lowest row: {best}. Equal weights (Gatys et al.) are {ablation} auto ≤{t4} "
            f"({eq:.3f} vs {c4:.3f}), the paper's argument for µ_l. No trained-VGG row: no "
            "trained weights ship here.")


def run(out_dir: Path, quick: bool = True, size: int | None = None, iters: int | None = None,
        sources: Sequence[str] | None = None, device: str = "auto", seed: int = 0,
        net_seed: int = 0) -> dict[str, Any]:
    """Write fig5.png (module doc). quick: 64 px, 100 iterations, QUICK_SOURCES; full: 128 px,
    300 iterations, FULL_SOURCES (any of texture_quality.SOURCES may be named). Returns the
    experiment record (brief: title, figures, numbers, settings, seconds, verdict)."""
    t0 = time.perf_counter()
    size = size or (64 if quick else 128)
    iters = iters or (100 if quick else D.ITERS)
    sources = list(sources or (QUICK_SOURCES if quick else FULL_SOURCES))
    dev = resolve_device(device)
    judge, net = judge_net(dev), make_net("random", net_seed=net_seed, device=dev)
    srcs = {n: texture_source(n, size) for n in sources}
    cells: dict[str, dict[str, torch.Tensor]] = {n: {} for n in sources}
    dist: dict[str, dict[str, float]] = {n: {} for n in sources}
    factors: dict[str, dict[str, dict[str, float]]] = {n: {} for n in sources}
    for name, src in srcs.items():
        for label, (layers, weights) in rows().items():
            r = synthesize_texture(src, layers, iters=iters, weights=weights, seed=seed,
                                   net=net, device=str(dev))
            cells[name][label] = r.image
            dist[name][label] = gram_distance(judge, r.image, src)
            factors[name][label] = r.record["factors"]
    mean = {label: float(np.mean([dist[n][label] for n in sources])) for label in rows()}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot(out_dir / "fig5.png", srcs, cells, dist,
          f"Fig. 5, random VGG-19, {size} px, {iters} iterations\n"
          "d: independent-net Gram distance to the source")
    verdict = _verdict(mean)
    return {"title": "Figure 5: texture synthesis on a random VGG-19, by top layer",
            "figures": ["fig5.png"],
            "numbers": {"distance": dist, "mean": mean, "factors": factors},
            "settings": {"size": size, "iters": iters, "sources": sources, "seed": seed,
                         "net_seed": net_seed, "rows": {k: v for k, v in rows().items()},
                         "device": str(dev)},
            "seconds": round(time.perf_counter() - t0, 2), "verdict": verdict}
