"""Scores by judges the studied networks did not make.

Per cell (computed where the cell runs):

* **inversion**: PSNR and SSIM of the reconstruction against the image (ranvis.objectives.metrics), the
  pixel distance ``l2`` = ‖x − x0‖₂ (images in [0, 1], Figure 3's measure), and the studied
  network's own normalized feature error (for reference; not independent).
* **texture**: the Gram distance to the source under the fixed judge network of
  experiments.texture_quality (random VGG-19 seed 7, max pooling; relu1_1 … relu5_1; a study
  may not contain it, study.check), the same distance for the white-noise start (the scale:
  a texture should land far below it), and the synthesis network's own Gram error.
* **style**: objectives.judges.style_score: luminance SSIM to the content (layout kept),
  judge Gram distance to the style (style taken), and both for the content and style images.

Over cells (computed by the results table, study.table):

* **M&V error**: Mahendran & Vedaldi (CVPR 2015, "Understanding deep image representations by
  inverting them") report reconstruction errors normalized by the average Euclidean distance
  between the images of their test set, so an error of 1 means "as far as another image". As we
  read it, applied to pixels: ``l2 / N`` with N = the mean ‖x_i − x_j‖₂ over the pairs of the
  task's distinct images at the study's size (:func:`mean_pairwise_distance`); undefined (empty)
  with a single image.
* **diversity** (texture): Ustyuzhaninov et al. (ICLR 2017) showed that a texture model can
  score well by copying its source. Diversity = the mean RMS pixel difference between
  syntheses of the same source by the same configuration with different seeds
  (:func:`diversity`): near 0 means every seed gives the same picture, a copy.
"""
from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=2)
def judge(device: str = "cpu") -> Any:
    """The judge network (objectives.judges.judge_net), built once per process."""
    from ranvis.objectives.judges import judge_net

    return judge_net(device)


def inversion_scores(run: Any, image: Any) -> dict[str, float]:
    """PSNR, SSIM, l2 and the studied network's feature error of an inversion Run."""
    from ranvis.objectives.metrics import l2_distance

    m = run.record["metrics"]
    errors = list(m["feature_error"].values())
    return {"psnr": m["psnr"], "ssim": m["ssim"], "l2": l2_distance(run.image, image),
            "feature_error": float(np.mean(errors))}


def texture_scores(run: Any, source: Any, start: Any, device: str) -> dict[str, float]:
    """Judge distance of the synthesis and of its noise start to the source; own Gram error."""
    from ranvis.objectives.judges import gram_distance

    net = judge(device)
    own = list(run.record["metrics"]["gram_error"].values())
    return {"judge_distance": gram_distance(net, run.image, source),
            "judge_distance_noise": gram_distance(net, start, source),
            "gram_error": float(np.mean(own))}


def style_scores(run: Any, content: Any, style: Any, device: str) -> dict[str, float]:
    """objectives.judges.style_score: ssim, d, d_content, ssim_style."""
    from ranvis.objectives.judges import style_score

    return style_score(judge(device), run.image, content, style)


def mean_pairwise_distance(images: list[np.ndarray]) -> float:
    """Mean ‖x_i − x_j‖₂ over pairs of distinct images (same shape); NaN for fewer than two."""
    pairs = list(itertools.combinations(images, 2))
    if not pairs:
        return float("nan")
    return float(np.mean([np.linalg.norm((a - b).ravel().astype(np.float64)) for a, b in pairs]))


def diversity(images: list[np.ndarray]) -> float:
    """Mean RMS pixel difference over pairs of images in [0, 1]; NaN for fewer than two."""
    pairs = list(itertools.combinations(images, 2))
    if not pairs:
        return float("nan")
    return float(np.mean([np.sqrt(np.mean((a.astype(np.float64) - b) ** 2)) for a, b in pairs]))
