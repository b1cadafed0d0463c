"""Time to a finished style transfer: the old Gram ``best`` against schedules of the new one
(issue 28's time target), interleaved pair by pair so that both sides share the machine's load.

Each pair runs every variant in turn at --size with its defaults (≤ --iters evaluations, the
plateau stop); a row gives the evaluations per scale, the process CPU seconds (one torch
thread: CPU time is what the run costs, wall time what the load made of it), the wall seconds
and the scores of experiments.style_pairs (layout correlation, texture-energy score, Gram ratio
against its floor). Variants: ``today`` the Gram recipe before issue 28 (its style resized, as
it ran); ``prev`` the sliced Wasserstein ``best`` of issue 28's first round (:data:`PREV`, with
``-p0``: every position sorted, as then); ``best`` as the presets now say; ``*-2s`` two scales (half size
first); ``*-pN`` the sliced Wasserstein sort on at most N positions per tap
(styleloss.SW_POSITIONS); ``*-wN`` a plateau window of N evaluations, ``*-tolX`` its relative
tolerance; ``*-kF`` F·C directions; ``*-hfE`` the start perturbed by high-pass noise with the
style's fine-texture energy.

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/style_time.py --images DIR \\
        --pairs kite:starfield,path:choc_swirl --variants today,best,best-2s --size 256
    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/style_time.py --cost today,best-p0,best
"""
from __future__ import annotations

import argparse
import contextlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from ranvis.experiments import style_losses as SLX
from ranvis.experiments import style_pairs as SP
from ranvis.io.images import save
from ranvis.objectives import styleloss
from ranvis.objectives.judges import judge_net
from ranvis.tasks import transfer

#: ``best`` as issue 28's first round left it: white-noise start of std 0.1, the default plateau
#: (0.1 % over 40 evaluations), every position sorted.
PREV = {"start": "noise", "start_noise": 0.1, "plateau_window": 40, "plateau_tol": 1e-3}


@contextlib.contextmanager
def variant(name: str) -> Iterator[dict]:
    """The recipe of variant ``name`` while the block runs; yields transfer_style options."""
    base, *mods = name.split("-")
    changes = {"today": SLX.OLD, "prev": PREV}.get(base, {})
    opts: dict = {}
    saved = (styleloss.SW_POSITIONS, styleloss.SW_DIRECTIONS)
    for m in mods:
        if m == "2s":
            opts["scales"] = 2
        elif re.fullmatch(r"p\d+", m):
            styleloss.SW_POSITIONS = int(m[1:]) or None
        elif re.fullmatch(r"k[\d.]+", m):
            styleloss.SW_DIRECTIONS = float(m[1:])
        elif m == "hfE":  # start: high-pass noise with the style's fine-texture energy
            changes = {**changes, "start": "hf", "start_noise": "style"}
        elif re.fullmatch(r"w\d+", m):
            changes = {**changes, "plateau_window": int(m[1:])}
        elif re.fullmatch(r"tol[\d.e-]+", m):
            changes = {**changes, "plateau_tol": float(m[3:])}
        else:
            raise SystemExit(f"unknown variant part {m!r} in {name!r}")
    try:
        with SLX.recipe(**changes):
            yield opts
    finally:
        styleloss.SW_POSITIONS, styleloss.SW_DIRECTIONS = saved


def run(c: torch.Tensor, s: torch.Tensor, name: str, iters: int,
        snapshots: set[int]) -> tuple:
    """One transfer of variant ``name``: (image, row, [(evaluation, CPU s, image)] at each of
    ``snapshots``: the image as the run stood after that many evaluations, and the CPU time it
    had taken; the scoring happens after the run, outside its time)."""
    shots: list = []
    cpu0 = time.process_time()

    def keep(step: object) -> None:
        if step.i + 1 in snapshots:  # type: ignore[attr-defined]
            shots.append((step.i + 1, time.process_time() - cpu0, step.image.clone()))  # type: ignore

    with variant(name) as opts:
        t0 = time.perf_counter()
        r = transfer.transfer_style(c, [s], preset="best", iters=iters, device="cpu",
                                    callbacks=[keep], **opts)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    per = [sc["iters"] for sc in r.record["scales"]]
    return r.image, {"evals": per, "cpu": cpu, "wall": wall,
                     "losses": [float(f"{v:.6g}") for v in r.record["loss"]]}, shots


