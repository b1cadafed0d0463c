"""``DIR/index.html``: a static page that opens from disk: the runs (where, how long), per task
the leaderboard, the plots and a grid of results (one row per network, one column per image,
the first seed), with links to the table and every stored cell. Images are marked
``data-loaded`` by experiments.report_html's script, so a headless browser can check them."""
from __future__ import annotations

import math
from html import escape
from typing import Any

from ranvis.io.pages import SCRIPT, STYLE, fmt, table_html
from ranvis.study.model import Plan, Task

GRID_STYLE = ".grid td{text-align:center;font-size:.75em}.grid img{width:64px;height:64px;" \
             "image-rendering:pixelated}.grid td.miss{color:#999}"


def _runs(runs: list[dict[str, Any]]) -> str:
    rows = [{"started": r.get("started"), "executor": r.get("executor") or "-",
             "workers": r.get("workers"), "cells": r.get("cells"),
             "stored before": r.get("stored_before"), "computed": r.get("computed"),
             "failed": r.get("failed"), "start-up s": r.get("startup_seconds"),
             "compute s": r.get("compute_seconds"), "cells/hour": r.get("cells_per_hour")}
            for r in runs[-10:]]
    return table_html(rows) if rows else ""


def _clean(e: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in e.items()}


def _board_html(task: Task, board: list[dict[str, Any]]) -> str:
    if not board:
        return '<p class="na">no cell stored yet</p>'
    if task.kind != "invert":
        return table_html([_clean(e) for e in board])
    by = "tap" if task.taps else "stride"
    parts = []
    for depth in board:
        win = depth["first_beats_second"]
        note = (f"first: <b>{escape(depth['first'])}</b>; gap to the second "
                f"{fmt(depth['gap_to_second'])} dB"
                + (f", wins {100 * win:.0f}% of paired images and seeds" if win is not None else "")
                + f"; range of the means {fmt(depth['arch_range'])} dB against a median seed "
                  f"std of {fmt(depth['seed_std_median'])} dB")
        rows = [{"rank": i + 1, **_clean(e)} for i, e in enumerate(depth["ranking"])]
        parts.append(f"<h4>{by} {escape(str(depth[by]))}</h4><p>{note}</p>{table_html(rows)}")
    return "".join(parts)


def _img(src: str, title: str) -> str:
    return f'<img src="{escape(src)}" title="{escape(title)}" alt="{escape(title)}">'


def _depth_order(d: Any) -> tuple[bool, float, str]:
    """Strides in numeric order (4, 8, 16), then tap names in text order."""
    return (isinstance(d, str), d if isinstance(d, int | float) else 0, str(d))


def _grid(task: Task, table: list[dict[str, Any]], inputs: dict[str, str]) -> str:
    """Rows: networks; columns: images (inputs first); one table per depth for inversion."""
    rs = [r for r in table if r.get("task") == task.name and r["status"] != "no_cell"]
    by = "tap" if task.kind != "invert" or task.taps else "stride"
    out = []
    for depth in sorted({r[by] for r in rs}, key=_depth_order):
        at = [r for r in rs if r[by] == depth]
        cols = list(dict.fromkeys((r["image"], r["style"]) for r in at))
        head = "".join(f"<th>{escape(i)}{' / ' + escape(s) if s else ''}</th>" for i, s in cols)
        src = "".join(f"<td>{_img(inputs[i], i) if i in inputs else ''}</td>" for i, _ in cols)
        body = [f"<tr><th>input</th>{src}</tr>"]
        for arch in dict.fromkeys(r["arch"] for r in at):
            tds = []
            for col in cols:
                mine = sorted((r for r in at if r["arch"] == arch and (r["image"], r["style"]) == col),
                              key=lambda r: (r["net_seed"] is None, r["net_seed"] or 0, r["start"]))
                ok = [r for r in mine if r["status"] == "ok"]
                src = f"cells/{ok[0]['key']}/image.png" if ok else ""
                tds.append(f"<td>{_img(src, arch)}</td>" if ok else
                           f'<td class="miss">{escape(mine[0]["status"] if mine else "")}</td>')
            body.append(f"<tr><th>{escape(arch)}</th>{''.join(tds)}</tr>")
        label = f"{by} {depth}" if task.kind == "invert" else ""
        out.append(f"<h4>{escape(label)}</h4><table class=\"grid\"><tr><th></th>{head}</tr>"
                   f"{''.join(body)}</table>")
    return "".join(out)


def page(plan: Plan, table: list[dict[str, Any]], boards: dict[str, list[dict[str, Any]]],
         figures: dict[str, list[str]], inputs: dict[str, str],
         runs: list[dict[str, Any]], agreement: str = "") -> str:
    """The whole index.html (module doc). ``inputs``: image name → its PNG under DIR."""
    counts = {s: sum(r["status"] == s for r in table)
              for s in ("ok", "failed", "pending", "no_cell")}
    sections = []
    for task in plan.tasks:
        imgs = "".join(f'<img src="{escape(f)}" alt="{escape(f)}">' for f in figures[task.name])
        sections.append(f'<section id="{escape(task.name)}"><h2>{escape(task.name)} '
                        f'({escape(task.kind)})</h2>{_board_html(task, boards[task.name])}'
                        f'<div class="figs">{imgs}</div>'
                        f"<details open><summary>results (first seed)</summary>"
                        f"{_grid(task, table, inputs)}</details></section>")
    nets = ", ".join(escape(n.label) for n in plan.nets)
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>ranvis study: {escape(plan.name)}</title><style>{STYLE}{GRID_STYLE}</style>
{SCRIPT}</head><body>
<h1>ranvis study: {escape(plan.name)}</h1>
<p>Plan <code>{escape(plan.source or "flags")}</code>: {plan.size} px, {plan.iters} iterations,
seeds {escape(str(list(plan.seeds)))}, starts {escape(str(list(plan.starts or ["= seed"])))};
networks: {nets}.<br>Cells: {counts["ok"]} stored, {counts["failed"]} failed,
{counts["pending"]} pending; {counts["no_cell"]} requested combinations have no cell (see the
table). Files: <a href="results.csv">results.csv</a> (one row per cell),
<a href="leaderboard.json">leaderboard.json</a>, <a href="study.json">study.json</a> (the
plan and every run), <code>cells/KEY/</code> (each cell's image, run record and scores).</p>
{_runs(runs)}
{"".join(sections)}
{agreement}
</body></html>
"""
