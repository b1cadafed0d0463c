"""The study's agreement section: every score's rank agreement with trained ImageNet-1k top-1
(study.agreement) in ``leaderboard.json`` (``agreement``), ``leaderboard.md`` and
``index.html``, with one scatter plot per score (``agree-SCORE.png``: the score against top-1,
one point per studied network, families coloured).

The scores: inversion PSNR and SSIM at each stride (or tap), texture judge distance, style
distance d and content SSIM, and the zero-cost scores (NASWOT, log10 synflow, params, GFLOPs);
each network's score is its mean over images and seeds.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ranvis.study.agreement import agreement
from ranvis.study.plan import Plan
from ranvis.study.table import ok_rows, values
from ranvis.study.trained import header, join, top1_table

TASK_SCORES = {"invert": ("psnr", "ssim"), "texture": ("judge_distance",), "style": ("d", "ssim"),
               "zerocost": ("naswot", "log10_synflow", "params_m", "gflops")}
NO_CELL = "No cell at the study's size (left out of those scores):"
STATS = ("kendall", "spearman", "kendall_within", "spearman_within", "kendall_across",
         "spearman_across")


def _means(rs: list[dict[str, Any]], key: str) -> dict[str, tuple[str, float]]:
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rs:
        per[r["arch"]].append(r)
    out = {}
    for label, g in per.items():
        v = values(g, key)
        out[label] = (g[0]["arch_name"], float(v.mean()) if v.size else math.nan)
    return out


def _score_rows(plan: Plan, table: list[dict[str, Any]]) -> list[tuple[str, str, list[Any]]]:
    """(score name, row key, the rows it averages) for every score of the study."""
    out = []
    for task in plan.tasks:
        rs = ok_rows(table, task.name)
        if task.kind == "invert":
            by = "tap" if task.taps else "stride"
            for depth in sorted({r[by] for r in rs}, key=lambda d: (isinstance(d, str), str(d)
                                                                     if isinstance(d, str) else d)):
                at = [r for r in rs if r[by] == depth]
                for key in TASK_SCORES["invert"]:
                    prefix = "s" if by == "stride" else ""
                    out.append((f"{task.name} {key} {prefix}{depth}", key, at))
        elif rs:
            out += [(f"{task.name} {key}", key, rs) for key in TASK_SCORES[task.kind]]
    return out


def score_sets(plan: Plan, table: list[dict[str, Any]]) -> dict[str, dict[str, tuple[str, float]]]:
    """{score name: {network label: (architecture, mean score)}} (module doc)."""
    return {name: _means(rs, key) for name, key, rs in _score_rows(plan, table)}


def _grown(rs: list[dict[str, Any]], size: int) -> dict[str, int]:
    """{network label: size} for the rows ``rs`` that ran at another size than the study's
    ``size`` (a grown tap, study.taps)."""
    return {r["arch"]: int(r["size"]) for r in rs
            if r.get("size") is not None and r["size"] != size}


def no_cell(table: list[dict[str, Any]]) -> dict[str, list[str]]:
    """{network label: why} for every requested combination without a cell (e.g. an
    architecture whose taps need a larger input than the study's size): such a network is left
    out of the scores it has no cell for, and named with its reason, never dropped silently."""
    out: dict[str, list[str]] = defaultdict(list)
    for r in table:
        if r["status"] == "no_cell":
            why = f"{r['task']}: {r['error']}"
            if why not in out[r["arch"]]:
                out[r["arch"]].append(why)
    return dict(out)


VARIANT_FIELDS = ("pool", "init", "sigma", "fixed")


def by_variant(by_label: dict[str, tuple[str, float]],
               rows: list[dict[str, Any]]) -> dict[str, dict[str, tuple[str, float]]]:
    """``by_label`` split so that no architecture counts twice in one τ: {"": by_label} when
    every architecture appears once, else one group per variant of the architectures drawn
    more than once (their pooling, init, σ or weights: VARIANT_FIELDS of their ``rows``),
    named by the fields that differ ("init he", "init paper"), each group with every
    architecture drawn once added. Two draws of one architecture are one architecture's two
    readings, not two points of evidence about architectures."""
    count = Counter(arch for arch, _v in by_label.values())
    if max(count.values(), default=0) <= 1:
        return {"": by_label}
    of = {r["arch"]: tuple(r.get(k) for k in VARIANT_FIELDS) for r in rows if "arch" in r}
    groups: dict[tuple, dict[str, tuple[str, float]]] = defaultdict(dict)
    for label, av in by_label.items():
        if count[av[0]] > 1:
            groups[of.get(label, (label,) * len(VARIANT_FIELDS))][label] = av
    varying = [i for i in range(len(VARIANT_FIELDS)) if len({v[i] for v in groups}) > 1]
    once = {label: av for label, av in by_label.items() if count[av[0]] == 1}
    return {", ".join(f"{VARIANT_FIELDS[i]} {v[i]}" for i in varying): {**g, **once}
            for v, g in sorted(groups.items(), key=lambda kv: str(kv[0]))}


def _entries(name: str, by_label: dict[str, tuple[str, float]], grown: dict[str, int],
             size: int) -> list[dict[str, Any]]:
    """One score's agreement entries: all its networks, then (where some ran at a grown size)
    the same score without them ("…, SIZE px only")."""
    joined = join(by_label, top1_table())
    points = [{**p, "size": grown[p["label"]]} if p["label"] in grown else p
              for p in joined.points]
    out = [{"score": name, **agreement(points), "unscored": joined.unscored,
            "points": points, "grown": sorted(grown)}]
    if grown:  # the same score without them: do they move the answer?
        kept = [p for p in points if "size" not in p]
        out.append({"score": f"{name}, {size} px only", **agreement(kept),
                    "unscored": joined.unscored, "points": kept, "grown": [],
                    "study_size_only": True})
    return out


def section(plan: Plan, table: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``agreement`` entry of leaderboard.json: the reference's header, the studied
    architectures the trained table lacks, the networks with requested combinations but no
    cell (``no_cell``: label → reasons) and each score's statistics with intervals, per
    variant where a study draws an architecture more than once (:func:`by_variant`: "invert
    psnr s4 [init paper]"). A score with networks that ran at a grown size (``grown``: their
    labels; their points carry their ``size``) is followed by the same score without them
    ("…, 64 px only")."""
    missing = sorted({n.arch for n in plan.nets if n.arch not in top1_table()})
    scores = []
    for name, key, rs in _score_rows(plan, table):
        grown = _grown(rs, plan.size)
        for variant, group in by_variant(_means(rs, key), table).items():
            full = f"{name} [{variant}]" if variant else name
            mine = {k: v for k, v in grown.items() if k in group}
            scores += _entries(full, group, mine, plan.size)
    return {"reference": header(), "missing": missing, "no_cell": no_cell(table),
            "scores": scores}


def no_cell_items(sec: dict[str, Any]) -> list[str]:
    """One line per network without a cell: "LABEL: task: why; task: why" ([] if none)."""
    return [f"{label}: {'; '.join(why)}" for label, why in (sec.get("no_cell") or {}).items()]


def slug(name: str) -> str:
    """A file-name form of a score name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _ci(e: dict[str, Any], key: str) -> str:
    v = e.get(key)
    if not v or not math.isfinite(v["value"]):
        return "–"
    return f"{v['value']:+.2f} [{v['lo']:+.2f}, {v['hi']:+.2f}]"


def _grown_notes(sec: dict[str, Any]) -> list[str]:
    """One line naming the networks that ran at a grown size ([] if none)."""
    sizes = {p["label"]: p["size"] for e in sec["scores"] for p in e.get("points", [])
             if "size" in p}
    if not sizes:
        return []
    names = ", ".join(f"{label} ({size} px)" for label, size in sorted(sizes.items()))
    return [f"- ran at a larger size than the study's (their taps need it): {names}; each "
            "score with them is followed by the same score without them (\"… px only\")"]


def markdown_lines(sec: dict[str, Any]) -> list[str]:
    """The section as Markdown: one row per score, τ and ρ with their 95 % intervals."""
    out = ["## Agreement with trained ImageNet-1k top-1", "",
           "Kendall τ_b and Spearman ρ of each score against top-1 over networks, with 95 % "
           "bootstrap intervals over architectures; within-family: pairs of one family (ρ: "
           "size-weighted mean over families of ≥ 3); across-family: pairs of two families (ρ: "
           "over family means). Reference: " + " ".join(sec["reference"][1:]), ""]
    if sec["missing"]:
        out += [f"Not in the trained table (no top-1, left out): {', '.join(sec['missing'])}",
                ""]
    if no_cell_items(sec):
        out += [NO_CELL, "", *(f"- {item}" for item in no_cell_items(sec)), ""]
    out += ["| score | n | families | τ | ρ | τ within | ρ within | τ across | ρ across |",
            "|" + "---|" * 9]
    for e in sec["scores"]:
        out.append(f"| {e['score']} | {e['n']} | {e['families']} | "
                   + " | ".join(_ci(e, k) for k in STATS) + " |")
    notes = [f"- {e['score']}: no finite score for {', '.join(e['unscored'])} (left out)"
             for e in sec["scores"] if e.get("unscored") and not e.get("study_size_only")]
    notes += _grown_notes(sec)
    return [*out, "", *notes, ""] if notes else [*out, ""]


def scatter(path: Path, e: dict[str, Any]) -> None:
    """``e``'s points: score (x) against top-1 (y), one colour per family, τ and ρ in the
    title."""
    from ranvis.io.figures import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    fams = sorted({p["family"] for p in e["points"]})
    cmap = plt.get_cmap("tab10")
    for k, f in enumerate(fams):  # colour and marker together tell up to 60 families apart
        pts = [p for p in e["points"] if p["family"] == f]
        ax.scatter([p["score"] for p in pts], [p["top1"] for p in pts], s=18,
                   color=cmap(k % 10), marker="osD^vP"[k // 10 % 6], label=f,
                   edgecolors="black", linewidths=0.3)
    grown = [p for p in e["points"] if "size" in p]  # a grown network: say its size
    for k, p in enumerate(sorted(grown, key=lambda p: -p["top1"])):  # labels staggered
        ax.annotate(f"{p['arch'].removeprefix('timm:')}, {p['size']} px", (p["score"], p["top1"]),
                    fontsize=5, xytext=(6, 6 - 7 * k), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "lw": 0.3, "color": "0.4"})
    ax.set_xlabel(e["score"], fontsize=8)
    ax.set_ylabel("ImageNet-1k top-1 (%)", fontsize=8)
    ax.set_title(f"{e['score']}: n={e['n']}, τ {_ci(e, 'kendall')}, ρ {_ci(e, 'spearman')}",
                 fontsize=7)
    ax.grid(alpha=0.3, lw=0.4)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=5, ncol=2, loc="best", frameon=False)
    save_figure(fig, path)


def figures(sec: dict[str, Any], out: Path) -> list[str]:
    """One scatter plot per score with at least one point; the file names."""
    names = []
    for e in sec["scores"]:
        if e["points"] and not e.get("study_size_only"):
            name = f"agree-{slug(e['score'])}.png"
            scatter(out / name, e)
            names.append(name)
    return names


def html(sec: dict[str, Any], figs: list[str]) -> str:
    """The section for index.html: the statistics table and the scatter plots."""
    from html import escape

    rows = "".join(f"<tr><td>{escape(e['score'])}</td><td>{e['n']}</td><td>{e['families']}</td>"
                   + "".join(f"<td>{escape(_ci(e, k))}</td>" for k in STATS) + "</tr>"
                   for e in sec["scores"])
    head = "".join(f"<th>{h}</th>" for h in ("score", "n", "families", "τ", "ρ", "τ within",
                                             "ρ within", "τ across", "ρ across"))
    missing = (f"<p>Not in the trained table (left out): {escape(', '.join(sec['missing']))}"
               "</p>" if sec["missing"] else "")
    if no_cell_items(sec):
        missing += (f"<p>{NO_CELL}</p><ul>"
                    + "".join(f"<li>{escape(i)}</li>" for i in no_cell_items(sec)) + "</ul>")
    missing += "".join(f"<p>{escape(n[2:])}</p>" for n in _grown_notes(sec))
    imgs = "".join(f'<img src="{escape(f)}" alt="{escape(f)}">' for f in figs)
    return (f'<section id="agreement"><h2>Agreement with trained ImageNet-1k top-1</h2>'
            f"<p>Kendall τ_b and Spearman ρ over networks, 95 % bootstrap intervals over "
            f"architectures. Reference: {escape(' '.join(sec['reference'][1:]))}</p>{missing}"
            f"<table><tr>{head}</tr>{rows}</table><div class=\"figs\">{imgs}</div></section>")


def strip_points(sec: dict[str, Any]) -> dict[str, Any]:
    """The section without its points (for the page's table)."""
    return {**sec, "scores": [{k: v for k, v in e.items() if k != "points"}
                              for e in sec["scores"]]}



