"""Everything a study writes besides its cells, from what is stored (so it can be rewritten at
any time, and is after every run, finished or interrupted):

``results.csv`` (study.table), ``leaderboard.json`` and ``leaderboard.md`` (study.leaderboard),
the plots (study.plots), ``inputs/`` (each prepared image as PNG) and ``index.html``
(study.page). Every file is written atomically.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ranvis.study import plots
from ranvis.study.cells import Grid
from ranvis.study.leaderboard import board
from ranvis.study.markdown import markdown
from ranvis.study.model import Plan, Task
from ranvis.study.store import CellStore
from ranvis.study.table import ok_rows, rows, write_csv


def _inputs(grid: Grid, table: list[dict[str, Any]], out: Path) -> dict[str, str]:
    """Write each prepared image once as inputs/SHA.png; image name → relative path."""
    import torch

    from ranvis.io.images import save

    names = {}
    for c in grid.cells:
        for field, name in (("image", c.info["image"]), ("style", c.info["style"])):
            sha = c.settings.get(field)
            if sha is None or name in names:
                continue
            rel = f"inputs/{sha[:16]}.png"
            if not (out / rel).is_file():
                save(torch.from_numpy(grid.images[sha]), out / rel)
            names[name] = rel
    return names


def _figures(task: Task, table: list[dict[str, Any]], b: list[dict[str, Any]],
             out: Path) -> list[str]:
    rs = ok_rows(table, task.name)
    if not rs:
        return []
    title = f"{task.name}: {len({r['arch'] for r in rs})} networks, {len(rs)} cells"
    if task.kind == "invert":
        by = "tap" if task.taps else "stride"
        plots.invert_depth(out / f"{task.name}-depth.png", rs, by, title)
        plots.invert_boxes(out / f"{task.name}-box.png", rs, by, title)
        return [f"{task.name}-depth.png", f"{task.name}-box.png"]
    if task.kind == "zerocost":
        return []
    if task.kind == "texture":
        plots.texture_boxes(out / f"{task.name}-box.png", rs, b, title)
    else:
        plots.style_boxes(out / f"{task.name}-box.png", rs, title)
    return [f"{task.name}-box.png"]


def write_results(plan: Plan, grid: Grid, store: CellStore, out: Path) -> dict[str, Any]:
    """Write the table, leaderboards, plots and page (module doc); returns the leaderboards."""
    from ranvis.io.record import atomic_write, write_json
    from ranvis.study import agreeboard
    from ranvis.study.page import page

    table = rows(grid, store)
    write_csv(out / "results.csv", table)
    boards = {t.name: board(plan, t, table, store) for t in plan.tasks}
    agree = agreeboard.section(plan, table)
    write_json(out / "leaderboard.json", {"plan": plan.name, "tasks": boards,
                                          "agreement": agree})
    md = markdown(plan, boards) + "\n".join(agreeboard.markdown_lines(agree))
    atomic_write(out / "leaderboard.md", lambda p: p.write_text(md, encoding="utf-8"))
    figures = {t.name: _figures(t, table, boards[t.name], out) for t in plan.tasks}
    try:
        runs = json.loads((out / "study.json").read_text()).get("runs", [])
    except (OSError, ValueError):
        runs = []
    agree_html = agreeboard.html(agree, agreeboard.figures(agree, out))
    html = page(plan, table, boards, figures, _inputs(grid, table, out), runs, agree_html)
    atomic_write(out / "index.html", lambda p: p.write_text(html, encoding="utf-8"))
    return boards
