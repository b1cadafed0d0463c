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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ranvis.io.images import from_pil, resize, sample
from ranvis.objectives.judges import JUDGE_LAYERS, JUDGE_POOL, JUDGE_SEED, judge_net, style_score

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


def draw_grid(path: Path, contents: Mapping[str, torch.Tensor], styles: Mapping[str, torch.Tensor],
              cells: Mapping[tuple[str, str], torch.Tensor], footer: str,
              labels: Mapping[tuple[str, str], str] | None = None) -> None:
    """PNG grid: styles along the top row, contents down the first column, results in the cells
    (keys (content, style)), ``footer`` wrapped under it. Images are [1,3,H,W] in [0, 1]."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ranvis.io.record import atomic_write

    nr, nc = len(contents) + 1, len(styles) + 1
    fig, axes = plt.subplots(nr, nc, squeeze=False, figsize=(1.7 * nc, 1.7 * nr), dpi=110)
    show = {(r, c): None for r in range(nr) for c in range(nc)}
    for c, s in enumerate(styles, start=1):
        show[(0, c)] = (styles[s], s)
    for r, k in enumerate(contents, start=1):
        show[(r, 0)] = (contents[k], k)
        for c, s in enumerate(styles, start=1):
            show[(r, c)] = (cells[(k, s)], (labels or {}).get((k, s), ""))
    for (r, c), item in show.items():
        ax = axes[r][c]
        ax.set_xticks([]), ax.set_yticks([])
        if item is None:
            ax.axis("off")
            continue
        img, text = item
        ax.imshow(img[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
        if r == 0 or c == 0:
            ax.set_title(text, fontsize=8)
        else:
            ax.set_xlabel(text, fontsize=6, labelpad=1)
    text = textwrap.fill(footer, int(1.7 * nc * 19))  # ~19 monospace 6 pt characters per inch
    lines = text.count("\n") + 1
    height = 1.7 * nr + 0.15 + 0.11 * lines
    fig.set_size_inches(1.7 * nc, height)
    fig.text(0.01, 0.005, text, fontsize=6, va="bottom", family="monospace")
    fig.tight_layout(rect=(0, (0.12 + 0.11 * lines) / height, 1, 1))
    atomic_write(path, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)


def run(out_dir: Path, quick: bool = True, size: int | None = None,
        contents: Sequence[str] | None = None, styles: Sequence[str] | None = None,
        iters: int | None = None, device: str = "auto", **transfer_kw: Any) -> dict[str, Any]:
    """Transfer every style onto every content with the defaults and score each (module doc).

    quick: 2 contents × 2 styles at 64 px, 100 iterations; full: 5 × 5 at 128 px, 200
    (≈40 min on one loaded CPU core).
    ``transfer_kw`` go to tasks.transfer_style (e.g. ratio=(100, 1, 1000) for the paper's).
    """
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
            row = {"content": c, "style": s, **style_score(judge, r.image, cimgs[c], simgs[s]),
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
