"""The independent judge: scores that a network the optimization never used gives a result.

A random VGG-19 with another seed (``JUDGE_SEED``) and max pooling instead of the synthesis
net's average pooling reads the rectified maps ``JUDGE_LAYERS`` (relu1_1 … relu5_1). For a
result x and a reference s, per judge layer, with Ĝ = G/M (eq. 6's Gram matrix per position):

    d_l(x, s) = ‖Ĝ_l(x) − Ĝ_l(s)‖_F / ‖Ĝ_l(s)‖_F,      d(x, s) = mean over the judge layers.

Because the net is ReLU/pool with zero biases, Ĝ_l scales as σ^(2·depth) and d_l does not depend
on σ at all: a different σ would *not* make an independent judge, hence another seed and pooling.
The judge reads rectified maps: any conv1_1 with ≥ 27 filters spans the whole space of 3×3×3
patches, so matching the synthesis net's conv1_1 Gram matrix also matches the judge's conv1_1
Gram matrix exactly; a judge at conv1_1 would not be independent.

Used by the texture and style experiments (experiments/) and the study scores (study/judges).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ranvis import defaults as D
from ranvis.io.images import luminance, resize
from ranvis.nets import get_arch
from ranvis.nets.base import FrozenNet
from ranvis.nets.build import build_net
from ranvis.nets.spec import NetSpec
from ranvis.objectives.losses import gram

JUDGE_SEED = 7  # our choice: any seed but the synthesis net's (0)
JUDGE_POOL = "max"  # the synthesis net averages (paper §2); the judge takes the maximum
JUDGE_LAYERS = get_arch(D.ARCH).presets.judge  # the paper's VGG-19: relu1_1 .. relu5_1


def judge_net(device: str | torch.device = "cpu") -> FrozenNet:
    """The independent judge: random VGG-19, seed JUDGE_SEED, max pooling, paper σ."""
    return build_net(NetSpec.random(JUDGE_SEED, arch=D.ARCH, pool=JUDGE_POOL), device)


@torch.no_grad()
def gram_distances(net: FrozenNet, x: torch.Tensor, ref: torch.Tensor,
                   layers: Sequence[str] = JUDGE_LAYERS) -> dict[str, float]:
    """{layer: d_l(x, ref)} (module doc), plus "mean" over ``layers``.

    ``x`` and ``ref`` are [1,3,H,W] in [0,1]; their sizes may differ.
    """
    fx, fs = net(x.to(net.device), list(layers)), net(ref.to(net.device), list(layers))
    out: dict[str, float] = {}
    for n in layers:
        gx = gram(fx[n]).double() / (fx[n].shape[2] * fx[n].shape[3])
        gs = gram(fs[n]).double() / (fs[n].shape[2] * fs[n].shape[3])
        out[n] = float((gx - gs).norm() / gs.norm().clamp_min(1e-300))
    out["mean"] = float(np.mean([out[n] for n in layers]))
    return out


def gram_distance(net: FrozenNet, x: torch.Tensor, ref: torch.Tensor,
                  layers: Sequence[str] = JUDGE_LAYERS) -> float:
    """d(x, ref): the mean over ``layers`` of :func:`gram_distances`."""
    return gram_distances(net, x, ref, layers)["mean"]


def luminance_ssim(x: torch.Tensor, ref: torch.Tensor) -> float:
    """SSIM between the Y channels of ``x`` and ``ref`` (resized to ``x``), data range 1."""
    from skimage.metrics import structural_similarity

    ref = resize(ref, (x.shape[-1], x.shape[-2]))
    a = luminance(x.detach().cpu().float())[0, 0].double().numpy()
    b = luminance(ref.detach().cpu().float())[0, 0].double().numpy()
    win = min(7, *a.shape) - (1 - min(7, *a.shape) % 2)
    return float(structural_similarity(b, a, data_range=1.0, win_size=max(win, 3)))


def style_score(judge: FrozenNet, result: torch.Tensor, content: torch.Tensor,
                style: torch.Tensor) -> dict[str, float]:
    """A style transfer's numbers: ``ssim`` (the result's luminance against the content's),
    ``d`` (the result's Gram distance to the style), and the same for the content itself
    (``d_content``) and for the style resized to the content (``ssim_style``): a transfer keeps
    the layout (ssim well above ssim_style) and takes the style (d well below d_content)."""
    h, w = content.shape[-2:]
    s_resized = resize(style, (w, h))
    return {"ssim": luminance_ssim(result, content), "d": gram_distance(judge, result, style),
            "d_content": gram_distance(judge, content, style),
            "ssim_style": luminance_ssim(s_resized, content)}
