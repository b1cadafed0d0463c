"""``ranvis demo``: the gallery — inversion, texture and style transfer on bundled sample images.

Writes one PNG per result with its run record (JSON, loss plot) and an ``index.html`` that shows
them with their settings and metrics (demopage.py). The deepest inversion and the first style
transfer run twice, with the ``best`` and the ``paper`` preset, side by side. Each item shows one
progress line (item k of n, its bar, elapsed). Every item has its own demo-sized iteration
count (``DEMO_ITERS``, fewer than the presets' defaults), sized from the measured CPU cost of
an evaluation for about three minutes on an idle 2-core CPU (an estimate: the one full run
timed so far, on a machine shared at load 6-11, took 27 min) (``ranvis demo --iters N`` gives
every item N).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ranvis import defaults as D

# Demo-sized budgets, chosen for about 3 minutes on an idle 2-core CPU (estimated from the CPU
# seconds per evaluation at 128 px, one thread, measured: pool1 0.1, pool2 0.06, pool3 0.5 and
# pool4 0.9 with preset best, pool4 paper 0.2, textures 0.2-0.4, style best 0.7-0.9, paper 0.3;
# D.DEMO_SIZE = 96 px costs about 0.56 of that). Inversion with preset best beyond pool2
# matches 4 random draws at once and by default runs 1000 evaluations; the gallery gives it 100.
DEMO_ITERS = {"invert": 200, "invert-deep": 100, "texture": 100, "style": 80}


class Interrupted(KeyboardInterrupt):
    """The gallery stopped at an interrupted item; its page shows the items done."""


@dataclass(frozen=True)
class Item:
    """One gallery entry: which task, on what, with which options and iterations."""

    name: str
    task: str
    inputs: tuple[str, ...]
    options: tuple[tuple[str, Any], ...] = ()
    caption: str = ""
    iters: int = D.ITERS


def _inversions(layers: tuple[str, ...], iters: int | None) -> list[Item]:
    """VGG-19's first four inversion taps with the best preset; the deepest also with paper."""
    out = []
    for k, layer in enumerate(layers):
        n = iters or DEMO_ITERS["invert-deep" if k >= 2 else "invert"]
        out.append(Item(f"invert-{layer}", "invert", ("sample:chelsea",), (("layers", layer),),
                        f"reconstruction from {layer} of a random VGG-19 (eq. 1), preset best",
                        n))
    deep = layers[-1]
    out.append(Item(f"invert-{deep}-paper", "invert", ("sample:chelsea",),
                    (("layers", deep), ("preset", "paper")),
                    f"the same from {deep} with preset paper: one network, pixels, from noise",
                    iters or DEMO_ITERS["invert-deep"]))
    return out


def gallery_items(iters: int | None = None) -> list[Item]:
    """The demo's runs on the paper's VGG-19, its layers from the architecture's presets; every
    item runs ``iters`` iterations when given, else its own (DEMO_ITERS). Inputs are
    scikit-image samples (bundled, no download)."""
    from ranvis.nets import get_arch
    from ranvis.presets import style_summary

    p = get_arch(D.ARCH).presets
    nt, ns = iters or DEMO_ITERS["texture"], iters or DEMO_ITERS["style"]
    tex = [Item("texture-gravel", "texture", ("sample:gravel",), (("out_size", (192, 96)),),
                f"texture from {p.texture[0]}..{p.texture[-1]} Gram matrices with factors mu_l "
                "(eq. 5-8), synthesized wider than its source", nt),
           Item("texture-immunohistochemistry", "texture", ("sample:immunohistochemistry",), (),
                "texture of a coloured source (eq. 5-8)", nt)]
    pair = ("sample:chelsea", "sample:hubble_deep_field")
    sty = [Item("style-chelsea-hubble", "style", pair, (),
                f"style transfer (eq. 9), preset best: {style_summary('best')}", ns),
           Item("style-chelsea-hubble-paper", "style", pair, (("preset", "paper"),),
                f"the same with preset paper: content {p.content}, {style_summary('paper')}",
                ns),
           Item("style-astronaut-immunohistochemistry", "style",
                ("sample:astronaut", "sample:immunohistochemistry"), (),
                "style transfer (eq. 9), preset best", ns)]
    return _inversions(tuple(p.invert[:4]), iters) + tex + sty


def _run_item(item: Item, size: int, net: str, device: str, callbacks: list[Any],
              threads: int | None = None) -> Any:
    from ranvis.io.images import load
    from ranvis.tasks import invert, synthesize_texture, transfer_style

    opts = dict(item.options)
    common = {"iters": item.iters, "net": net, "device": device, "callbacks": callbacks,
              "preset": opts.pop("preset", "best"), "threads": threads}
    if item.task == "invert":
        return invert(load(item.inputs[0], size), opts["layers"], **common)
    if item.task == "texture":
        return synthesize_texture(load(item.inputs[0], size), out_size=opts.get("out_size"),
                                  **common)
    content = load(item.inputs[0], size)
    styles = [load(s, size) for s in item.inputs[1:]]
    return transfer_style(content, styles, **common)


def run(out_dir: str | Path, size: int = D.DEMO_SIZE, iters: int | None = None, net: str = "random",
        device: str = "auto", quiet: bool = False, threads: int | None = None) -> Path:
    """Run the gallery into ``out_dir``; returns the path of its index.html. ``iters``: every
    item's iterations (None: each item's own). ``threads``: every item's CPU threads (None:
    torch's current setting; platform.threads). Unless ``quiet``, one progress line per item.
    An interrupted item (Ctrl-C) ends the gallery: the page shows the items done, then
    demo.Interrupted (a KeyboardInterrupt) is raised."""
    from ranvis.cli.demopage import page
    from ranvis.io.images import load, save
    from ranvis.io.record import atomic_write, save_run
    from ranvis.optim.callbacks import Progress

    out = Path(out_dir)
    rows: list[dict[str, Any]] = []
    t_all = time.perf_counter()
    items = gallery_items(iters)
    for k, item in enumerate(items, 1):
        t0 = time.perf_counter()
        bar = [] if quiet else [Progress(item.iters, f"[{k}/{len(items)}] {item.name}")]
        try:
            run_ = _run_item(item, size, net, device, bar, threads)
        finally:
            for b in bar:
                b.close()
        run_.record["settings"].update({"inputs": list(item.inputs), "net_arg": net})
        save_run(out / f"{item.name}.png", run_.image, run_.record)
        for i, src in enumerate(item.inputs):
            save(load(src, size), out / f"{item.name}-input{i}.png")
        rows.append({"item": item, "record": run_.record, "seconds": time.perf_counter() - t0})
        if run_.record["interrupted"]:
            break
    index = out / "index.html"
    text = page(rows, time.perf_counter() - t_all, size)
    atomic_write(index, lambda p: p.write_text(text))
    if rows and rows[-1]["record"]["interrupted"]:
        raise Interrupted(f"demo interrupted; {index} shows the items done")
    return index
