"""Time to quality and scale, for bench.py.

time to quality: the naive reference runs ITERS L-BFGS evaluations of a 256 px style transfer
(the tutorial way, image clamped in the closure; and once more unclamped); its best loss is the
quality bar. ranvis's defaults (``ranvis.tasks.transfer_style`` from the same noise start, same
images) run until their loss reaches that bar. ranvis's layers may compute in bfloat16 (its
default ``precision="auto"``), so the bar is checked in float32: when the loss ranvis reports is
at or below the bar, the float32 objective is evaluated at that (clamped) image, and the run stops
only once that value is at or below the bar (those checks count in ranvis's time). Wall times
include each side's set-up (ranvis: factors and targets; the reference: building the model and
its targets, fed ranvis's factors).

scale: ranvis style transfer at large sizes: seconds per iteration (steady state), per megapixel,
and peak memory (RSS in a fresh subprocess, L-BFGS history full).
"""
from __future__ import annotations

from collections.abc import Callable

import cases
import torch

from ranvis import defaults as D
from ranvis.nets import get_arch
from ranvis.optim.loop import Step
from ranvis.tasks import make_net, transfer_style
from ranvis.tasks import styleblocks as S

VGG19 = get_arch("vgg19")  # the paper's network, the one these studies measured

TTQ_SIZE = 256


def _reference(case: cases.Case, iters: int, clamp: bool) -> dict:
    t0 = cases.clock()
    model = cases.naive.build(**case.naive_args)
    build_s = cases.clock() - t0
    runner = cases.naive.Runner(model, case.x0, clamp=clamp)
    losses = runner.run(iters)
    seconds = cases.clock() - t0
    best = min(losses)
    return {"clamp": clamp, "iters": iters, "seconds": seconds, "build_seconds": build_s,
            "first_loss": losses[0], "best_loss": best, "last_loss": losses[-1],
            "iter_of_best": losses.index(best), "losses": list(losses)}


def _ranvis_until(device: str, bar: float, cap: int) -> dict:
    """ranvis defaults until the loss is <= bar (or ``cap`` iterations)."""
    xc, xs = cases.images(TTQ_SIZE, device=device)
    hits: list[tuple[int, float, float]] = []
    checks: list[tuple[int, float]] = []  # (iteration, float32 loss at its clamped image)
    t0 = cases.clock()
    judge, _ = S.style_objective(make_net("random", device=device), xc, [xs], [1.0],
                                 content_layer=VGG19.presets.content,
                                 style_layers=list(VGG19.presets.style), ratio=D.RATIO)

    def stop_at_bar(step: Step) -> None:
        hits.append((step.i, step.loss, cases.clock() - t0))
        if step.loss <= bar:
            with torch.no_grad():
                checks.append((step.i, float(judge(step.image)[0])))
            if checks[-1][1] <= bar:
                # optimize() ends a run on KeyboardInterrupt and returns the best image so far
                hits[-1] = (step.i, step.loss, cases.clock() - t0)
                raise KeyboardInterrupt

    run = transfer_style(xc, [xs], iters=cap, device=device, callbacks=[stop_at_bar])
    reached = bool(checks) and checks[-1][1] <= bar
    return {"reached": reached, "iters": hits[-1][0] + 1, "seconds": hits[-1][2],
            "precision": run.record["settings"]["precision"],
            "first_loss": run.result.losses[0], "best_loss": min(run.result.losses),
            "float32_checks": checks, "losses": [h[1] for h in hits],
            "times": [h[2] for h in hits]}


def time_to_quality(device: str, iters: int, loops: tuple[str, ...] = ("clamped", "unclamped")
                    ) -> dict:
    case = cases.build("style", TTQ_SIZE, device, with_naive=False)
    print(f"\n## Time to quality: {TTQ_SIZE} px style transfer, reference {iters} evaluations "
          f"(loadavg {cases.load()})")
    print("\n| reference loop | ref. s | ref. best loss | ranvis s to reach it | ranvis iters | "
          "ranvis precision | ranvis/ref time |")
    print("|---|---|---|---|---|---|---|")
    out = []
    for clamp in [loop == "clamped" for loop in loops]:
        ref = _reference(case, iters, clamp)
        ours = _ranvis_until(device, ref["best_loss"], cap=2 * iters)
        ratio = ours["seconds"] / ref["seconds"]
        same_start = abs(ours["first_loss"] - ref["first_loss"]) / ref["first_loss"]
        out.append({"reference": ref, "ranvis": ours, "ratio": ratio, "start_rel_diff": same_start})
        name = "tutorial (clamped)" if clamp else "unclamped"
        print(f"| {name} | {ref['seconds']:.1f} | {ref['best_loss']:.6g} | "
              f"{ours['seconds']:.1f}{'' if ours['reached'] else ' (not reached)'} | "
              f"{ours['iters']} | {ours['precision']} | {ratio:.2f} |", flush=True)
    print(f"(first losses agree to {max(o['start_rel_diff'] for o in out):.1e} relative; "
          f"loadavg at end {cases.load()})")
    return {"size": TTQ_SIZE, "rows": out}


