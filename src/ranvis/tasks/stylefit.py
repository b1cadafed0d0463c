"""How a style image is fitted to the output before a transfer: a small seamless pattern is
tiled at its own scale; anything else is resized (issue 28).

A style image smaller than the output is usually a pattern tile (GIMP's 58 patterns are 20–160
px, made to repeat seamlessly). Resizing it to the output (what ranvis did before) magnifies its
texture: a 50 px chocolate swirl becomes 2.6x larger swirls, a 64 px weave a blurred weave, and
the fine structure the user chose the pattern for (a star field's single-pixel stars) turns into
soft blobs that the network's finest taps no longer see. What a user expects is the pattern at
its own scale repeated over the picture, as an image editor's pattern fill does. A photograph
smaller than the output is not a tile (its borders do not meet), and repeating it would add
seams, so it is still resized. Seamless means the wrap-around differences (first column against
last, first row against last) are no larger than :data:`SEAM_LIMIT` times the image's own mean
squared neighbour difference: 53 of the 58 GIMP patterns measure 0.0–4.9, two 7.6 and 8.7,
three whose border rows differ 12–70; the 30 Debian photographs tried 14–6234 (one flat
gradient 0.8, larger than any output tried, so resized anyway).
"""
from __future__ import annotations

import torch

from ranvis.io.images import resize
from ranvis.objectives.metrics import band_energies
from ranvis.objectives.terms import lowpass
from ranvis.optim.starts import perturb_start

SEAM_LIMIT = 10.0


def seam_ratio(img: torch.Tensor) -> float:
    """max over the two axes of mean(Δ_wrap²) / mean(Δ_neighbour²) for ``img`` [1, 3, H, W]:
    about 1 for a seamless tile, ≫ 1 for a picture whose opposite borders differ; inf for an
    image with no neighbour differences along an axis but a seam."""
    x = img.detach().double()
    out = 0.0
    for dim in (-1, -2):
        inner = x.diff(dim=dim).pow(2).mean()
        wrap = (x.select(dim, 0) - x.select(dim, -1)).pow(2).mean()
        if wrap > 0:
            out = max(out, float(wrap / inner) if inner > 0 else float("inf"))
    return out


def is_tile(img: torch.Tensor) -> bool:
    """Whether ``img`` repeats without a visible seam (:func:`seam_ratio` ≤ SEAM_LIMIT)."""
    return seam_ratio(img) <= SEAM_LIMIT


def tile(img: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """``img`` [1, 3, h, w] repeated periodically over a ``width`` × ``height`` canvas, from the
    top-left corner, at its own scale."""
    h, w = img.shape[-2:]
    reps = (-(-height // h), -(-width // w))
    return img.repeat(1, 1, *reps)[..., :height, :width].contiguous()


def fitted_size(style: torch.Tensor, width: int, height: int) -> tuple[int, int]:
    """(H, W) that :func:`fit_style` gives ``style`` for this canvas, without making it (the
    CLI checks memory first)."""
    h, w = style.shape[-2:]
    if max(h, w) < max(width, height) and is_tile(style):
        return height, width
    side = max(width, height)
    return max(1, round(h * side / max(h, w))), max(1, round(w * side / max(h, w)))


def fit_style(style: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """The style image for an output of ``width`` × ``height`` (already times --style-scale):
    a seamless tile whose longer side is shorter than the canvas's is repeated over it at its
    own scale (cropped where it overhangs); anything else is resized to the canvas's longer
    side (images.resize, aspect kept)."""
    if max(style.shape[-2:]) < max(width, height) and is_tile(style):
        return tile(style, width, height)
    return resize(style, max(width, height))


def style_energy_std(x: torch.Tensor, style: torch.Tensor, kind: str, seed: int) -> float:
    """The noise std that gives the start ``x`` [1, 3, H, W] the finest high-pass band energy of
    ``style`` (metrics.band_energies, σ = 0.7 px at 128 px): std = √(E_s² − E_x²) / E_n, E_n
    the band energy of the unit perturbation ``kind`` (optim.starts.perturb_start; independent
    noise adds in energy); 0 when the start has at least the style's. The colour-matched photo
    of a dark, sparse style (a star field) has a fifth of the style's fine-texture energy; this
    start begins with all of it (measured, not in ``best``: benchmarks/README.md)."""
    e_s, e_x = band_energies(style)[0], band_energies(x)[0]
    if e_x >= e_s:
        return 0.0
    unit = perturb_start(torch.zeros_like(x.cpu()), kind, 1.0, seed)  # zero image + noise
    e_n = band_energies((unit * 0.01 + 0.5).clamp(0, 1))[0] / 0.01
    return float((e_s**2 - e_x**2) ** 0.5 / e_n)


def style_detail(style: torch.Tensor, height: int, width: int, sigma: float,
                 seed: int) -> torch.Tensor:
    """The style's finest detail laid over a ``height`` × ``width`` canvas: d = s − G_σ(s)
    (objectives.terms.lowpass, per channel) of ``style`` [1, 3, h, w], repeated periodically
    and cut at a seeded offset; ``[1, 3, height, width]``, zero-mean per channel where the
    style is, zero for a flat style.

    What the ``best`` recipe adds to its content target (issue 28, item 3): with a flat photo
    region as the target, the content term (a stride-4 tap) penalizes every change that its
    pooled features see, i.e. the low frequencies of any texture; the style terms then put the
    variance they ask for at the highest frequencies left, and the result is a regular dot
    lattice over flat areas (experiments.grid.lattice 0.27–0.35 where the style reads 0.02–0.07)
    with a star field's stars absent. With the style's own fine band in the target, its
    irregular detail (stars, veins) is what the content term asks for there."""
    d = style - lowpass(style, sigma)
    h, w = d.shape[-2:]
    d = d.repeat(1, 1, -(-height // h) + 1, -(-width // w) + 1)
    g = torch.Generator().manual_seed(seed)
    oy = int(torch.randint(0, d.shape[-2] - height + 1, (1,), generator=g))
    ox = int(torch.randint(0, d.shape[-1] - width + 1, (1,), generator=g))
    return d[..., oy:oy + height, ox:ox + width].contiguous()
