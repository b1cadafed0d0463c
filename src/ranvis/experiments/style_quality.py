"""Style-transfer quality judged as a user would, in numbers (issue 6, "Quality").

For a result x of content c and style s:
  * content kept: SSIM of x's luminance (Y of YIQ) to c's luminance (scikit-image, window 7);
  * style taken: the Gram distance of x to s on an *independent* network — a random VGG-19 with
    another seed (``JUDGE_SEED``) and max pooling, which the transfer never used:
        d_l(x, s) = ‖Ĝ_l(x) − Ĝ_l(s)‖_F / ‖Ĝ_l(s)‖_F, Ĝ = G/M, d = mean over ``JUDGE_LAYERS``.
Both against the same numbers for the content image itself (SSIM 1, d(c, s)) and for the style
image resized to the content's size (SSIM(s, c), d = 0). A transfer keeps the layout (SSIM well
above the style's) and takes the style (d well below the content's).

Pairs are not files of this repository: scikit-image's photos as content, scikit-image's brick and
grass textures and fixed crops of three other scikit-image images as style (``STYLES``; crops
chosen by eye for strong colour before any transfer was run, never tuned afterwards).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ranvis.experiments.texture_quality import JUDGE_LAYERS, JUDGE_POOL, JUDGE_SEED, judge_net
from ranvis.experiments.texture_quality import gram_distance as texture_distance
from ranvis.io.images import from_pil, luminance, resize, sample
from ranvis.nets.base import FrozenNet as Net

CONTENTS = ("astronaut", "chelsea", "coffee", "rocket", "camera")
#: name -> (scikit-image function, (y0, y1, x0, x1) crop or None, description)
STYLES: dict[str, tuple[str, tuple[int, int, int, int] | None, str]] = {
    "brick": ("brick", None, "brick wall texture (grey)"),
    "grass": ("grass", None, "grass texture (grey)"),
    "retina": ("retina", (250, 762, 700, 1212), "orange fundus with red vessels"),
    "hubble": ("hubble_deep_field", (560, 872, 600, 912), "galaxies on black, lower right"),
    "ihc": ("immunohistochemistry", (256, 512, 0, 256), "brown/blue stained tissue, lower left"),
}


def image(name: str) -> torch.Tensor:
    """A content (scikit-image photo, via images.sample) or a STYLES entry, full size."""
    if name not in STYLES:
        return sample(name)
    import skimage.data
    from PIL import Image

    fn, box, _ = STYLES[name]
    arr = np.asarray(getattr(skimage.data, fn)())
    if box is not None:
        y0, y1, x0, x1 = box
        arr = arr[y0:y1, x0:x1]
    return from_pil(Image.fromarray(arr))


def gram_distance(net: Net, x: torch.Tensor, style: torch.Tensor,
                  layers: Sequence[str] = JUDGE_LAYERS) -> float:
    """Mean over ``layers`` of ‖Ĝ(x) − Ĝ(s)‖_F / ‖Ĝ(s)‖_F, Ĝ = G/M (texture_quality's judge)."""
    return texture_distance(net, x, style, layers)["mean"]


def luminance_ssim(x: torch.Tensor, ref: torch.Tensor) -> float:
    """SSIM between the Y channels of ``x`` and ``ref`` (resized to ``x``), data range 1."""
    from skimage.metrics import structural_similarity

    ref = resize(ref, (x.shape[-1], x.shape[-2]))
    a = luminance(x.detach().cpu().float())[0, 0].double().numpy()
    b = luminance(ref.detach().cpu().float())[0, 0].double().numpy()
    win = min(7, *a.shape) - (1 - min(7, *a.shape) % 2)
    return float(structural_similarity(b, a, data_range=1.0, win_size=max(win, 3)))


def score(judge: Net, result: torch.Tensor, content: torch.Tensor,
          style: torch.Tensor) -> dict[str, float]:
    """The two numbers for the result, the content and the style image (module doc)."""
    h, w = content.shape[-2:]
    s_resized = resize(style, (w, h))
    return {"ssim": luminance_ssim(result, content), "d": gram_distance(judge, result, style),
            "d_content": gram_distance(judge, content, style),
            "ssim_style": luminance_ssim(s_resized, content)}


def run(out_dir: Path, quick: bool = True, size: int | None = None,
        contents: Sequence[str] | None = None, styles: Sequence[str] | None = None,
        iters: int | None = None, device: str = "auto", **transfer_kw: Any) -> dict[str, Any]:
    """Transfer every style onto every content with the defaults and score each (module doc).

    quick: 2 contents × 2 styles at 64 px, 100 iterations; full: 5 × 5 at 128 px, 200
    (≈40 min on one loaded CPU core).
    ``transfer_kw`` go to tasks.transfer_style (e.g. ratio=(100, 1, 1000) for the paper's).
    """
    from ranvis.experiments.fig6 import draw_grid
    from ranvis.tasks import resolve_device, transfer_style

    t0 = time.perf_counter()
    out = Path(out_dir)
    size = size or (64 if quick else 128)
    iters = iters or (100 if quick else 200)
    contents = list(contents or (CONTENTS[:2] if quick else CONTENTS))
    styles = list(styles or (("brick", "retina") if quick else STYLES))
    dev = resolve_device(device)
    judge = judge_net(dev)
    cimgs = {c: resize(image(c), size) for c in contents}
    simgs = {s: resize(image(s), size) for s in styles}
    cells, rows = {}, []
    for c in contents:
        for s in styles:
            r = transfer_style(cimgs[c], [simgs[s]], iters=iters, device=str(dev), **transfer_kw)
            cells[(c, s)] = r.image
            row = {"content": c, "style": s, **score(judge, r.image, cimgs[c], simgs[s]),
                   "seconds": r.record["seconds"]}
            rows.append({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
    mean = {k: round(float(np.mean([r[k] for r in rows])), 4)
            for k in ("ssim", "d", "d_content", "ssim_style")}
    settings = {"size": size, "iters": iters, "contents": contents,
                "styles": {s: STYLES[s][2] for s in styles}, "judge": f"random VGG-19 seed "
                f"{JUDGE_SEED}, {JUDGE_POOL} pooling, {', '.join(JUDGE_LAYERS)}",
                "device": str(dev), **{k: str(v) for k, v in transfer_kw.items()}}
    footer = (f"{size} px, {iters} iterations, {transfer_kw or 'defaults'}; mean SSIM(lum) "
              f"{mean['ssim']:.3f} (style image {mean['ssim_style']:.3f}); mean judge Gram "
              f"distance {mean['d']:.3f} (content image {mean['d_content']:.3f})")
    draw_grid(out / "style_quality.png", cimgs, simgs, cells, footer,
              labels={k: f"SSIM {r['ssim']:.2f}  d {r['d']:.2f}" for k, r in
                      zip(cells, rows, strict=True)})
    verdict = (f"Across {len(rows)} pairs the results keep the content's layout (luminance SSIM "
               f"{mean['ssim']:.2f}, the style image scores {mean['ssim_style']:.2f}) and move the "
               f"judge's Gram statistics towards the style (distance {mean['d']:.2f} against "
               f"{mean['d_content']:.2f} for the content image).")
    return {"title": "Style transfer quality on an independent judge network",
            "figures": ["style_quality.png"], "numbers": {"rows": rows, "mean": mean},
            "settings": settings, "seconds": round(time.perf_counter() - t0, 2),
            "verdict": verdict}


if __name__ == "__main__":  # python -m ranvis.experiments.style_quality OUT [--full]
    import json
    import sys

    res = run(Path(sys.argv[1]), quick="--full" not in sys.argv)
    print(json.dumps(res, indent=1))
