"""The demo gallery's index.html (demo.py runs the items): per item its inputs, result, metrics,
the settings as readable text (the main ones in a line, all of them in a table) and the loss plot
at a readable size. Torch-free."""
from __future__ import annotations

import html
from typing import Any

from ranvis import defaults as D
from ranvis.io.record import metric_summary

# the settings shown in an item's summary line, in this order (all are in its table)
SHOWN = ("preset", "layers", "content_layer", "style_layers", "iters", "nets", "levels", "param",
         "ratio", "init", "color_match", "scales", "padding", "size", "out_size")
LABELS = {"iters": "iterations", "nets": "networks", "param": "variable", "out_size": "output size",
          "color_match": "colour match", "content_layer": "content layer",
          "style_layers": "style layers", "scales": "scales"}


def readable(key: str, v: Any) -> str:
    """A setting as text a person reads: 128×85, 1:1:0.1, yes, pool1, conv1_1 … conv5_1."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return "none"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict):
        return "; ".join(f"{k} {readable(k, x)}" for k, x in v.items()) or "none"
    if isinstance(v, list | tuple):
        if key == "ratio":
            return ":".join(readable(key, x) for x in v)
        if len(v) == 2 and all(isinstance(x, int) for x in v) and "size" in key:
            return f"{v[0]}×{v[1]}"
        return ", ".join(readable(key, x) for x in v) or "none"
    return str(v)


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def _settings(st: dict[str, Any]) -> str:
    line = " · ".join(f"{_label(k)}: {readable(k, st[k])}" for k in SHOWN if k in st)
    rows = "".join(f"<tr><th>{html.escape(_label(k))}</th><td>{html.escape(readable(k, v))}"
                   "</td></tr>" for k, v in st.items())
    return (f'<p class="settings">{html.escape(line)}</p><details><summary>all settings'
            f"</summary><table>{rows}</table></details>")


def _figure(r: dict[str, Any]) -> str:
    item, rec = r["item"], r["record"]
    inputs = "".join(f'<img src="{item.name}-input{i}.png" alt="input {i}">'
                     for i in range(len(item.inputs)))
    metrics = ", ".join(metric_summary(rec.get("metrics", {}))) or "none"
    return (f'<figure id="{html.escape(item.name)}"><div class="pair">{inputs}'
            f'<img src="{item.name}.png" alt="{html.escape(item.name)}"></div><figcaption>'
            f"<h2>{html.escape(item.name)}</h2><p>{html.escape(item.caption)}</p>"
            f"<p><b>{rec['iterations']} iterations in {rec['seconds']:.1f} s</b>; metrics: "
            f"{html.escape(metrics)}</p>{_settings(rec['settings'])}"
            f'<p><a href="{item.name}.json">run record (JSON)</a></p></figcaption>'
            f'<img class="plot" src="{item.name}-loss.png" alt="loss of {html.escape(item.name)}">'
            "</figure>")


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.4}
figure{margin:1.5em 0;border-bottom:1px solid #ddd;padding-bottom:1em}
h2{font-size:1.1em;margin:.4em 0}.pair img{height:200px;margin-right:8px}
img.plot{width:600px;max-width:100%;display:block;margin-top:.5em}
.settings{color:#444}table{border-collapse:collapse;font-size:.9em}
th,td{text-align:left;padding:1px 8px;border-bottom:1px solid #eee;vertical-align:top}"""


def page(rows: list[dict[str, Any]], seconds: float, size: int) -> str:
    """The whole index.html for ``rows`` ({item, record, seconds}), run in ``seconds``. Its
    script marks each image ``data-loaded`` once decoded (a headless browser checks them)."""
    from ranvis.io.pages import SCRIPT
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>ranvis demo</title>
<style>{STYLE}</style>{SCRIPT}</head><body>
<h1>ranvis demo gallery</h1>
<p>Deep visualization with an untrained VGG-19 (weights N(0, {D.SIGMA}), average pooling),
after He, Wang &amp; Hopcroft, NIPS 2016. Inputs are scikit-image's bundled samples at {size} px
(longer side); every result was computed in this run ({seconds:.0f} s in all). Each item shows
its input(s), the result, its metrics and settings, and its loss per objective evaluation: the
line joins the steps L-BFGS accepted, grey dots are its line-search trials. The iteration
counts are demo-sized, fewer than the presets' defaults (inversion with preset best beyond
pool2 runs 1000 by default), so the deep results are rougher than a full run's. Items ending in <i>-paper</i> use the paper's recipe
(<code>preset="paper"</code>) beside the default <i>best</i> one.</p>
{''.join(_figure(r) for r in rows)}
</body></html>
"""