def scale(device: str, sizes: list[int], k: int, peak: Callable[..., dict],
          bench_mem_str: Callable[[dict], str], fill: bool = True,
          precision: str = "fp32") -> list[dict]:
    """Each size in a fresh subprocess (CPU): k steady-state iterations, timed, and its peak.
    The first size runs again at the end: "vs first row" divides by the mean of its two rates,
    so a machine that drifts during the sweep shows as the gap between them."""
    print(f"\n## Scale: ranvis style transfer, layers in {precision} (loadavg {cases.load()}), "
          "L-BFGS history "
          f"{'full (style keeps ' + str(D.STYLE_LBFGS_HISTORY) + ' pairs)' if fill else 'NOT filled (1-' + str(k + 1) + ' pairs)'}")
    print("\n| px | MP | s/it | s/it/MP | vs first row | peak MB |")
    print("|---|---|---|---|---|---|")
    rows = []
    runs = [*sizes, sizes[0]] if len(sizes) > 1 else sizes
    for j, size in enumerate(runs):
        m = peak("ranvis", "style", size, device, k, fill, precision)
        if "s_per_it" not in m:
            print(f"| {size} | failed: {m.get('error', '?')} |", flush=True)
            continue
        t, mp = m["s_per_it"], size * size / 1e6
        rows.append({"size": size, "mp": mp, "s_per_it": t, "s_per_it_mp": t / mp, "mem": m,
                     "history_filled": fill, "precision": precision, "repeat": j > 0 and size == sizes[0]})
        if j == 0:
            print(f"| {size} | {mp:.2f} | {t:.2f} | {t / mp:.2f} | (see below) | {bench_mem_str(m)} |",
                  flush=True)
            continue
        base = [r["s_per_it_mp"] for r in rows if r["size"] == sizes[0]]
        if j == len(runs) - 1 and len(runs) > len(sizes):
            print(f"| {size} again | {mp:.2f} | {t:.2f} | {t / mp:.2f} | first-row rate: mean of "
                  f"{base[0]:.2f} and {base[-1]:.2f} | {bench_mem_str(m)} |", flush=True)
            for r in rows[1:-1]:
                r["vs_first"] = r["s_per_it_mp"] / (sum(base) / len(base))
                print(f"| {r['size']} | vs first row: **{r['vs_first']:.2f}** |", flush=True)
        else:
            print(f"| {size} | {mp:.2f} | {t:.2f} | {t / mp:.2f} | {t / mp / base[0]:.2f} "
                  f"(before the repeat) | {bench_mem_str(m)} |", flush=True)
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    return rows


def scale_paired(device: str, first: int, sizes: list[int], k: int, repeats: int,
                 dtype: torch.dtype = torch.float32) -> list[dict]:
    """Seconds per iteration per megapixel at each of ``sizes`` over that at ``first``, timed
    in one process, alternating (first, size) ``repeats`` times: the median (min–max) of the
    repeats' ratios, which a drifting machine speed affects far less than a sequential sweep."""
    print(f"\n## Scale, paired: s/it/MP at each size over {first} px, {repeats} alternating "
          f"repeats x {k} iterations (loadavg {cases.load()})")
    print("\n| px | s/it/MP | {first} px s/it/MP | ratio median (min–max) |".replace(
        "{first}", str(first)))
    print("|---|---|---|---|")
    base = cases.build("style", first, device, with_naive=False, dtype=dtype)
    rows = []
    for size in sizes:
        case = cases.build("style", size, device, with_naive=False, dtype=dtype)
        mine, theirs, ratios = [], [], []
        for r in range(repeats):
            pair = [(case, size), (base, first)] if r % 2 else [(base, first), (case, size)]
            got = {s: cases.time_ranvis(c, k) / (s * s / 1e6) for c, s in pair}
            mine.append(got[size])
            theirs.append(got[first])
            ratios.append(got[size] / got[first])
        ratios.sort()
        row = {"size": size, "first": first, "s_per_it_mp": cases._median(mine),
               "first_s_per_it_mp": cases._median(theirs), "ratio": cases._median(ratios),
               "range": (ratios[0], ratios[-1])}
        rows.append(row)
        print(f"| {size} | {row['s_per_it_mp']:.2f} | {row['first_s_per_it_mp']:.2f} | "
              f"**{row['ratio']:.2f}** ({ratios[0]:.2f}–{ratios[-1]:.2f}) |", flush=True)
        del case
    return rows
