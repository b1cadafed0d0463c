"""ranvis against the usual implementation: speed and memory, side by side. Prints tables.

    PYTHONPATH=src python benchmarks/bench.py [--device cpu|cuda] [--sizes 128,256,512]
        [--repeats 3] [--iters 3] [--quick] [--sections table,ttq,scale,archs] [--json out.json]

table  for inversion (pool5), texture (4 layers) and style transfer (content + 5 style layers +
       TV) at each size: seconds per iteration of ranvis and of the naive reference, their ratio,
       the floor (bare truncated network, forward + backward to the input, frozen weights) and
       ranvis's ratio to it, and the peak memory of each (RSS = VmHWM of a fresh subprocess per
       configuration; on CUDA, max allocated). Timings are interleaved in one process, after a
       warm-up, in steady state (L-BFGS history full), median of --repeats repeats; ranvis/floor is
       the median (min–max) of every evaluation's ratio to a floor pass run right after it
       (cases.time_paired), ranvis/naive of each repeat's ratio, the two timed back to back: a
       machine whose speed drifts (shared hosts) affects both sides of each ratio alike.
ttq    time to quality (quality.py): 256 px style transfer.
scale  1024 and 2048 px style transfer (quality.py): time per iteration per megapixel, memory.
archs  one row per architecture (--archs): style transfer at the first --sizes size, ranvis
       against its own floor (paired per evaluation, as the table), and the peak memory of a
       fresh process running it at --arch-memory px (default 1024).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

from ranvis.nets import ARCH_NAMES  # noqa: E402
from ranvis.platform import heap  # noqa: E402
from ranvis.platform.plan import Footprint, plan_run  # noqa: E402

MB = 1024 * 1024


def header(device: str) -> str:
    cpu = platform.processor() or platform.machine()
    gpu = (f", {torch.cuda.get_device_name()}, cuDNN TF32 "
           f"{'on' if torch.backends.cudnn.allow_tf32 else 'off'}") if device.startswith("cuda") else ""
    clock = "process CPU time" if cases.clock is time.process_time else "wall time"
    return (f"torch {torch.__version__}, device {device}{gpu}, {torch.get_num_threads()} threads, "
            f"{os.cpu_count()} CPUs ({cpu}), {clock}, loadavg {cases.load()}")


# -- peak memory, one fresh subprocess per configuration -------------------------------------------
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def probe(impl: str, task: str, size: int, device: str, k: int = 2,
          fill: bool = True, precision: str = "fp32", arch: str = "vgg19") -> dict[str, float]:
    """Build the task, run k + 2 iterations of ``impl`` (ranvis | naive), the last k with a full
    L-BFGS history (``fill``); report peak memory and (ranvis) seconds per iteration."""
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    case = cases.build(task, size, device, with_naive=impl == "naive", dtype=DTYPES[precision],
                       arch=arch)
    terms = case.objective.terms
    plan = plan_run(  # as the ranvis command's tasks decide it
        Footprint(size, size, [t.layer for t in terms if t.kind == "content"],
                  gram_layers=[t.layer for t in terms if t.kind == "gram"]),
        arch=arch, device=device, precision=precision, history=case.history, keep_freed=True)
    heap.apply_policy(plan.memory.keep_freed, True)
    out: dict[str, float] = {}
    if impl == "ranvis":
        out["s_per_it"] = cases.time_ranvis(case, k, fill=fill)
    else:
        runner = cases.naive.Runner(case.naive, case.x0)
        with cases.full_history() if fill else contextlib.nullcontext():
            runner.run(2)
            runner.run(k)
    out["rss_mb"] = vm_hwm_mb()
    if dev.type == "cuda":
        out["cuda_mb"] = torch.cuda.max_memory_allocated(dev) / MB
    return out


def vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak(impl: str, task: str, size: int, device: str, k: int = 2,
         fill: bool = True, precision: str = "fp32", arch: str = "vgg19") -> dict[str, float]:
    """:func:`probe` in a fresh subprocess (CPU: its VmHWM is this configuration's alone)."""
    if device.startswith("cuda"):  # CUDA peaks are per process but resettable: no subprocess
        import gc
        gc.collect()
        torch.cuda.empty_cache()
        m = probe(impl, task, size, device, k, fill, precision, arch)
        m.pop("rss_mb")
        return m
    cmd = [sys.executable, __file__, "--probe", impl, task, str(size), "--device", device,
           "--iters", str(k), "--clock", "cpu" if cases.clock is time.process_time else "wall",
           "--precision", precision, "--archs", arch]
    cmd += [] if fill else ["--no-fill"]
    out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def mem_str(m: dict[str, float]) -> str:
    if "error" in m:
        return "error"
    return f"{m['cuda_mb']:.0f}" if "cuda_mb" in m else f"{m['rss_mb']:.0f}"


# -- speed ------------------------------------------------------------------------------------------
def measure(task: str, size: int, device: str, repeats: int, k: int,
            precision: str = "fp32") -> dict[str, float]:
    """Interleaved timings (s/iteration, median of repeats) for ranvis, naive and floor.

    ranvis and the floor alternate evaluation by evaluation (cases.time_paired): ratio_floor is
    the median (range_floor the min–max) of every evaluation's ratio to the floor pass right
    after it. ranvis and the naive reference alternate repeat by repeat: ratio_naive is the
    median of the repeats' ratios."""
    case = cases.build(task, size, device, dtype=DTYPES[precision])
    runner = cases.naive.Runner(case.naive, case.x0)
    fns = {"paired": lambda: cases.time_paired(case, k),
           "naive": lambda: cases.time_naive(runner, k)}
    for f in fns.values():  # warm-up: allocator, oneDNN primitives, the naive's history
        f()
    ranvis, floor, naive, per_eval = [], [], [], []
    for r in range(repeats):
        for n in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
            if n == "naive":
                naive.append(fns[n]())
                continue
            ev, fl = fns[n]()
            ranvis.append(cases._median(ev))
            floor.append(cases._median(fl))
            per_eval += [e / f for e, f in zip(ev, fl, strict=True)]
    by_repeat = sorted(a / b for a, b in zip(ranvis, naive, strict=True))
    per_eval.sort()
    m = cases._median
    return {"ranvis": m(ranvis), "naive": m(naive), "floor": m(floor),
            "ratio_naive": m(by_repeat), "range_naive": (by_repeat[0], by_repeat[-1]),
            "ratio_floor": m(per_eval), "range_floor": (per_eval[0], per_eval[-1]),
            "evals_per_floor_ratio": len(per_eval)}


def table(device: str, sizes: list[int], repeats: int, k: int, tasks: list[str],
          memory: bool = True, precisions: tuple[str, ...] = ("fp32", "bf16")) -> list[dict]:
    rows = []
    print(f"\n## Seconds per iteration and peak memory ({header(device)})")
    print(f"steady state (L-BFGS history full), {repeats} interleaved repeats x {k} iterations, "
          "median; ratios: median (min–max) of paired ratios (ranvis/floor: per evaluation, "
          "ranvis/naive: per repeat); memory: "
          + ("CUDA max allocated MB" if device != "cpu" else "peak RSS MB"))
    print("ranvis precision: the dtype its layers compute in (the naive reference: fp32); "
          "ranvis's default (auto) is fp32; bf16 is its opt-in --precision bf16")
    print("\n| task | px | ranvis precision | ranvis s/it | naive s/it | ranvis/naive | floor s/it "
          "| ranvis/floor | ranvis peak MB | naive peak MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for task in tasks:
            for prec in precisions:
                if task == "inversion" and prec != "fp32":
                    continue  # inversion computes in fp32 (device.resolve_precision)
                rows.append(_row(task, size, device, repeats, k, memory, prec))
    print(f"(load at end: {cases.load()})")
    return rows


def _row(task: str, size: int, device: str, repeats: int, k: int, memory: bool,
         prec: str) -> dict:
        t = measure(task, size, device, repeats, k, prec)
        m = ({i: peak(i, task, size, device, precision=prec if i == "ranvis" else "fp32")
              for i in ("ranvis", "naive")} if memory else {"ranvis": {}, "naive": {}})
        row = {"task": task, "size": size, "precision": prec, **t, "mem": m,
               "load": cases.load()}
        rn, rf = t["range_naive"], t["range_floor"]
        print(f"| {task} | {size} | {prec} | {t['ranvis']:.3f} | {t['naive']:.3f} | "
              f"{t['ratio_naive']:.2f} ({rn[0]:.2f}–{rn[1]:.2f}) | {t['floor']:.3f} | "
              f"{t['ratio_floor']:.2f} ({rf[0]:.2f}–{rf[1]:.2f}) | "
              f"{mem_str(m['ranvis']) if memory else '-'} | "
              f"{mem_str(m['naive']) if memory else '-'} |", flush=True)
        return row


def arch_row(arch: str, size: int, device: str, repeats: int, k: int) -> dict:
    """Style transfer on ``arch`` at ``size``: ranvis and its floor, paired per evaluation."""
    case = cases.build("style", size, device, with_naive=False, arch=arch)
    cases.time_paired(case, 1)  # warm-up: extractors, oneDNN primitives
    ranvis, floor, per_eval = [], [], []
    for _ in range(repeats):
        ev, fl = cases.time_paired(case, k)
        ranvis.append(cases._median(ev))
        floor.append(cases._median(fl))
        per_eval += [e / f for e, f in zip(ev, fl, strict=True)]
    per_eval.sort()
    m = cases._median
    return {"arch": arch, "size": size, "ranvis": m(ranvis), "floor": m(floor),
            "ratio_floor": m(per_eval), "range_floor": (per_eval[0], per_eval[-1]),
            "n": len(per_eval), "deepest": case.deepest}


def arch_table(device: str, size: int, archs: list[str], repeats: int, k: int,
               mem_size: int) -> list[dict]:
    """One row per architecture: style transfer at ``size`` against its own floor (paired), and
    the peak memory of a fresh process running it at ``mem_size`` (CPU: peak RSS)."""
    print(f"\n## Style transfer per architecture, {size} px ({header(device)})")
    print(f"{repeats} repeats x {k} evaluations, each paired with a floor pass; taps: the "
          f"architecture's presets; peak memory: style at {mem_size} px, fp32, fresh process")
    print(f"\n| arch | deepest tap | ranvis s/it | floor s/it | ranvis/floor | peak MB at "
          f"{mem_size} px |")
    print("|---|---|---|---|---|---|")
    rows = []
    for arch in archs:
        r = arch_row(arch, size, device, repeats, k)
        r["mem"] = peak("ranvis", "style", mem_size, device, arch=arch) if mem_size else {}
        rf = r["range_floor"]
        print(f"| {arch} | {r['deepest']} | {r['ranvis']:.3f} | {r['floor']:.3f} | "
              f"{r['ratio_floor']:.2f} ({rf[0]:.2f}–{rf[1]:.2f}) | "
              f"{mem_str(r['mem']) if mem_size else '-'} |", flush=True)
        rows.append({**r, "load": cases.load()})
    print(f"(load at end: {cases.load()})")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--sizes", default="128,256,512", help="comma-separated sides in px")
    p.add_argument("--tasks", default=",".join(cases.TASKS))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--iters", type=int, default=3, help="timed iterations per repeat")
    p.add_argument("--quick", action="store_true",
                   help="2 repeats x 2 iterations; ttq with 100 reference iterations")
    p.add_argument("--sections", default="table", help="any of table,ttq,scale,archs")
    p.add_argument("--archs", default=",".join(ARCH_NAMES),
                   help="archs: the architectures (one row each)")
    p.add_argument("--arch-memory", type=int, default=1024,
                   help="archs: the size whose peak memory each row reports (0: none)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    p.add_argument("--precision", default="fp32,bf16",
                   help="ranvis layer dtypes to time, of fp32,bf16 (inversion: fp32 only); "
                        "scale: the first one")
    p.add_argument("--ttq-iters", type=int, default=500)
    p.add_argument("--ttq-loops", default="clamped,unclamped",
                   help="reference loops for time to quality: clamped (tutorial), unclamped")
    p.add_argument("--scale-sizes", default="1024,2048")
    p.add_argument("--scale-paired", default="",
                   help="scale: sizes to time again in one process, alternating with the first "
                        "scale size (paired per-megapixel ratio), e.g. 1024")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: process CPU time, robust to a loaded machine (use with 1 thread)")
    p.add_argument("--json", type=Path, help="also write every number here")
    p.add_argument("--no-fill", action="store_true",
                   help="scale: leave the L-BFGS history unfilled (less memory; see README)")
    p.add_argument("--probe", nargs=3, metavar=("IMPL", "TASK", "SIZE"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if not a.probe:  # the tables, time to quality, paired scale: sizes without lean layers
        heap.apply_policy(True, True)  # as the ranvis command asks (both sides share the process)
    if a.clock == "cpu":
        cases.clock = time.process_time
    if a.device.startswith("cuda"):  # fp32 rows are true fp32 on both sides, as ranvis's fp32
        torch.backends.cudnn.allow_tf32 = False
    if a.probe:
        print(json.dumps(probe(a.probe[0], a.probe[1], int(a.probe[2]), a.device, a.iters,
                               not a.no_fill, a.precision.split(",")[0], a.archs)))
        return 0
    if a.quick:
        a.repeats, a.iters, a.ttq_iters = 2, 2, min(a.ttq_iters, 100)
    sections = a.sections.split(",")
    out: dict[str, object] = {"header": header(a.device), "argv": sys.argv, "start": time.time()}
    if "table" in sections:
        out["table"] = table(a.device, [int(s) for s in a.sizes.split(",")], a.repeats, a.iters,
                             a.tasks.split(","), memory=not a.no_memory,
                             precisions=tuple(a.precision.split(",")))
    if "archs" in sections:
        out["archs"] = arch_table(a.device, [int(s) for s in a.sizes.split(",")][0],
                                  a.archs.split(","), a.repeats, a.iters, a.arch_memory)
    if "ttq" in sections or "scale" in sections:
        import quality
        if "ttq" in sections:
            out["ttq"] = quality.time_to_quality(a.device, a.ttq_iters,
                                                 tuple(a.ttq_loops.split(",")))
        if "scale" in sections:
            out["scale"] = quality.scale(a.device, [int(s) for s in a.scale_sizes.split(",")],
                                         a.iters, peak, mem_str, not a.no_fill,
                                         a.precision.split(",")[0])
            if a.scale_paired:
                out["scale_paired"] = quality.scale_paired(
                    a.device, int(a.scale_sizes.split(",")[0]),
                    [int(s) for s in a.scale_paired.split(",")], a.iters, a.repeats,
                    DTYPES[a.precision.split(",")[0]])
    if a.json:
        a.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
