"""The README's pictures: one contact sheet per task, composed from a `ranvis demo` gallery.

    python scripts/readme_images.py gallery docs/img      # `make readme-images` runs the demo first

Reads the gallery's PNGs and run records (nothing is recomputed) and writes ``invert.png``,
``texture.png`` and ``style.png`` into the output folder: each tile is a demo image at the
demo's size, captioned with what it is and its metric from the run record.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matplotlib.figure import Figure
from PIL import Image

SHEETS = {
    "invert": [("invert-pool1-input0", "photo"), ("invert-pool1", "pool1"),
               ("invert-pool2", "pool2"), ("invert-pool3", "pool3"),
               ("invert-pool4", "pool4, best"), ("invert-pool4-paper", "pool4, paper")],
    "texture": [("texture-gravel-input0", "source"), ("texture-gravel", "texture, 2:1"),
                ("texture-immunohistochemistry-input0", "source"),
                ("texture-immunohistochemistry", "texture")],
    "style": [("style-chelsea-hubble-input0", "content"), ("style-chelsea-hubble-input1", "style"),
              ("style-chelsea-hubble", "best"), ("style-chelsea-hubble-paper", "paper"),
              ("style-astronaut-immunohistochemistry-input0", "content"),
              ("style-astronaut-immunohistochemistry-input1", "style"),
              ("style-astronaut-immunohistochemistry", "best")],
}


def caption(gallery: Path, stem: str, label: str) -> str:
    """``label`` plus the run record's headline metric (inversion: PSNR / SSIM to the photo)."""
    rec = gallery / f"{stem}.json"
    if not rec.is_file():
        return label
    m = json.loads(rec.read_text()).get("metrics", {})
    if "psnr" in m:
        return f"{label}\n{m['psnr']:.1f} dB, SSIM {m['ssim']:.2f}"
    if "ssim_content" in m:
        return f"{label}\nSSIM to content {m['ssim_content']:.2f}"
    return label


def sheet(gallery: Path, tiles: list[tuple[str, str]], out: Path) -> None:
    """One row of captioned tiles, widths in proportion to the images'."""
    images = [Image.open(gallery / f"{stem}.png").convert("RGB") for stem, _ in tiles]
    widths = [im.width / im.height for im in images]
    fig = Figure(figsize=(1.5 * sum(widths) + 0.2, 2.05), dpi=100)
    axes = fig.subplots(1, len(tiles), gridspec_kw={"width_ratios": widths})
    for ax, im, (stem, label) in zip(axes, images, tiles, strict=True):
        ax.imshow(im, interpolation="nearest")
        ax.set_title(caption(gallery, stem, label), fontsize=8)
        ax.axis("off")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.78, wspace=0.05)
    fig.savefig(out, format="png")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gallery", type=Path, help="a `ranvis demo` output folder")
    ap.add_argument("out", type=Path, help="where the sheets go (docs/img)")
    a = ap.parse_args(argv)
    missing = [s for t in SHEETS.values() for s, _ in t if not (a.gallery / f"{s}.png").is_file()]
    if missing:
        print(f"error: {a.gallery} is not a complete demo gallery (no {missing[0]}.png); run "
              "`make demo` first", file=sys.stderr)
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    for name, tiles in SHEETS.items():
        sheet(a.gallery, tiles, a.out / f"{name}.png")
        print(f"wrote {a.out / f'{name}.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