def cost(size: int, repeats: int, names: list[str]) -> None:
    """Print CPU seconds per evaluation (forward + backward of the objective, random images,
    medians over ``repeats`` interleaved rounds) of each variant's style loss at ``size``."""
    from ranvis.tasks import make_net
    from ranvis.tasks.styleblocks import style_objective

    net = make_net("random", padding="reflect")
    g = torch.Generator().manual_seed(0)
    c, s = torch.rand(1, 3, size, size, generator=g), torch.rand(1, 3, size, size, generator=g)
    objs = {}
    for name in names:
        with variant(name):
            kind = SLX.OLD["style_loss"] if name.startswith("today") else "sw"
            objs[name] = style_objective(net, c, [s], [1.0], content_layer="conv3_1",
                                         style_layers=list(net.arch.presets.style),
                                         ratio=(3, 1, 1), style_loss=kind)[0]
    times: dict[str, list[float]] = {k: [] for k in objs}
    for _ in range(repeats):
        for k, obj in objs.items():
            x = c.clone().requires_grad_(True)
            t0 = time.process_time()
            obj(x)[0].backward()
            times[k].append(time.process_time() - t0)
    base = sorted(times[names[0]])[repeats // 2]
    print(f"| variant | CPU s / evaluation ({size} px) | × {names[0]} |\n|---|---|---|")
    for k, ts in times.items():
        m = sorted(ts)[repeats // 2]
        print(f"| {k} | {m:.3f} | {m / base:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    ap.add_argument("--images", type=Path, default=None)
    ap.add_argument("--pairs", default="kite:starfield")
    ap.add_argument("--variants", default="today,best,best-2s")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--snapshots", default="", metavar="N1,N2",
                    help="also score the image after these many evaluations (a trajectory)")
    ap.add_argument("--cost", default=None, metavar="V1,V2",
                    help="only time one evaluation of each variant's objective (--repeats)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("out/style-time"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.cost:
        cost(a.size, a.repeats, a.cost.split(","))
        return
    a.out.mkdir(parents=True, exist_ok=True)
    judge, rows = judge_net(), []
    print("| pair | variant | evaluations | CPU s | wall s | corr | texture | Gram ratio | floor |\n"
          "|---|---|---|---|---|---|---|---|---|", flush=True)
    for pair in a.pairs.split(","):
        cn, sn = pair.split(":")
        c, fitted = SP.pair_images(cn, sn, a.images, a.size)
        for name in a.variants.split(","):
            s = SP.find_image(sn, a.images, a.size) if name.startswith("today") else fitted
            snaps = {int(n) for n in a.snapshots.split(",") if n}
            image, row, shots = run(c, s, name, a.iters, snaps)
            row.update(pair=pair, variant=name, **SLX.rescore(c, fitted, image, judge))
            row["trajectory"] = [{"evals": n, "cpu": t, **SLX.rescore(c, fitted, im, judge)}
                                 for n, t, im in shots]
            for t in row["trajectory"]:
                print(f"| {pair} | {name} @{t['evals']} | {t['evals']} | {t['cpu']:.0f} | | "
                      f"{t['corr']:.3f} | {t['texture']:.2f} | {t['ratio']:.3f} | "
                      f"{t['floor']:.3f} |", flush=True)
            rows.append(row)
            save(image, str(a.out / f"{name}-{cn}-{sn}.png"))
            print(f"| {pair} | {name} | {'+'.join(map(str, row['evals']))} | {row['cpu']:.0f} | "
                  f"{row['wall']:.0f} | {row['corr']:.3f} | {row['texture']:.2f} | "
                  f"{row['ratio']:.3f} | {row['floor']:.3f} |", flush=True)
            (a.out / "time.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
