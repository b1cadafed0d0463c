"""The driver: expand a plan into cells, skip the stored ones, run the rest on an executor,
store each result as it arrives, retry failures, then write the results (study.results).

Nothing stored is ever recomputed or lost: the driver writes each cell atomically as soon as it
is back (study.store; the cells of a lockstep group, ``--batch``, come back together:
study.groups), so a study killed at any moment continues where it stood when run again,
and a plan extended with more seeds, images or architectures computes only the new cells. A cell
that fails is tried :data:`MAX_ATTEMPTS` times in all, then recorded as failed with its errors
while the study goes on. The driver holds no network and no large tensor: jobs carry the
prepared images (64 px: 48 kB each) and results come back as PNG bytes and JSON.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ranvis.errors import InputError
from ranvis.study.cells import Cell, Grid, expand
from ranvis.study.executors import Executor, Inline, LocalPool
from ranvis.study.groups import group_cells, unpack
from ranvis.study.model import Plan
from ranvis.study.store import CORRUPT, STORED, CellStore

MAX_ATTEMPTS = 3  # a failed cell is retried twice


@dataclass(frozen=True)
class StudyOptions:
    """How a study runs (not what it computes: nothing here enters a cell's key).
    ``executor``: local | inline | ray; ``workers``: processes or Ray CPUs (None: all CPUs);
    ``threads``: torch threads per worker; ``ray_address``: a cluster (None: a local Ray);
    ``order``: "grid" (the plan's order) or "network" (:func:`by_network`); ``batch``: the
    most inversion cells of one draw, differing only in their photographs, run as one job
    (study.groups; 1: each cell alone; above 1 the cells run in network order)."""

    executor: str = "local"
    workers: int | None = None
    threads: int = 1
    ray_address: str | None = None
    device: str = "cpu"
    progress: bool = True
    report: bool = True
    order: str = "grid"
    batch: int = 1


@dataclass
class Summary:
    """What one run of a study did; appended to ``DIR/study.json``'s ``runs``."""

    cells: int = 0
    stored_before: int = 0
    corrupt: int = 0
    computed: int = 0
    failed: int = 0
    no_cell: int = 0
    executor: str = ""
    workers: int = 0
    threads: int | None = None
    startup_seconds: float = 0.0
    compute_seconds: float = 0.0
    wall_seconds: float = 0.0
    cell_seconds: float = 0.0
    cell_cpu_seconds: float = 0.0
    started: str = ""
    order: str = "grid"
    batch: int = 1

    @property
    def cells_per_hour(self) -> float:
        """Computed cells per hour of compute time (start-up excluded); NaN if none."""
        return 3600 * self.computed / self.compute_seconds if self.computed else float("nan")


def make_executor(opts: StudyOptions) -> Executor:
    """The executor ``opts`` names (InputError for an unknown one, or Ray missing)."""
    workers = opts.workers or os.cpu_count() or 1
    if opts.executor == "inline":
        return Inline()
    if opts.executor == "local":
        return LocalPool(workers, opts.threads)
    if opts.executor == "ray":
        from ranvis.study.rayexec import RayExecutor

        return RayExecutor(opts.ray_address, workers, opts.threads)
    raise InputError(f"executor must be local, inline or ray, got {opts.executor!r}")


def by_network(cells: list[Cell]) -> list[Cell]:
    """``cells`` grouped by network draw (its ``settings["net"]``), groups in the order of their
    first cell, cells in their own order within a group: a worker's network cache
    (study.runcell.NET_CACHE) then builds each draw once instead of once per image. Changes no
    cell, only when it runs (an interrupted study has all cells of fewer networks)."""
    groups: dict[str, list[Cell]] = {}
    for c in cells:
        groups.setdefault(json.dumps(c.settings["net"], sort_keys=True), []).append(c)
    return [c for g in groups.values() for c in g]


def _job(cell: Cell, grid: Grid, device: str) -> dict[str, Any]:
    s = cell.settings
    return {"key": cell.key, "settings": s, "image": grid.images[s["image"]],
            "style": grid.images[s["style"]] if "style" in s else None,
            "batch": [grid.images[b] for b in s["batch"]] if "batch" in s else None,
            "weights": cell.info.get("weights"), "device": device}


def _progress(total: int, initial: int, ex: Executor, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="cell", disable=not enabled, smoothing=0.05,
                desc=f"study ({ex.name}, {ex.workers} worker{'s' * (ex.workers != 1)})")


def _submit(ex: Executor, cells: list[Cell], grid: Grid, device: str) -> Any:
    """Queue one job: a cell, or a group of cells (study.groups) as ``{"group": [job, ...]}``."""
    jobs = [_job(c, grid, device) for c in cells]
    return ex.submit(jobs[0] if len(jobs) == 1 else {"group": jobs})


def _compute(todo: list[list[Cell]], grid: Grid, store: CellStore, ex: Executor,
             opts: StudyOptions, s: Summary) -> None:
    t = time.perf_counter()
    ex.start()
    s.startup_seconds = round(time.perf_counter() - t, 2)
    s.executor, s.workers, s.threads = ex.name, ex.workers, ex.threads
    t = time.perf_counter()
    bar = _progress(s.cells, s.cells - sum(map(len, todo)), ex, opts.progress)
    queue = deque((cells, 1) for cells in todo)
    inflight: dict[Any, tuple[list[Cell], int]] = {}
    errors: dict[str, list[str]] = {}
    try:
        while queue or inflight:
            while queue and len(inflight) < ex.capacity():
                cells, attempt = queue.popleft()
                inflight[_submit(ex, cells, grid, opts.device)] = (cells, attempt)
            bar.set_postfix(running=min(len(inflight), ex.workers), failed=s.failed)
            for handle, result, error in ex.wait(list(inflight)):
                cells, attempt = inflight.pop(handle)
                for cell, res, err in unpack(cells, result, error):
                    _settle(cell, attempt, res, err, store, queue, errors, s)
                    bar.update(int(err is None or attempt >= MAX_ATTEMPTS))
    except BaseException:
        ex.close(now=True)
        raise
    finally:
        s.compute_seconds = round(time.perf_counter() - t, 2)
        bar.close()
    ex.close()


def _settle(cell: Cell, attempt: int, result: dict[str, Any] | None, error: str | None,
            store: CellStore, queue: deque, errors: dict[str, list[str]], s: Summary) -> None:
    """Store a finished cell; or retry a failed one alone (queued first), or after
    MAX_ATTEMPTS record its failure."""
    from tqdm.auto import tqdm

    if error is None:
        assert result is not None
        store.write(cell.key, cell.settings, cell.info, result, attempt)
        s.computed += 1
        s.cell_seconds += result["seconds"]
        s.cell_cpu_seconds += result.get("cpu_seconds", 0.0)
        return
    errors.setdefault(cell.key, []).append(error)
    if attempt < MAX_ATTEMPTS:
        queue.appendleft(([cell], attempt + 1))
        return
    store.write_failure(cell.key, cell.settings, cell.info, errors.pop(cell.key))
    s.failed += 1
    tqdm.write(f"ranvis: cell {cell.key} ({cell.info['arch']}, {cell.info['tap']}, "
               f"{cell.info['image']}) failed {MAX_ATTEMPTS} times: {error.splitlines()[0]}")


def _log_run(out: Path, plan: Plan, s: Summary) -> None:
    from ranvis.io.record import write_json

    path = out / "study.json"
    try:
        log = json.loads(path.read_text())
    except (OSError, ValueError):
        log = {"runs": []}
    log["plan"] = dataclasses.asdict(plan)
    entry = dataclasses.asdict(s)
    entry["cells_per_hour"] = round(s.cells_per_hour, 1) if s.computed else None
    log["runs"] = [*log.get("runs", []), entry]
    write_json(path, log)


def run_study(plan: Plan, out: str | Path, opts: StudyOptions = StudyOptions()) -> Summary:
    """Run every cell of ``plan`` not yet stored in ``out`` (module doc); returns the Summary.
    InputError before any work for an unreadable image, an unwritable ``out`` or a missing
    executor. Interrupted (KeyboardInterrupt), it stops the workers, writes the results of the
    cells stored so far and re-raises."""
    from ranvis.io.record import check_writable
    from ranvis.study.results import write_results

    t0 = time.perf_counter()
    if opts.order not in ("grid", "network"):
        raise InputError(f"order must be grid or network, got {opts.order!r}")
    if opts.batch < 1:
        raise InputError(f"batch must be a positive integer, got {opts.batch}")
    out = Path(out)
    check_writable(out)
    ex = make_executor(opts)
    grid = expand(plan)
    store = CellStore(out)
    states = {c.key: store.state(c.key) for c in grid.cells}
    todo = [c for c in grid.cells if states[c.key] != STORED]
    if opts.order == "network" or opts.batch > 1:
        todo = by_network(todo)
    s = Summary(cells=len(grid.cells), stored_before=len(grid.cells) - len(todo),
                corrupt=sum(v == CORRUPT for v in states.values()), no_cell=len(grid.missing),
                started=time.strftime("%Y-%m-%dT%H:%M:%S%z"), order=opts.order,
                batch=opts.batch)
    try:
        if todo:
            _compute(group_cells(todo, opts.batch), grid, store, ex, opts, s)
    finally:
        s.wall_seconds = round(time.perf_counter() - t0, 2)
        _log_run(out, plan, s)
        if opts.report:
            write_results(plan, grid, store, out)
    return s
