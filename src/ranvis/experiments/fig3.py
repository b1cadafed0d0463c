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

import os
import time
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.experiments.common import choose_photos
from ranvis.nets import get_arch
from ranvis.nets.base import FrozenNet as Net
from ranvis.nets.spec import NetSpec

POOLS = get_arch(D.ARCH).presets.invert  # the paper's VGG-19: pool1 .. pool5
# The settings live in the shipped study plans data/plans/fig3-quick.toml and fig3.toml; quick
# is sized with the rest of the report for <= 10 min on 2 CPU cores. Its cells are stored in
# OUT/study/cells and reused by a rerun into the same folder (ranvis.study).
PLANS = {True: "fig3-quick", False: "fig3"}


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

    from ranvis.io.record import atomic_write

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


def _stacked_tables(stacked: Any) -> tuple[list[dict[str, Any]], str | None]:
    """[[arch]] tables of the stacked group (one or several specs) and the first's reference."""
    many = stacked if isinstance(stacked, list | tuple) else [stacked]
    specs = [s if isinstance(s, NetSpec) else NetSpec.load(s) for s in many]
    ref = specs[0].info.get("settings", {}).get("reference")
    tables = []
    for i, (raw, spec) in enumerate(zip(many, specs, strict=True)):
        label = "stacked" if len(many) == 1 else f"stacked-{i}"
        tables.append({"spec": spec.to_dict() if isinstance(raw, NetSpec) else str(raw),
                       "label": label})
    return tables, ref


def _trained_table(trained: Any, trained_weights: Any) -> list[dict[str, Any]]:
    path = trained_weights if trained_weights is not None else trained
    if path is None:
        return []
    if isinstance(path, Net):
        raise InputError("Figure 3 runs through the study runner, whose workers load trained "
                         "weights from a file: give trained_weights=PATH")
    return [{"name": D.ARCH, "weights": str(path), "label": "trained"}]


def plan_tables(quick: bool, *, size: int | None = None, iters: int | None = None,
                images: tuple[str, ...] | None = None, layers: tuple[str, ...] = POOLS,
                inits: tuple[int, ...] | None = None, plain_seeds: tuple[int, ...] | None = None,
                stacked: Any = "stacked", trained: Any = None,
                trained_weights: Any = None) -> tuple[dict[str, Any], str | None]:
    """The shipped Figure 3 plan (quick or full) with ``run``'s overrides applied, as tables
    for study.parse_plan; and the stacked net's reference image (never judged)."""
    from ranvis.study.shipped import shipped_path

    tables = tomllib.loads(shipped_path(PLANS[quick]).read_text(encoding="utf-8"))
    study = tables["study"]
    for key, v in (("size", size), ("iters", iters), ("seeds", plain_seeds), ("starts", inits)):
        if v is not None:
            study[key] = list(v) if isinstance(v, tuple) else v
    stacked_tables, ref = _stacked_tables(stacked)
    ref_name = ref.removeprefix("sample:") if isinstance(ref, str) else None
    names = images or choose_photos(len(study["images"]), ref_name)
    study["images"] = [n if n.startswith("sample:") else f"sample:{n}" for n in names]
    plain = {"name": D.ARCH, "label": "plain"}
    tables["arch"] = [*stacked_tables, plain, *_trained_table(trained, trained_weights)]
    tables["task"] = [{"kind": "invert", "taps": list(layers)}]
    return tables, ref


