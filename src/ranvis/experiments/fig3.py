"""Figure 3, measured: how far, and how variably, pool1…pool5 reconstructions land from the truth.

Paper §3, Figure 3: on one image (the girl), reconstructions from the stacked ranVGG show lower
Euclidean distance and lower variation than those from plain random VGG-19s, and both beat the
trained VGG. Here: several photographs (the stacked net's reference image is excluded, so it is
never judged on the image it was selected on), several noise starts, and groups

* ``stacked``: the shipped ranVGG (``NetSpec.load("stacked")``) or a given spec;
* ``plain``: plain random VGG-19s ``NetSpec.random(s)`` for several seeds s;
* ``trained`` (optional): a torchvision VGG-19 from a local file (``nets.trained.load_trained``).

Every image is center-cropped to a square and resized to ``size``×``size`` so pixel distances
are comparable across images. Reported per group and layer: mean, std, min, quartiles and max of
the pixel Euclidean distance ‖x − x0‖₂ (images in [0, 1]) and of PSNR, the spread *within* an
image (the std over nets and starts, averaged over images: the paper's per-image variation), the
spread over noise starts alone (std within image and net), and, paired by image and start, how
often a stacked net beats a plain one. Several stacked specs (``stacked=[...]``, e.g. built with
different ``--seed``) make the stacked group a sample of the *procedure*, not of one network.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ranvis import defaults as D
from ranvis.experiments.common import build, choose_photos, invert_photo, photo
from ranvis.metrics import l2_distance, psnr
from ranvis.nets import get_arch
from ranvis.nets.base import FrozenNet as Net
from ranvis.nets.spec import NetSpec
from ranvis.nets.trained import load_trained

POOLS = get_arch(D.ARCH).presets.invert  # the paper's VGG-19: pool1 .. pool5
# quick: sized with the rest of the report for <= 10 min on 2 CPU cores. Its first photos, plain
# seed 0 and noise seed 0 are Figures 1-2's quick runs, which the report computes once
# (common.invert_photo), so quick Figure 3 adds 8 inversion sets of 5 layers, not 12.
QUICK = {"size": 64, "iters": 100, "photos": 2, "inits": (0, 1), "plain_seeds": (0, 1)}
FULL = {"size": 128, "iters": 300, "photos": 5, "inits": (0, 1, 2),
        "plain_seeds": (0, 1, 2, 3, 4)}


def _stats(v: list[float]) -> dict[str, float]:
    a = np.asarray(v, dtype=np.float64)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return {"n": int(a.size), "mean": float(a.mean()), "std": float(a.std()),
            "min": float(a.min()), "q1": float(q1), "median": float(med), "q3": float(q3),
            "max": float(a.max())}


def _spread(rows: list[dict[str, Any]], key: str, by: tuple[str, ...]) -> float:
    """Std of ``key`` within groups of rows sharing the fields ``by``, averaged over groups."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        groups.setdefault(tuple(r[b] for b in by), []).append(r[key])
    return float(np.mean([np.std(v) for v in groups.values()]))


def _groups(stacked: Any, plain_seeds: tuple[int, ...], trained: Any,
            device: str) -> tuple[dict[str, list[Net]], str | None]:
    many = stacked if isinstance(stacked, list | tuple) else [stacked]
    specs = [s if isinstance(s, NetSpec) else NetSpec.load(s) for s in many]
    ref = specs[0].info.get("settings", {}).get("reference")
    groups = {"stacked": [build(spec, device) for spec in specs],
              "plain": [build(NetSpec.random(s), device) for s in plain_seeds]}
    if trained is not None:
        groups["trained"] = [trained if isinstance(trained, Net) else load_trained(trained, device)]
    return groups, ref


