"""Style losses, starts and schedules measured pair by pair (issue 28): which recipe carries the
style's texture on the worst of many held-out pairs.

Each variant is the ``best`` recipe (ranvis.presets.style_recipe) with some fields replaced,
plus transfer_style options; every pair runs every variant in turn (interleaved, so the
timings share the machine's load), scored as experiments.style_pairs scores one pair (layout
correlation, texture-energy score, Gram ratio against its floor). Writes every result
``VARIANT-CONTENT-STYLE.png``, ``losses.json`` (all scores, after every run) and prints one
summary row per variant (worst of every score over the pairs, pairs meeting every target).
``--cost``: seconds per evaluation (forward + backward) of each style loss alone at --size,
interleaved over --repeats rounds.

    python -m ranvis.experiments.style_losses --images DIR --pairs c1:s1,... \\
        --variants gram,sw,meanstd --out out/losses
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ranvis import presets as P
from ranvis.experiments import style_pairs as SP
from ranvis.io.images import save
from ranvis.io.record import atomic_write
from ranvis.objectives.judges import judge_net

#: The ``best`` recipe before issue 28 (Gram, RGB colour match, 3:1:1, white-noise start of std
#: 0.1, a plateau of 0.1 % over 40 evaluations), every field the new one changed set back; the
#: base of the first rounds. "today" also gives it the style resized to the content (no
#: tiling), as it ran then.
OLD: dict[str, Any] = {"ratio": (3.0, 1.0, 1.0), "color_space": "rgb", "style_loss": "gram",
                       "content_factor": False, "start": "noise", "start_noise": 0.1,
                       "plateau_window": 40, "plateau_tol": 1e-3}
YIQ = {**OLD, "color_space": "yiq"}


def _old(**changes: Any) -> dict[str, Any]:
    return {**OLD, **changes}


#: name → (fields of ``best``'s recipe replaced, transfer_style options), in the order measured:
#: each loss on the old recipe; with the YIQ match; α; the content term lowpassed; then on the
#: new ``best`` (sw, YIQ, 100:1:1: "B-…") the other losses, combinations, starts, schedule.
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "today": (OLD, {}),
    **{k: (_old(style_loss=k), {}) for k in
       ("gram", "sw", "meanstd", "cov+mean", "hist", "gram-softmax", "gram+sw", "sw+meanstd")},
    "gram-yiq": (YIQ, {}),
    "sw-yiq": ({**YIQ, "style_loss": "sw"}, {}),
    "cov+mean-yiq": ({**YIQ, "style_loss": "cov+mean"}, {}),
    "sw-yiq-hfE": ({**YIQ, "style_loss": "sw", "start": "hf", "start_noise": "style"}, {}),
    **{f"sw-yiq-a{a}": ({**YIQ, "style_loss": "sw", "ratio": (float(a), 1.0, 1.0)}, {})
       for a in (10, 30, 100)},
    **{f"sw-yiq-a{a}-blur": ({**YIQ, "style_loss": "sw", "ratio": (float(a), 1.0, 1.0),
                             "content_blur": 1.0}, {}) for a in (10, 30, 100)},
    "best": ({}, {}),
    **{f"B-{k}": ({"style_loss": k}, {}) for k in
       ("gram", "meanstd", "cov+mean", "hist", "gram-softmax", "gram+sw", "sw+meanstd")},
    "B-hf": ({"start": "hf"}, {}),
    "B-lowpass": ({"start": "lowpass"}, {}),
    "B-noise.3": ({"start_noise": 0.3}, {}),
    "B-hfE": ({"start": "hf", "start_noise": "style"}, {}),
    "B-first": ({"style_first": 0.1}, {}),
}


@contextlib.contextmanager
def recipe(**changes: Any) -> Iterator[None]:
    """``best``'s style recipe with ``changes`` while the block runs (presets.style_recipe)."""
    original = P.style_recipe

    def patched(preset: str) -> P.StyleRecipe:
        r = original(preset)
        return replace(r, **changes) if preset == "best" else r

    P.style_recipe = patched
    try:
        yield
    finally:
        P.style_recipe = original


def summary(name: str, rows: list[dict]) -> str:
    """One markdown row: the worst of each score over ``rows`` and how many meet every target."""
    excess = max(r["ratio"] - SP.ratio_target(r["floor"]) for r in rows)
    return (f"| {name} | {min(r['corr'] for r in rows):.3f} | "
            f"{max(r['texture'] for r in rows):.2f} | {excess:+.3f} | "
            f"{sum(SP.passes(r) for r in rows)}/{len(rows)} | "
            f"{statistics.mean(r['evaluations'] for r in rows):.0f} | "
            f"{statistics.mean(r['seconds'] for r in rows):.1f} |")


