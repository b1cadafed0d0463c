"""Cells grouped into lockstep jobs (``ranvis study --batch N``): the cells of one network draw,
task and settings that differ only in their photographs run as one job (study.rungroup), their
network passes batched. Grouping changes when and how a cell is computed, never what: each cell
keeps its key, its own optimization and its own stored result, and the driver stores each of a
group's cells as the group comes back (a group interrupted before then stores none of its
cells, and the next run computes them again). Only inversion cells are grouped, where it
measured faster (benchmarks/README.md, "Lockstep groups": 1.26-1.32x the cells per CPU hour at
64 px, 40 evaluations); texture and style cells run in lockstep just as well but measured no
faster (their plateau stops, second passes and judges are per image), and zero-cost cells have
no optimization: those run alone.
"""
from __future__ import annotations

import json
from typing import Any

from ranvis.study.cells import Cell

GROUPED = ("invert",)  # the tasks whose cells are grouped (module doc)


def group_key(cell: Cell) -> str | None:
    """What a cell shares with the cells it may be grouped with: its settings without the
    photographs (None: a cell that runs alone)."""
    s = cell.settings
    if s.get("task") not in GROUPED:
        return None
    return json.dumps({k: v for k, v in s.items() if k not in ("image", "style")},
                      sort_keys=True)


def group_cells(cells: list[Cell], size: int) -> list[list[Cell]]:
    """``cells`` as jobs of at most ``size`` cells each (1: every cell alone), a group's cells
    sharing :func:`group_key`; jobs in the order of their first cell, cells in their own
    order (give the cells in network order, study.runner.by_network, to keep a draw's jobs
    together)."""
    if size < 1:
        raise ValueError(f"group size must be a positive integer, got {size}")
    jobs: list[list[Cell]] = []
    open_: dict[str, list[Cell]] = {}
    for c in cells:
        key = group_key(c) if size > 1 else None
        if key is None:
            jobs.append([c])
            continue
        if key not in open_ or len(open_[key]) >= size:
            open_[key] = []
            jobs.append(open_[key])
        open_[key].append(c)
    return jobs


def unpack(cells: list[Cell], result: dict[str, Any] | None,
           error: str | None) -> list[tuple[Cell, dict[str, Any] | None, str | None]]:
    """A job's outcome per cell: (cell, result, error). A group job that failed as a whole
    (its worker died, say) fails each of its cells with that error."""
    if len(cells) == 1 and (result is None or "group" not in result):
        return [(cells[0], result, error)]
    if result is None:
        return [(c, None, error or "the group job returned nothing") for c in cells]
    by_key = {r["key"]: r for r in result["group"]}
    out: list[tuple[Cell, dict[str, Any] | None, str | None]] = []
    for c in cells:
        r = by_key.get(c.key)
        if r is None:
            out.append((c, None, "the group job returned no result for this cell"))
        elif "error" in r:
            out.append((c, None, r["error"]))
        else:
            out.append((c, r, None))
    return out
