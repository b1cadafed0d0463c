"""``ranvis demo``: the gallery — inversion, texture and style transfer on bundled sample images.

Writes one PNG per result with its run record (JSON, loss plot) and an ``index.html`` that shows
them with their settings. Sized to finish in about two minutes on 2 CPU cores.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ranvis import defaults as D


@dataclass(frozen=True)
class Item:
    """One gallery entry: which task, on what, with which options."""

    name: str
    task: str
    inputs: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()
    caption: str = ""


def gallery_items(iters: int) -> list[Item]:
    """The demo's runs on the paper's VGG-19, its layers from the architecture's presets.
    Inputs are scikit-image samples (bundled, no download)."""
    from ranvis.nets import get_arch

    p = get_arch(D.ARCH).presets
    inv = [Item(f"invert-{layer}", "invert", ("sample:chelsea",), (("layers", layer),),
                f"reconstruction from {layer} of a random VGG-19 (eq. 1)")
           for layer in p.invert[:4]]
    tex = [Item("texture-gravel", "texture", ("sample:gravel",), (("out_size", (256, 128)),),
                f"texture from {p.texture[0]}..{p.texture[-1]} Gram matrices with factors mu_l "
                "(eq. 5-8), synthesized wider than its source"),
           Item("texture-immunohistochemistry", "texture", ("sample:immunohistochemistry",), (),
                "texture of a coloured source (eq. 5-8)")]
    sty = [Item("style-chelsea-hubble", "style", ("sample:chelsea", "sample:hubble_deep_field"), (),
                f"content {p.content} + style {p.style[0]}..{p.style[-1]} + TV (eq. 9)"),
           Item("style-astronaut-immunohistochemistry", "style",
                ("sample:astronaut", "sample:immunohistochemistry"), (), "style transfer (eq. 9)")]
    return inv + tex + sty


def _run_item(item: Item, size: int, iters: int, net: str, device: str) -> Any:
    from ranvis.images import load
    from ranvis.tasks import invert, synthesize_texture, transfer_style

    opts = dict(item.options)
    common = {"iters": iters, "net": net, "device": device}
    if item.task == "invert":
        return invert(load(item.inputs[0], size), opts["layers"], **common)
    if item.task == "texture":
        return synthesize_texture(load(item.inputs[0], size), out_size=opts.get("out_size"),
                                  **common)
    content = load(item.inputs[0], size)
    styles = [load(s, size) for s in item.inputs[1:]]
    return transfer_style(content, styles, **common)


def run(out_dir: str | Path, size: int = 128, iters: int = 200, net: str = "random",
        device: str = "auto", quiet: bool = False) -> Path:
    """Run the gallery into ``out_dir``; returns the path of its index.html."""
    from ranvis.images import load, save
    from ranvis.record import atomic_write, save_run

    out = Path(out_dir)
    rows: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    for item in gallery_items(iters):
        t0 = time.perf_counter()
        run_ = _run_item(item, size, iters, net, device)
        run_.record["settings"].update({"inputs": list(item.inputs), "net_arg": net})
        save_run(out / f"{item.name}.png", run_.image, run_.record)
        for i, src in enumerate(item.inputs):
            save(load(src, size), out / f"{item.name}-input{i}.png")
        rows.append({"item": item, "record": run_.record, "seconds": time.perf_counter() - t0})
        if not quiet:
            print(f"  {item.name}: {rows[-1]['seconds']:.1f} s", flush=True)
    page = _html(rows, time.perf_counter() - t_all)
    index = out / "index.html"
    atomic_write(index, lambda p: p.write_text(page))
    return index


def _html(rows: list[dict[str, Any]], seconds: float) -> str:
    cells = []
    for r in rows:
        item, rec = r["item"], r["record"]
        inputs = "".join(f'<img src="{item.name}-input{i}.png" alt="input {i}">'
                         for i in range(len(item.inputs)))
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in rec.get("metrics", {}).items()
                            if isinstance(v, float))
        settings = html.escape(", ".join(f"{k}={v}" for k, v in rec["settings"].items()))
        cells.append(
            f'<figure><div class="pair">{inputs}<img src="{item.name}.png" alt="{item.name}">'
            f'<img class="plot" src="{item.name}-loss.png" alt="loss"></div><figcaption>'
            f"<b>{html.escape(item.name)}</b>: {html.escape(item.caption)}<br>"
            f"{rec['iterations']} iterations in {rec['seconds']:.1f} s"
            f"{'; ' + html.escape(metrics) if metrics else ''}<br><small>{settings}</small>"
            f'<br><a href="{item.name}.json">run record</a></figcaption></figure>')
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>ranvis demo</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
figure{{margin:1.5em 0;border-bottom:1px solid #ddd;padding-bottom:1em}}
.pair img{{height:160px;margin-right:8px;image-rendering:pixelated}}.pair img.plot{{height:160px}}
small{{color:#666}}</style></head><body>
<h1>ranvis demo gallery</h1>
<p>Deep visualization with an untrained VGG-19 (weights N(0, {D.SIGMA}), average pooling),
after He, Wang &amp; Hopcroft, NIPS 2016. Inputs are scikit-image's bundled samples; every
result was computed in this run ({seconds:.0f} s in all). Each row: input(s), result, loss.</p>
{''.join(cells)}
</body></html>
"""
