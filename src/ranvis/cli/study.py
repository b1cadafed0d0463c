"""``ranvis study``: the command behind cli.commands (its parser: cli.studyflags.add_study)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ranvis.errors import InputError

EXIT_OK, EXIT_CELLS_FAILED = 0, 1  # 1: the study finished but some cells failed every attempt


def _plan(a: argparse.Namespace) -> object:
    from ranvis.cli.studyflags import given_grid_flags, plan_tables
    from ranvis.study.plan import load_plan, parse_plan

    flags = given_grid_flags(a)
    if a.plan is not None:
        if flags:
            raise InputError(f"give a plan file or grid flags, not both (--{flags[0]} was given "
                             f"with {a.plan})")
        return load_plan(a.plan)
    return parse_plan(plan_tables(a), Path.cwd(), source="flags")


def _options(a: argparse.Namespace) -> object:
    from ranvis.study.runner import StudyOptions

    if a.ray is not None and a.inline:
        raise InputError("--ray and --inline exclude each other")
    executor = "ray" if a.ray is not None else "inline" if a.inline else "local"
    address = None if a.ray in (None, "local") else a.ray
    return StudyOptions(executor=executor, workers=a.workers, threads=a.threads,
                        ray_address=address, device=a.device, progress=not a.no_progress,
                        order=a.order, batch=a.batch)


def cmd_study(a: argparse.Namespace) -> int:
    """Print the example plan, or run a study and say what it did."""
    if a.example:
        from ranvis.study.shipped import example_text

        sys.stdout.write(example_text())
        return EXIT_OK
    if a.output is None:
        raise InputError("ranvis study needs -o DIR (where the cells and results go)")
    from ranvis.study.runner import run_study

    plan = _plan(a)
    opts = _options(a)
    try:
        s = run_study(plan, a.output, opts)  # type: ignore[arg-type]
    except KeyboardInterrupt:  # the first SIGINT/SIGTERM (a second one quits at once)
        from ranvis.cli import runtime

        print(f"ranvis: study interrupted by {runtime.signals.name}; every finished cell is "
              f"stored in {Path(a.output) / 'cells'} and the results of those are written; run "
              "the same command again to continue", file=sys.stderr)
        return runtime.signals.status
    rate = f", {s.cells_per_hour:.0f} cells/hour" if s.computed else ""
    print(f"study {a.output}: {s.cells} cells: {s.stored_before} stored before, {s.computed} "
          f"computed, {s.failed} failed" + (f" ({s.corrupt} corrupt, recomputed)" if s.corrupt
                                            else "")
          + f"; {s.no_cell} requested combinations have no cell; start-up "
          f"{s.startup_seconds:.1f} s, compute {s.compute_seconds:.1f} s{rate}; wrote "
          f"{Path(a.output) / 'index.html'}", file=sys.stderr)
    if s.failed:
        print(f"ranvis: {s.failed} cells failed {3} times each; their errors are in "
              f"{Path(a.output) / 'failed'}; run the command again to retry them",
              file=sys.stderr)
        return EXIT_CELLS_FAILED
    return EXIT_OK
