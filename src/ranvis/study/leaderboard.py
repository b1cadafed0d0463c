"""The leaderboard: per task (and, for inversion, per stride or tap) the studied networks ranked
by their mean score over images and seeds, with the spreads that say whether a rank means
anything.

Every inversion and zero-cost entry names the input ``size`` its cells ran at: the study's, or
a grown tap's (study.taps; leaderboard.md marks such a network "(75 px)").

* inversion, ranked by mean PSNR: SSIM, M&V error, and two spreads of PSNR: ``seed_std`` (std
  over seeds of the same network and image, averaged over images) and ``image_std`` (std over
  images, averaged over seeds); per depth, the first's paired win rate over the second (same
  image and seed) and ``arch_range`` (best − worst mean) to hold against the seed spread.
* texture, ranked by mean judge distance (lower is closer): the noise start's distance, the
  synthesis network's own Gram error and the diversity (study.judges).
* style, ranked by the judge's style distance ``d``: content SSIM beside it.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from ranvis.study.judges import diversity
from ranvis.study.model import Plan, Task
from ranvis.study.store import CellStore
from ranvis.study.table import ok_rows, values


def _mean(rs: list[dict[str, Any]], key: str) -> float:
    v = values(rs, key)
    return float(v.mean()) if v.size else math.nan


def _std(rs: list[dict[str, Any]], key: str) -> float:
    v = values(rs, key)
    return float(v.std()) if v.size else math.nan


def _spread(rs: list[dict[str, Any]], key: str, within: tuple[str, ...]) -> float:
    """Std of ``key`` among rows sharing the fields ``within``, averaged over such groups of
    two or more (NaN if there is none)."""
    groups: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rs:
        groups[tuple(r.get(k) for k in within)].append(r)
    stds = [_std(g, key) for g in groups.values() if len(g) > 1]
    return float(np.nanmean(stds)) if stds and not all(math.isnan(s) for s in stds) else math.nan


def _win_rate(a: list[dict[str, Any]], b: list[dict[str, Any]], key: str) -> float | None:
    """How often ``a`` beats ``b`` on ``key`` over the (image, seed, start) both have."""
    sig = ("image", "net_seed", "start")
    bs = {tuple(r.get(k) for k in sig): r[key] for r in b}
    pairs = []
    for r in a:
        t = tuple(r.get(k) for k in sig)
        if t in bs:
            pairs.append(r[key] > bs[t])
    return float(np.mean(pairs)) if pairs else None


def invert_board(rs: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """One entry per depth (``by`` = "stride" or "tap"): the ranking and its spreads."""
    out = []
    for depth in sorted({r[by] for r in rs}, key=lambda d: (isinstance(d, str), d)):
        at = [r for r in rs if r[by] == depth]
        per = defaultdict(list)
        for r in at:
            per[r["arch"]].append(r)
        ranked = []
        for arch, g in per.items():
            ranked.append({"arch": arch, "tap": g[0]["tap"], "size": g[0].get("size"),
                           "n": len(g),
                           "psnr_mean": _mean(g, "psnr"), "psnr_std": _std(g, "psnr"),
                           "seed_std": _spread(g, "psnr", ("image",)),
                           "image_std": _spread(g, "psnr", ("net_seed", "start")),
                           "ssim": _mean(g, "ssim"), "mv_error": _mean(g, "mv_error"),
                           "seconds": _mean(g, "seconds")})
        ranked.sort(key=lambda e: -e["psnr_mean"] if math.isfinite(e["psnr_mean"]) else math.inf)
        means = [e["psnr_mean"] for e in ranked if math.isfinite(e["psnr_mean"])]
        first_wins = (_win_rate(per[ranked[0]["arch"]], per[ranked[1]["arch"]], "psnr")
                      if len(ranked) > 1 else None)
        out.append({by: depth, "ranking": ranked, "first": ranked[0]["arch"],
                    "gap_to_second": means[0] - means[1] if len(means) > 1 else None,
                    "first_beats_second": first_wins,
                    "arch_range": max(means) - min(means) if means else None,
                    "seed_std_median": float(np.nanmedian([e["seed_std"] for e in ranked]))
                    if any(math.isfinite(e["seed_std"]) for e in ranked) else None})
    return out


def _diversities(rs: list[dict[str, Any]], store: CellStore) -> dict[str, float]:
    """Per network: diversity of its syntheses of each source, averaged over sources."""
    from PIL import Image

    groups: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    for r in rs:
        with Image.open(store.folder(r["key"]) / "image.png") as im:
            groups[(r["arch"], r["image"])].append(np.asarray(im, dtype=np.float64) / 255.0)
    per: dict[str, list[float]] = defaultdict(list)
    for (arch, _src), imgs in groups.items():
        if len(imgs) > 1:
            per[arch].append(diversity(imgs))
    return {a: float(np.mean(v)) for a, v in per.items()}


def texture_board(rs: list[dict[str, Any]], store: CellStore) -> list[dict[str, Any]]:
    """Networks ranked by mean judge distance to the source (lower first)."""
    div = _diversities(rs, store)
    per = defaultdict(list)
    for r in rs:
        per[r["arch"]].append(r)
    board = [{"arch": a, "n": len(g), "judge_mean": _mean(g, "judge_distance"),
              "judge_std": _std(g, "judge_distance"),
              "noise_distance": _mean(g, "judge_distance_noise"),
              "own_gram_error": _mean(g, "gram_error"), "diversity": div.get(a, math.nan),
              "seconds": _mean(g, "seconds")} for a, g in per.items()]
    return sorted(board, key=lambda e: e["judge_mean"])


def style_board(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Networks ranked by the judge's style distance d (lower first), content SSIM beside."""
    per = defaultdict(list)
    for r in rs:
        per[r["arch"]].append(r)
    board = [{"arch": a, "n": len(g), "d_mean": _mean(g, "d"), "d_std": _std(g, "d"),
              "ssim_mean": _mean(g, "ssim"), "ssim_std": _std(g, "ssim"),
              "d_content": _mean(g, "d_content"), "ssim_style": _mean(g, "ssim_style"),
              "seconds": _mean(g, "seconds")} for a, g in per.items()]
    return sorted(board, key=lambda e: e["d_mean"])


ZEROCOST = ("naswot", "log10_synflow", "params_m", "gflops")


def zerocost_board(rs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Networks ranked by mean NASWOT score (higher first), the other zero-cost scores beside
    it and the NASWOT spread over seeds."""
    per = defaultdict(list)
    for r in rs:
        per[r["arch"]].append(r)
    board = [{"arch": a, "n": len(g), "tap": g[0]["tap"], "size": g[0].get("size"),
              **{k: _mean(g, k) for k in ZEROCOST}, "naswot_seed_std": _std(g, "naswot"),
              "seconds": _mean(g, "seconds")} for a, g in per.items()]
    return sorted(board, key=lambda e: -e["naswot"] if math.isfinite(e["naswot"]) else math.inf)


def board(plan: Plan, task: Task, table: list[dict[str, Any]],
          store: CellStore) -> list[dict[str, Any]]:
    """The leaderboard of one task (module doc); empty before any of its cells is stored."""
    rs = ok_rows(table, task.name)
    if not rs:
        return []
    if task.kind == "invert":
        return invert_board(rs, "tap" if task.taps else "stride")
    if task.kind == "texture":
        return texture_board(rs, store)
    if task.kind == "zerocost":
        return zerocost_board(rs)
    return style_board(rs)