def cost(size: int, repeats: int, kinds: list[str]) -> None:
    """Print seconds per evaluation of the best recipe's objective with each style loss."""
    from ranvis.tasks import make_net
    from ranvis.tasks.styleblocks import style_objective

    net = make_net("random", padding="reflect")
    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)
    objs = {k: style_objective(net, c, [s], [1.0], content_layer="conv3_1",
                               style_layers=list(net.arch.presets.style), ratio=(3, 1, 1),
                               style_loss=k)[0] for k in kinds}
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(repeats):
        for k, obj in objs.items():
            x = c.clone().requires_grad_(True)
            t0 = time.perf_counter()
            obj(x)[0].backward()
            times[k].append(time.perf_counter() - t0)
    base = statistics.median(times[kinds[0]])
    print(f"| style loss | s per evaluation ({size} px, median of {repeats}) | × {kinds[0]} |\n"
          "|---|---|---|")
    for k in kinds:
        m = statistics.median(times[k])
        print(f"| {k} | {m:.3f} | {m / base:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    ap.add_argument("--images", type=Path, default=None)
    ap.add_argument("--pairs", default="quick")
    ap.add_argument("--variants", default="today,gram,sw")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--cost", default=None, metavar="K1,K2", help="time these style losses")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--before-after", nargs=2, default=None, metavar=("BEFORE", "AFTER"),
                    help="DIR/PREFIX of two result sets: draw --out as their sheet")
    ap.add_argument("--out", type=Path, default=Path("out/style-losses"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.cost:
        cost(a.size, a.repeats, a.cost.split(","))
        return
    if a.before_after:
        pairs = SP.PAIR_SETS.get(a.pairs, a.pairs).split(",")
        before_after(pairs, a.images, *a.before_after, a.out)
        return
    a.out.mkdir(parents=True, exist_ok=True)
    judge, names = judge_net(), a.variants.split(",")
    scores: dict[str, list[dict]] = {n: [] for n in names}
    for pair in SP.PAIR_SETS.get(a.pairs, a.pairs).split(","):
        c_name, s_name = pair.split(":")
        c, fitted = SP.pair_images(c_name, s_name, a.images, a.size)
        for name in names:
            changes, options = VARIANTS[name]
            s = SP.find_image(s_name, a.images, a.size) if name == "today" else fitted
            with recipe(**changes):
                image, r = SP.run_pair(c, s, judge, "best", a.iters, **options)
            if name == "today":  # scored against the style as the new code fits it
                r["texture"] = SP.texture_energy_score(image, fitted, c)
                r["ratio"] = (SP.gram_distance(judge, image, fitted)
                              / SP.gram_distance(judge, c, fitted))
                r["floor"] = SP.arrangement_floor(judge, c, fitted)
            save(image, str(a.out / f"{name}-{c_name}-{s_name}.png"))
            scores[name].append({"content": c_name, "style": s_name, **r})
            print(f"{name:>14} {c_name}:{s_name} corr {r['corr']:.3f} tex {r['texture']:.2f} "
                  f"ratio {r['ratio']:.3f} floor {r['floor']:.3f} evals {r['evaluations']} "
                  f"{r['seconds']:.0f}s", flush=True)
            atomic_write(a.out / "losses.json", lambda p: p.write_text(json.dumps(scores, indent=1)))
    print("| variant | worst corr | worst texture | worst Gram ratio − target | pass | evals | s |\n"
          "|---|---|---|---|---|---|---|")
    for n in names:
        print(summary(n, scores[n]))


def rescore(c: torch.Tensor, s: torch.Tensor, image: torch.Tensor, judge: Any) -> dict:
    """A saved result's scores against the fitted style ``s`` (as style_pairs.run_pair)."""
    return {"corr": SP.layout_corr(image, c), "texture": SP.texture_energy_score(image, s, c),
            "ratio": SP.gram_distance(judge, image, s) / SP.gram_distance(judge, c, s),
            "floor": SP.arrangement_floor(judge, c, s), "lattice": SP.lattice(image)}


def before_after(pairs: list[str], folder: Path, before: str, after: str, out: Path) -> None:
    """A sheet of content | style | ``before`` result | ``after`` result per pair (results read
    as ``{before,after}-CONTENT-STYLE.png``, each ``DIR/PREFIX``), each result captioned with
    its scores; the worst pair of ``after`` (the one furthest from a target) named on top."""
    from matplotlib.figure import Figure
    from PIL import Image

    from ranvis.io.images import load, resize

    judge, rows = judge_net(), []
    for pair in pairs:
        c_name, s_name = pair.split(":")
        c, s = SP.pair_images(c_name, s_name, folder, 128)
        ims = [load(f"{p}-{c_name}-{s_name}.png") for p in (before, after)]
        rows.append((pair, c, s, ims, [rescore(c, s, im, judge) for im in ims]))

    def shortfall(r: dict) -> float:  # how far the worst score is past its target (≤ 0: met)
        return max(0.80 - r["corr"], (r["texture"] - 0.5) / 2,
                   r["ratio"] - SP.ratio_target(r["floor"]))

    worst = max(rows, key=lambda row: shortfall(row[4][1]))
    fig = Figure(figsize=(6.4, 1.45 * len(rows) + 0.3), dpi=90)
    axes = fig.subplots(len(rows), 4, squeeze=False)
    for i, (pair, c, s, ims, scores) in enumerate(rows):
        labels = [pair.split(":")[0], pair.split(":")[1]] + [
            f"{tag}: corr {r['corr']:.2f} · tex {r['texture']:.2f}\nGram {r['ratio']:.2f} "
            f"(floor {r['floor']:.2f}) · lat {r['lattice']:.2f}"
            for tag, r in zip(("before", "after"), scores, strict=True)]
        for k, (t, label) in enumerate(zip([c, s, *ims], labels, strict=True)):
            ax = axes[i, k]
            ax.axis("off")
            ax.imshow(resize(t, (96, 64))[0].permute(1, 2, 0).clamp(0, 1).numpy())
            ax.set_title(label, fontsize=6, pad=2)
    names = [f"{Path(p).parent.name}/{Path(p).name}" for p in (before, after)]
    fig.suptitle(f"before: {names[0]}, after: {names[1]}; worst pair after: {worst[0]}",
                 fontsize=7)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.45 / len(rows),
                        wspace=0.05, hspace=0.55)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    atomic_write(out, lambda p: Image.open(buf).convert("P", palette=Image.Palette.ADAPTIVE)
                 .save(p, format="png", optimize=True))
    print(f"worst pair after: {worst[0]} {worst[4][1]}")


if __name__ == "__main__":
    main()
