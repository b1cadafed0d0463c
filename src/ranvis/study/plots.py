"""The study's plots (matplotlib, Agg, written atomically), one or two per task:

* inversion: ``TASK-depth.png``, PSNR and SSIM against stride (or tap), one line per network,
  the band = mean ± std over images and seeds; ``TASK-box.png``, box plots of PSNR per network
  at each depth, as the paper's Figure 3 (box: quartiles, whiskers: min–max, triangle: mean);
* texture: ``TASK-box.png``, judge distance per network (boxes) and its diversity;
* style: ``TASK-box.png``, content SSIM and judge style distance per network.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ranvis.io.figures import pyplot, save_figure
from ranvis.study.table import values


def _archs(rs: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(r["arch"] for r in rs))


def _depths(rs: list[dict[str, Any]], by: str) -> list[Any]:
    return sorted({r[by] for r in rs}, key=lambda d: (isinstance(d, str), d))


def _boxes(ax: Any, data: list[np.ndarray], labels: list[str], ylabel: str) -> None:
    keep = [(d, la) for d, la in zip(data, labels, strict=True) if d.size]
    if not keep:
        return
    ax.boxplot([d for d, _ in keep], whis=(0, 100), showmeans=True,
               medianprops={"color": "black"})
    ax.set_xticks(range(1, len(keep) + 1), [la for _, la in keep], rotation=40, ha="right",
                  fontsize=7)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.grid(alpha=0.3, axis="y", lw=0.4)


def invert_depth(path: Path, rs: list[dict[str, Any]], by: str, title: str) -> None:
    """PSNR and SSIM against depth, a line and a ±std band per network."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    depths = _depths(rs, by)
    xs = np.arange(len(depths))
    for arch in _archs(rs):
        for ax, key in zip(axes, ("psnr", "ssim"), strict=True):
            m, s, x = [], [], []
            for i, d in enumerate(depths):
                v = values([r for r in rs if r["arch"] == arch and r[by] == d], key)
                if v.size:
                    x.append(xs[i]), m.append(v.mean()), s.append(v.std())
            if x:
                line, = ax.plot(x, m, marker="o", ms=3, lw=1.2, label=arch)
                ax.fill_between(x, np.subtract(m, s), np.add(m, s), alpha=0.15,
                                color=line.get_color())
    for ax, label in zip(axes, ("PSNR (dB)", "SSIM"), strict=True):
        ax.set_xticks(xs, [str(d) for d in depths])
        ax.set_xlabel(by)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, lw=0.4)
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"{title}: mean ± std over images and seeds", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def invert_boxes(path: Path, rs: list[dict[str, Any]], by: str, title: str) -> None:
    """One panel per depth: PSNR per network as box plots (Figure 3's form)."""
    plt = pyplot()
    depths = _depths(rs, by)
    fig, axes = plt.subplots(1, len(depths), figsize=(3.6 * len(depths) + 1, 4), dpi=100,
                             squeeze=False)
    for ax, d in zip(axes[0], depths, strict=True):
        at = [r for r in rs if r[by] == d]
        archs = _archs(at)
        _boxes(ax, [values([r for r in at if r["arch"] == a], "psnr") for a in archs], archs,
               "PSNR (dB)")
        ax.set_title(f"{by} {d}", fontsize=9)
    fig.suptitle(f"{title} (box: quartiles, whiskers: min-max, triangle: mean)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def texture_boxes(path: Path, rs: list[dict[str, Any]], board: list[dict[str, Any]],
                  title: str) -> None:
    """Judge distance per network (boxes, noise start's mean dashed) and diversity (bars)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    archs = [e["arch"] for e in board]
    _boxes(axes[0], [values([r for r in rs if r["arch"] == a], "judge_distance") for a in archs],
           archs, "judge Gram distance to the source")
    noise = values(rs, "judge_distance_noise")
    if noise.size:
        axes[0].axhline(noise.mean(), ls="--", lw=0.8, color="gray", label="noise start")
        axes[0].legend(fontsize=7)
    axes[1].bar(range(len(archs)), [e["diversity"] for e in board], color="tab:green",
                alpha=0.7)
    axes[1].set_xticks(range(len(archs)), archs, rotation=40, ha="right", fontsize=7)
    axes[1].set_ylabel("diversity: RMS difference between seeds", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def style_boxes(path: Path, rs: list[dict[str, Any]], title: str) -> None:
    """Content SSIM (layout kept) and judge style distance (style taken) per network."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), dpi=100)
    archs = _archs(rs)
    for ax, key, label in ((axes[0], "ssim", "luminance SSIM to the content (higher keeps)"),
                           (axes[1], "d", "judge Gram distance to the style (lower takes)")):
        _boxes(ax, [values([r for r in rs if r["arch"] == a], key) for a in archs], archs, label)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