def _summary(rows: list[dict[str, Any]], groups: list[str], layers: tuple[str, ...]) -> dict:
    table: dict[str, dict[str, Any]] = {}
    for layer in layers:
        table[layer] = {}
        for g in groups:
            sel = [r for r in rows if r["group"] == g and r["layer"] == layer]
            table[layer][g] = {"l2": _stats([r["l2"] for r in sel]),
                               "psnr": _stats([r["psnr"] for r in sel]),
                               "l2_within_image_std": _spread(sel, "l2", ("image",)),
                               "l2_init_std": _spread(sel, "l2", ("image", "net"))}
        st = [r for r in rows if r["group"] == "stacked" and r["layer"] == layer]
        pairs = [s["l2"] < r["l2"] for s in st for r in rows if r["group"] == "plain"
                 and r["layer"] == layer and (r["image"], r["init"]) == (s["image"], s["init"])]
        table[layer]["stacked_beats_plain"] = float(np.mean(pairs)) if pairs else None
    return table


def _plot(path: Path, rows: list[dict[str, Any]], groups: list[str], layers: tuple[str, ...],
          title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ranvis.record import atomic_write

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    width = 0.8 / len(groups)
    colors = ["tab:blue", "tab:orange", "tab:green"]
    for ax, key, label in ((axes[0], "l2", "Euclidean distance ‖x − x0‖₂"),
                           (axes[1], "psnr", "PSNR (dB)")):
        for gi, g in enumerate(groups):
            data = [[r[key] for r in rows if r["group"] == g and r["layer"] == layer]
                    for layer in layers]
            pos = [i + (gi - (len(groups) - 1) / 2) * width for i in range(len(layers))]
            bp = ax.boxplot(data, positions=pos, widths=width * 0.9, whis=(0, 100),
                            showmeans=True, patch_artist=True,
                            medianprops={"color": "black"})
            for patch in bp["boxes"]:
                patch.set_facecolor(colors[gi % len(colors)])
                patch.set_alpha(0.55)
            ax.plot([], [], color=colors[gi % len(colors)], lw=6, alpha=0.55, label=g)
        ax.set_xticks(range(len(layers)), layers)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, axis="y", lw=0.4)
    axes[0].legend(fontsize=8)
    fig.suptitle(title + " (box: quartiles, whiskers: min-max, triangle: mean)", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png"))
    plt.close(fig)


def _verdict(table: dict[str, Any], layers: tuple[str, ...]) -> str:
    lower_mean = [la for la in layers
                  if table[la]["stacked"]["l2"]["mean"] < table[la]["plain"]["l2"]["mean"]]
    lower_spread = [la for la in layers if table[la]["stacked"]["l2_within_image_std"]
                    < table[la]["plain"]["l2_within_image_std"]]
    win = np.mean([table[la]["stacked_beats_plain"] for la in layers])
    return (f"Paper: stacked ranVGG has lower distance and lower variation than plain random "
            f"VGG-19s. Here stacked has the lower mean distance at "
            f"{len(lower_mean)}/{len(layers)} layers ({', '.join(lower_mean) or 'none'}) and the "
            f"lower within-image spread at {len(lower_spread)}/{len(layers)}; paired by image "
            f"and start a stacked net beats a plain one in {100 * win:.0f}% of cases.")


def run(out_dir: Path, quick: bool = True, size: int | None = None, *,
        images: tuple[str, ...] | None = None, layers: tuple[str, ...] = POOLS,
        inits: tuple[int, ...] | None = None, plain_seeds: tuple[int, ...] | None = None,
        iters: int | None = None, stacked: Any = "stacked", trained: Any = None,
        device: str = "cpu", progress: bool = False) -> dict[str, Any]:
    """Measure Figure 3; write ``fig3.png`` into ``out_dir``; return the experiment dict.

    ``images``: sample names (default: the first ``photos`` of common.PHOTOS, skipping the
    stacked net's reference image).
    ``stacked``: "stacked", a spec path or NetSpec, or a list of them (several stacked nets).
    ``trained``: a path to a torchvision VGG-19 state dict or a ready Net (third group).
    """
    t0 = time.perf_counter()
    cfg = dict(QUICK if quick else FULL)
    cfg.update({k: v for k, v in {"size": size, "iters": iters, "inits": inits,
                                  "plain_seeds": plain_seeds}.items() if v is not None})
    groups, ref = _groups(stacked, tuple(cfg["plain_seeds"]), trained, device)
    ref_name = ref.removeprefix("sample:") if isinstance(ref, str) else None
    names = tuple(images or choose_photos(cfg["photos"], ref_name))
    rows: list[dict[str, Any]] = []
    for img_name in names:
        x0 = photo(img_name, cfg["size"])
        for g, nets in groups.items():
            for ni, net in enumerate(nets):
                for init in cfg["inits"]:
                    for layer in layers:
                        r = invert_photo(img_name, cfg["size"], layer, net, cfg["iters"], init,
                                         device).image
                        rows.append({"group": g, "net": ni, "image": img_name, "init": init,
                                     "layer": layer, "l2": l2_distance(r, x0), "psnr": psnr(r, x0)})
                        if progress:
                            print(img_name, g, ni, init, layer, round(rows[-1]["l2"], 3),
                                  flush=True)
    out_dir = Path(out_dir)
    table = _summary(rows, list(groups), layers)
    title = (f"Figure 3: pool-layer reconstructions, {len(names)} photos × {len(cfg['inits'])} "
             f"starts, {cfg['size']} px, {cfg['iters']} iterations")
    _plot(out_dir / "fig3.png", rows, list(groups), layers, title)
    settings = {**cfg, "images": list(names), "layers": list(layers), "groups":
                {g: len(n) for g, n in groups.items()}, "stacked_reference_excluded": ref,
                "device": device}
    return {"title": title, "figures": ["fig3.png"], "numbers": {"table": table, "samples": rows},
            "settings": settings, "seconds": round(time.perf_counter() - t0, 2),
            "verdict": _verdict(table, layers)}


def markdown(res: dict[str, Any]) -> str:
    """The per-layer table of ``run``'s result as Markdown (mean, quartiles, spread)."""
    table = res["numbers"]["table"]
    lines = ["| layer | group | n | L2 mean | L2 q1 / median / q3 | L2 min–max | L2 std "
             "(within image; over starts) | PSNR mean | PSNR q1 / median / q3 |",
             "|" + " --- |" * 9]
    for layer, row in table.items():
        for g, v in row.items():
            if g == "stacked_beats_plain":
                continue
            a, p = v["l2"], v["psnr"]
            lines.append(f"| {layer} | {g} | {a['n']} | {a['mean']:.2f} | {a['q1']:.2f} / "
                         f"{a['median']:.2f} / {a['q3']:.2f} | {a['min']:.2f}–{a['max']:.2f} | "
                         f"{a['std']:.2f} ({v['l2_within_image_std']:.2f}; {v['l2_init_std']:.2f}) | "
                         f"{p['mean']:.2f} | "
                         f"{p['q1']:.2f} / {p['median']:.2f} / {p['q3']:.2f} |")
        beats = row["stacked_beats_plain"]
        lines.append(f"| {layer} | stacked beats plain (paired) | | {100 * beats:.0f}% | | | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    from ranvis.record import write_json

    ap = argparse.ArgumentParser(description="Figure 3 (stacked vs plain random VGG-19)")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--full", action="store_true", help="128 px, 300 iterations, more seeds")
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--trained", default=None, help="torchvision VGG-19 state dict (optional)")
    ap.add_argument("--stacked", action="append", default=None, metavar="SPEC",
                    help="stacked spec(s) (repeatable; default: the shipped one)")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    result = run(a.out_dir, quick=not a.full, size=a.size, iters=a.iters, trained=a.trained,
                 stacked=a.stacked or "stacked", device=a.device, progress=True)
    write_json(a.out_dir / "fig3.json", result)
    print(markdown(result))
    print(result["verdict"])
