"""The report page: ``page(results, labels) -> str``, static HTML that opens from disk.

Everything shown comes from ``results`` (what reproduce() measured in this run); nothing is
typed in here but the explanatory text. A tiny inline script marks each <img> with
``data-loaded="1"`` once it has decoded (``"0"`` if it failed), so a headless browser's DOM dump
can tell that every picture really displays.
"""
from __future__ import annotations

import json
from html import escape
from typing import Any

from ranvis.io.pages import SCRIPT, STYLE, fmt, table_html

NUMBERS_SHOWN = 40_000  # characters of a figure's numbers shown inline; all are in results.json

QUICK = ("<b>Quick mode</b> (<code>--quick</code>): smaller images (64 px where the paper "
         "inverts 256 px inputs), fewer iterations and fewer photos and samples, so that the whole "
         "report finishes in at most 10 minutes on 2 CPU cores. It shows the trends, not the "
         "paper's exact setting.")
FULL = ("<b>Full mode</b> (the same command without <code>--quick</code>) uses the paper's "
        "sizes: 256 px inputs where the paper uses them (fc6-fc8 need exactly 256 px, §3), "
        "conv5_1 and fc6-fc8 added to Figures 1-2, 2000 iterations for Figure 4 (§3), and more "
        "photos and samples.")


def _meta(name: str, e: dict[str, Any], command: str, out_dir: str) -> str:
    settings = e.get("settings", {})
    seeds = {k: v for k, v in settings.items() if "seed" in k or "init" in k}
    rest = {k: v for k, v in settings.items() if k not in seeds}
    kwargs = ", ".join(f"{k}={v!r}" for k, v in e.get("call_kwargs", {}).items())
    rows = [("command", f"<code>{escape(command)}</code><br>this figure alone, in Python: "
                        f"<code>from ranvis.experiments import {name}; "
                        f"{name}.run(Path({escape(repr(out_dir + '/' + e['dir']))}), {escape(kwargs)})</code>"),
            ("seeds", escape(", ".join(f"{k}={json.dumps(v)}" for k, v in seeds.items())
                             or "none stated by the module")),
            ("settings", escape("; ".join(f"{k}={json.dumps(v)}" for k, v in rest.items()))),
            ("wall time", f"{e['wall_seconds']:.1f} s (the module's own timing: "
                          f"{fmt(float(e['seconds']))} s)")]
    if e.get("ignored_overrides"):
        rows.append(("overrides not accepted", escape(", ".join(e["ignored_overrides"]))))
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def section(name: str, label: str, e: dict[str, Any], command: str, out_dir: str) -> str:
    """One figure's section: status, verdict, PNGs, per-layer table, command, settings, time."""
    status = e.get("status", "pending")
    head = f'<section id="{name}"><h2>{escape(str(e.get("title") or label))}</h2>'
    if status == "not available":
        return head + (f'<p class="na">{escape(label)}: {escape(e["reason"])} (module '
                       f'<code>{escape(e["module"])}</code> is missing).</p></section>')
    if status == "pending":
        return head + '<p class="na">pending: not run yet.</p></section>'
    if status == "failed":
        return head + (f'<p class="failed">FAILED after {e.get("wall_seconds", 0):.1f} s: '
                       f'{escape(e["error"])}</p></section>')
    imgs = "".join(f'<img src="{escape(e["dir"])}/{escape(f)}" alt="{escape(f)}">'
                   for f in e["figures"])
    table = e["numbers"].get("table")
    tab = table_html(table) if isinstance(table, list) and table else ""
    nums = json.dumps(e["numbers"], indent=1)
    cut = len(nums) > NUMBERS_SHOWN
    nums = nums[:NUMBERS_SHOWN] + ("\n… (cut here; all numbers are in results.json)" if cut else "")
    return (head + f'<p class="verdict"><b>Verdict.</b> {escape(e["verdict"])}</p>'
            f'<div class="figs">{imgs}</div>{tab}{_meta(name, e, command, out_dir)}'
            f"<details><summary>all numbers of this figure</summary><pre>{escape(nums)}</pre>"
            "</details></section>")


def page(results: dict[str, Any], labels: dict[str, str]) -> str:
    """The whole index.html for ``results`` (see report.reproduce)."""
    quick = results["quick"]
    over = {k: v for k, v in results["overrides"].items() if v is not None}
    mode = f'<p class="mode">{QUICK if quick else FULL}'
    mode += f" {FULL}</p>" if quick else "</p>"
    if over:
        mode += (f'<p class="mode">Expert overrides in effect ({escape(str(over))}): these '
                 "numbers test the pipeline only.</p>")
    env = results["environment"]
    done = "finished" if results["finished"] else "still running (this page updates per figure)"
    envline = escape(", ".join(f"{k} {v}" for k, v in env.items()))
    toc = " · ".join(f'<a href="#{n}">{escape(lbl)}</a> ({escape(results["figures"][n].get("status", "pending"))})'
                     for n, lbl in labels.items())
    sections = "".join(section(n, lbl, results["figures"][n], results["command"],
                               results["out_dir"])
                       for n, lbl in labels.items())
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>ranvis: reproducing He, Wang &amp; Hopcroft (NIPS 2016)</title><style>{STYLE}</style>
{SCRIPT}</head><body>
<h1>Reproducing "A Powerful Generative Model Using Random Weights for the Deep Image
Representation" (He, Wang, Hopcroft, NIPS 2016)</h1>
<p>Generated by <code>{escape(results["command"])}</code>, started {escape(results["started"])},
{done}; {results["seconds"]:.0f} s of wall time so far. Machine load average (1, 5, 15 min) at
the start {escape(str(results["load_average_start"]))}, at the last update
{escape(str(results["load_average_now"]))}.<br><small>{envline}</small></p>
{mode}
<p>Every number and picture on this page was computed in this run; all numbers are in
<a href="results.json">results.json</a>. Photographs are scikit-image's bundled samples,
centre-cropped to squares. Networks: the stacked ranVGG (the shipped spec), a plain random VGG-19
(weights N(0, 0.015), average pooling), and the trained VGG-19 only when
<code>--trained-weights</code> is given.</p>
<p>{toc}</p>
{sections}
</body></html>
"""
