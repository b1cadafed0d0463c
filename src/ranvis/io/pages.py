"""Pieces of the static HTML pages ranvis writes (the report, the study page, the demo page):
the shared stylesheet, the script that marks each decoded <img> with ``data-loaded="1"`` (``"0"``
if it failed, so a headless browser's DOM dump can tell that every picture displays), number
formatting and a table of flat dicts."""
from __future__ import annotations

import math
from html import escape
from typing import Any

STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
section{border-top:1px solid #ccc;margin-top:2em;padding-top:.5em}
.figs img{max-width:100%;margin:.4em 0;display:block}
table{border-collapse:collapse;font-size:.9em;margin:.6em 0}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
table.num td{text-align:right;font-variant-numeric:tabular-nums}
.verdict{background:#f4f7fb;border-left:4px solid #58a;padding:.5em .8em}
.mode{background:#fff8e6;border-left:4px solid #e0a000;padding:.5em .8em}
.failed{color:#b00;font-weight:bold}.na{color:#777;font-style:italic}
pre{font-size:.75em;max-height:24em;overflow:auto;background:#f8f8f8;padding:.5em}
code{background:#f2f2f2;padding:0 .2em}"""

SCRIPT = """<script>
function mark(i){i.dataset.loaded=(i.complete&&i.naturalWidth>0)?"1":"0";}
window.addEventListener("load",function(){document.querySelectorAll("img").forEach(mark);});
</script>"""

def fmt(v: Any) -> str:
    """A number as shown on the page (3 significant digits, ints as they are)."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def table_html(rows: list[dict[str, Any]]) -> str:
    """A list of flat dicts as a table; ``X_mean``/``X_std`` column pairs become "mean ± std"."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    cols: list[tuple[str, str | None]] = []
    for k in keys:
        if k.endswith("_std") and k[:-4] + "_mean" in keys:
            continue
        if k.endswith("_mean") and k[:-5] + "_std" in keys:
            cols.append((k[:-5] + " (mean ± std)", k[:-5]))
        else:
            cols.append((k, None))
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c, _ in cols)
    body = []
    for r in rows:
        cells = []
        for (col, pair) in cols:
            if pair:
                m, s = r.get(pair + "_mean"), r.get(pair + "_std")
                cells.append(f"<td>{fmt(m)} ± {fmt(s)}</td>")
            else:
                v = r.get(col)
                cells.append(f"<td>{escape(fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="num"><tr>{head}</tr>{"".join(body)}</table>'