def _study_options(device: str, workers: int | None, progress: bool) -> Any:
    """A local pool on the CPU (all cores, one torch thread per worker unless ``workers`` says
    otherwise; 0: in this process); in this process on a GPU."""
    from ranvis.study import StudyOptions

    cpus = os.cpu_count() or 1
    n = cpus if workers is None else workers
    if not str(device).startswith("cpu") or n == 0:
        return StudyOptions(executor="inline", device=str(device), progress=progress,
                            report=False)
    return StudyOptions(executor="local", workers=n, threads=max(1, cpus // n),
                        device=str(device), progress=progress, report=False)


def _rows(plan: Any, study_dir: Path) -> list[dict[str, Any]]:
    """Figure 3's samples from the stored cells: group, net, image, init, layer, l2, psnr."""
    from ranvis.study.cells import expand
    from ranvis.study.store import CellStore
    from ranvis.study.table import rows as table_rows

    table = table_rows(expand(plan), CellStore(study_dir))
    bad = [r for r in table if r["status"] != "ok"]
    if bad:
        raise RuntimeError(f"{len(bad)} Figure 3 cells did not finish ({bad[0]['status']}: "
                           f"{bad[0].get('error')}); see {study_dir}")
    seeds = list(plan.seeds)
    out = []
    for r in table:
        group, _, index = r["arch"].partition("-")
        net = seeds.index(r["net_seed"]) if r["net_seed"] is not None else int(index or 0)
        out.append({"group": group, "net": net, "image": r["image"].removeprefix("sample:"),
                    "init": r["start"], "layer": r["tap"], "l2": r["l2"], "psnr": r["psnr"]})
    return out


def run(out_dir: Path, quick: bool = True, size: int | None = None, *,
        images: tuple[str, ...] | None = None, layers: tuple[str, ...] = POOLS,
        inits: tuple[int, ...] | None = None, plain_seeds: tuple[int, ...] | None = None,
        iters: int | None = None, stacked: Any = "stacked", trained: Any = None,
        trained_weights: Any = None, device: str = "cpu", workers: int | None = None,
        progress: bool = False) -> dict[str, Any]:
    """Measure Figure 3 through the study runner; write ``fig3.png`` into ``out_dir``; return
    the experiment dict. The cells are stored in ``out_dir/study`` (ranvis.study).

    The plan is the shipped ``fig3-quick.toml`` or ``fig3.toml`` with these overrides:
    ``images``: sample names (default: the plan's number of photos of common.PHOTOS, skipping
    the stacked net's reference image); ``stacked``: "stacked", a spec path or NetSpec, or a
    list of them (several stacked nets); ``trained_weights`` (or ``trained``): a path to a
    torchvision VGG-19 state dict (third group). ``workers``: cell processes (None: one per
    CPU; 0: in this process).
    """
    from ranvis.study import parse_plan, run_study

    t0 = time.perf_counter()
    tables, ref = plan_tables(quick, size=size, iters=iters, images=images, layers=layers,
                              inits=inits, plain_seeds=plain_seeds, stacked=stacked,
                              trained=trained, trained_weights=trained_weights)
    plan = parse_plan(tables, Path.cwd(), source=f"ranvis/data/plans/{PLANS[quick]}.toml")
    out_dir = Path(out_dir)
    summary = run_study(plan, out_dir / "study", _study_options(device, workers, progress))
    rows = _rows(plan, out_dir / "study")
    groups = list(dict.fromkeys(r["group"] for r in rows))
    table = _summary(rows, groups, tuple(layers))
    names = [i.name.removeprefix("sample:") for i in plan.tasks[0].images]
    title = (f"Figure 3: pool-layer reconstructions, {len(names)} photos × "
             f"{len(plan.starts or plan.seeds)} starts, {plan.size} px, {plan.iters} iterations")
    _plot(out_dir / "fig3.png", rows, groups, tuple(layers), title)
    settings = {"plan": PLANS[quick], "size": plan.size, "iters": plan.iters, "images": names,
                "layers": list(layers), "inits": list(plan.starts or []),
                "plain_seeds": list(plan.seeds),
                "groups": {g: len({r["net"] for r in rows if r["group"] == g}) for g in groups},
                "stacked_reference_excluded": ref, "device": device,
                "study": {"dir": "study", "cells": summary.cells,
                          "stored_before": summary.stored_before, "computed": summary.computed,
                          "executor": summary.executor, "workers": summary.workers}}
    return {"title": title, "figures": ["fig3.png"], "numbers": {"table": table, "samples": rows},
            "settings": settings, "seconds": round(time.perf_counter() - t0, 2),
            "verdict": _verdict(table, tuple(layers))}


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

    from ranvis.io.record import write_json

    ap = argparse.ArgumentParser(description="Figure 3 (stacked vs plain random VGG-19)")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--full", action="store_true", help="128 px, 300 iterations, more seeds")
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--trained", default=None, help="torchvision VGG-19 state dict (optional)")
    ap.add_argument("--workers", type=int, default=None, help="cell processes (0: this one)")
    ap.add_argument("--stacked", action="append", default=None, metavar="SPEC",
                    help="stacked spec(s) (repeatable; default: the shipped one)")
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    result = run(a.out_dir, quick=not a.full, size=a.size, iters=a.iters, trained=a.trained,
                 stacked=a.stacked or "stacked", device=a.device, workers=a.workers,
                 progress=True)
    write_json(a.out_dir / "fig3.json", result)
    print(markdown(result))
    print(result["verdict"])
