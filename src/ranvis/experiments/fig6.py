"""Figures 6 and 7: style transfer on a random VGG-19 (eq. 9), content images in rows, style
images in columns, with the settings and timings written under the grid.

The paper's Figure 6 puts one photograph in the style of five paintings, Figure 7 Chinese
paintings and scenery photographs; this project ships no paintings, so the styles are scikit-image
textures and strongly coloured crops (experiments/style_quality.STYLES), the contents its photos.
Each cell is labelled with the judge's numbers (style_quality: luminance SSIM to the content, Gram
distance to the style on an independent network).
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

QUICK_CONTENTS = ("chelsea", "rocket")
QUICK_STYLES = ("ihc", "hubble", "brick")
FULL_CONTENTS = ("chelsea", "rocket", "astronaut")
FULL_STYLES = ("ihc", "hubble", "retina", "brick", "grass")


def _grid(preset: str, cimgs: dict, simgs: dict, judge: Any, iters: int, net: str,
          dev: Any, transfer_kw: dict[str, Any]) -> tuple[dict, dict, dict]:
    """Every content in every style with ``preset``: (cells, numbers, settings)."""
    from ranvis.objectives.judges import style_score
    from ranvis.tasks import transfer_style

    cells, numbers, settings = {}, {}, {}
    for c in cimgs:
        for s in simgs:
            r = transfer_style(cimgs[c], [simgs[s]], iters=iters, net=net, device=str(dev),
                               preset=preset, **transfer_kw)
            cells[(c, s)] = r.image
            sc = style_score(judge, r.image, cimgs[c], simgs[s])
            numbers[f"{c}/{s}"] = {"ssim": round(sc["ssim"], 4), "d": round(sc["d"], 4),
                                   "d_content": round(sc["d_content"], 4),
                                   "seconds": r.record["seconds"],
                                   "iterations": r.record["iterations"],
                                   "ratio": used_ratio(r.record)}
            settings = {k: r.record["settings"][k] for k in
                        ("preset", "content_layer", "style_layers", "ratio", "init", "scales",
                         "optimizer", "iters", "seed", "pool", "device", "nets", "padding")}
    return cells, numbers, settings


def used_ratio(record: dict[str, Any]) -> list[float]:
    """α:β:γ as a run used them (its record): the recipe's ratio times its weights, α times the
    style's contrast factor and γ times its smoothness factor where the recipe sets them
    (``best``: weighting.content_factor, weighting.tv_factor), from the last scale's factors."""
    st = record["settings"]
    factors = record["scales"][-1]["factors"] if record.get("scales") else record["factors"]
    w = st.get("weights", {})
    a, b, g = st["ratio"]
    return [a * w.get("content", 1.0) * factors.get("content_factor", 1.0),
            b * w.get("style", 1.0), g * w.get("tv", 1.0) * factors.get("tv", 1.0)]


def ratio_text(ratios: Sequence[Sequence[float]]) -> str:
    """α:β:γ of every cell: one ratio when all cells used the same, else each one's range
    ("3-200:1:0.1-10", per pair)."""
    parts, per_pair = [], False
    for vals in zip(*ratios, strict=True):
        lo, hi = min(vals), max(vals)
        same = hi - lo <= 1e-9 * max(1.0, abs(hi))
        parts.append(f"{lo:.4g}" if same else f"{lo:.4g}-{hi:.4g}")
        per_pair = per_pair or not same
    return ":".join(parts) + (" (set per pair from the style)" if per_pair else "")


def _footer(settings: dict[str, Any], numbers: dict, net: str, iters: int, size: int) -> str:
    secs = [v["seconds"] for v in numbers.values()]
    return (f"preset {settings['preset']}: eq. 9 on {settings['nets']} random VGG-19 draw(s) "
            f"(net {net}, {settings['padding']} padding); content {settings['content_layer']}, "
            f"style {','.join(settings['style_layers'])}; alpha:beta:gamma "
            f"{ratio_text([v['ratio'] for v in numbers.values()])}; init {settings['init']}; "
            f"{settings['scales']} scale(s); at most {iters} {settings['optimizer']} iterations "
            f"at {size} px on {settings['device']}; {min(secs):.1f}-{max(secs):.1f} s per image. "
            f"Cells: luminance SSIM to the content, judge Gram distance d to the style.")


def run(out_dir: Path, quick: bool = True, size: int | None = None,
        contents: Sequence[str] | None = None, styles: Sequence[str] | None = None,
        iters: int | None = None, net: str = "random", device: str = "auto",
        presets: Sequence[str] = ("best", "paper"), **transfer_kw: Any) -> dict[str, Any]:
    """Write fig6.png (the default preset, ``best``) and fig6-paper.png (the paper's recipe,
    α:β:γ = 100:1:1000 with µ_l at the zero representation, from noise): every content (rows)
    in every style (columns).

    quick: 2 × 3 at 96 px, 200 iterations; full: 3 × 5 at 192 px, 400 iterations.
    ``size`` overrides the longer side (tests use 32 with iters=2). ``transfer_kw`` go to
    tasks.transfer_style (ratio, scales, init, ...).
    """
    from ranvis.experiments.style_quality import draw_grid, image
    from ranvis.io.images import resize
    from ranvis.objectives.judges import judge_net
    from ranvis.tasks import resolve_device

    t0 = time.perf_counter()
    out = Path(out_dir)
    size = size or (96 if quick else 192)
    iters = iters or (200 if quick else 400)
    contents = list(contents or (QUICK_CONTENTS if quick else FULL_CONTENTS))
    styles = list(styles or (QUICK_STYLES if quick else FULL_STYLES))
    dev = resolve_device(device)
    judge = judge_net(dev)
    cimgs = {c: resize(image(c), size) for c in contents}
    simgs = {s: resize(image(s), size) for s in styles}
    figures, all_numbers, verdicts, settings = [], {}, [], {}
    for preset in presets:
        cells, numbers, st = _grid(preset, cimgs, simgs, judge, iters, net, dev, transfer_kw)
        name = "fig6.png" if preset == presets[0] else f"fig6-{preset}.png"
        draw_grid(out / name, cimgs, simgs, cells, _footer(st, numbers, net, iters, size),
                  labels={tuple(k.split("/")): f"SSIM {v['ssim']:.2f}  d {v['d']:.2f}"
                          for k, v in numbers.items()})
        figures.append(name)
        all_numbers[preset], settings[preset] = numbers, st
        closer = sum(v["d"] < v["d_content"] for v in numbers.values())
        verdicts.append(f"{preset}: {closer} of {len(numbers)} results are closer to their "
                        "style than the content is (independent judge)")
    verdict = ("; ".join(verdicts) + ". The paper shows paintings on its stacked ranVGG and "
               "compares with Gatys et al. by eye only, so only a visual comparison is possible.")
    return {"title": "Figures 6/7: style transfer grid on a random VGG-19", "figures": figures,
            "numbers": all_numbers, "settings": {"presets": settings, "size": size, "net": net,
                                                 "contents": contents, "styles": styles},
            "seconds": round(time.perf_counter() - t0, 2), "verdict": verdict}
