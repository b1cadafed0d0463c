"""Thread settings of the ``ranvis`` command beside a competing CPU-bound process (issue 29).

    PYTHONPATH=src python benchmarks/threads.py --tasks texture,style --size 128 --iters 30

Starts ``--competitors`` busy loops (``python -c 'while 1: pass'``), then runs each task with
each setting in turn, interleaved, ``--repeats`` rounds (so a change of the machine's load hits
every setting alike): ``default`` (the command as shipped: no --threads, passive OpenMP waits),
``1`` and ``2`` (``--threads N``, passive waits), and ``2-spin`` (two threads with OpenMP's own
wait policy, spinning, torch imported before the command: what the command did before issue 29).
Prints the median optimization seconds (the run record's ``seconds``) and wall seconds of the
process per task and setting, and each median over the best setting's. OMP_NUM_THREADS is
removed from the children's environment.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ARGS = {"texture": ["texture", "sample:gravel"],
        "style": ["style", "sample:chelsea", "sample:hubble_deep_field"]}
SETTINGS = {"default": [], "1": ["--threads", "1"], "2": ["--threads", "2"], "2-spin": []}
SPIN = ("import sys, torch; from ranvis.cli.commands import main; "  # torch first: no policy set
        "sys.exit(main(sys.argv[1:]))")


def run(task: str, setting: str, size: int, iters: int, out: Path) -> tuple[float, float]:
    """One run; (optimization seconds from the record, wall seconds of the process)."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    argv = [*ARGS[task], "--size", str(size), "--iters", str(iters), "-o", str(out),
            *SETTINGS[setting]]
    head = [sys.executable, "-c", SPIN] if setting == "2-spin" else [
        sys.executable, "-m", "ranvis"]
    t0 = time.perf_counter()
    subprocess.run([*head, *argv], env=env, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    return json.loads(out.with_suffix(".json").read_text())["seconds"], wall


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", default="texture,style")
    p.add_argument("--settings", default=",".join(SETTINGS))
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--competitors", type=int, default=1)
    a = p.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while 1: pass"])
            for _ in range(a.competitors)]
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(a.repeats):
                for task in a.tasks.split(","):
                    for s in a.settings.split(","):
                        t = run(task, s, a.size, a.iters, Path(tmp) / f"{task}.png")
                        times.setdefault((task, s), []).append(t)
                        print(f"round {r} {task} {s}: {t[0]:.1f} s ({t[1]:.1f} s wall)",
                              file=sys.stderr, flush=True)
    finally:
        for b in busy:
            b.kill()
    print(f"\n{a.competitors} competing process(es), {os.cpu_count()} CPUs, loadavg "
          f"{os.getloadavg()[0]:.1f}, {a.size} px, {a.iters} iterations, medians of {a.repeats}")
    print("\n| task | setting | run s | wall s | run / best |")
    print("|---|---|---|---|---|")
    for task in a.tasks.split(","):
        med = {s: (statistics.median(x[0] for x in times[(task, s)]),
                   statistics.median(x[1] for x in times[(task, s)]))
               for s in a.settings.split(",")}
        best = min(v[0] for v in med.values())
        for s, (run_s, wall_s) in med.items():
            print(f"| {task} | {s} | {run_s:.1f} | {wall_s:.1f} | {run_s / best:.2f} |")


if __name__ == "__main__":
    main()
