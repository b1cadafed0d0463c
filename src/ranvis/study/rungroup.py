"""``run_group(jobs)``: several cells of one network draw that differ only in their photographs
(study.groups), run in lockstep (tasks.lockstep): each cell's task runs exactly as
``run_cell`` would run it, in its own thread, with its own optimizer, line searches, stopping
and judging; only the network passes with gradient of all the cells still running are computed
as one batch. A pure function of the jobs, like run_cell.

Each cell's result is what run_cell returns, except its times: ``seconds`` and ``cpu_seconds``
are the group's, shared equally among its cells (the batched passes are not any one cell's), and
``environment`` names the group's size (``group``). A cell that raises comes back as
``{"key", "error"}`` and the others are unaffected: the driver retries it alone.

A group sets its process's allocator once (tasks.lockstep.lockstep_heap: freed memory kept,
one malloc arena for all threads; the run records then say ``freed_memory_kept``): without it
the group's threads page-faulted their freshly trimmed arenas on every pass (6 ResNet-18 cells
at stride 4, 64 px: 1.11x fewer CPU seconds than one at a time without it, 1.15x with; ~14,000
minor faults against ~100). Cells are 64-256 px: the kept heap is small.
"""
from __future__ import annotations

import time
from typing import Any

from ranvis.study.runcell import _run_task, cached_net, cell_result, describe, png_bytes, run_cell


def check_group(jobs: list[dict[str, Any]]) -> None:
    """ValueError unless ``jobs`` are cells of one network, task and settings (everything but
    the photographs the same), on one device."""
    def rest(job: dict[str, Any]) -> tuple:
        s = {k: v for k, v in job["settings"].items() if k not in ("image", "style")}
        return repr(sorted(s.items())), job.get("device", "cpu"), job.get("weights")

    if not jobs or any(rest(j) != rest(jobs[0]) for j in jobs):
        raise ValueError("a group's cells must differ only in their images")


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """What executors run: a group job (``{"group": [job, ...]}``, study.groups) through
    :func:`run_group`, any other job through study.runcell.run_cell."""
    return run_group(job["group"]) if "group" in job else run_cell(job)


def run_group(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """Compute ``jobs`` (cells, :func:`check_group`) in lockstep; ``{"group": [result, ...]}``
    in their order, a failed cell's entry ``{"key", "error"}`` (module doc)."""
    from ranvis.tasks.lockstep import BatchedNet, Lockstep, lockstep_heap

    check_group(jobs)
    t0, c0 = time.perf_counter(), time.process_time()
    lockstep_heap()
    device = jobs[0].get("device", "cpu")
    net = cached_net(jobs[0]["settings"], jobs[0].get("weights"), device)
    lockstep = Lockstep()
    shared = BatchedNet(net, lockstep)
    outs = lockstep.run([lambda job=job: _run_task(job, device, shared) for job in jobs])
    pngs = [None if isinstance(o, BaseException) else png_bytes(o[0].image) for o in outs]
    n = len(jobs)
    seconds, cpu = (time.perf_counter() - t0) / n, (time.process_time() - c0) / n
    results = []
    for job, out, png in zip(jobs, outs, pngs, strict=True):
        if isinstance(out, BaseException):
            if not isinstance(out, Exception):  # KeyboardInterrupt, SystemExit: not a cell's fault
                raise out
            results.append({"key": job["key"], "error": describe(out)})
            continue
        results.append(cell_result(job, out[0], out[1], png, seconds, cpu, group=n))
    return {"group": results}
