"""The results table: one row per cell of the plan (every setting and score), plus one row per
requested combination that has no cell (``status = no_cell`` and the reason), as CSV:

    import pandas as pd; df = pd.read_csv("DIR/results.csv")

``status``: ok (stored), failed (every attempt failed; ``error`` says why), pending (not run
yet: the study was interrupted) or no_cell. Empty fields are missing values. Table-level
scores (study.judges): ``mv_error`` (inversion) is added to each row here.
"""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ranvis.study.cells import Grid
from ranvis.study.judges import mean_pairwise_distance
from ranvis.study.store import CellStore

SETTINGS = ("task", "kind", "arch", "arch_name", "pool", "init", "sigma", "fixed", "tap",
            "stride", "image", "style", "net_seed", "start", "size", "iters", "options")
SCORES = ("psnr", "ssim", "l2", "mv_error", "feature_error", "judge_distance",
          "judge_distance_noise", "gram_error", "d", "d_content", "ssim_style", "naswot",
          "log10_synflow", "params_m", "gflops")
COLUMNS = ("key", "status", *SETTINGS, *SCORES, "seconds", "cpu_seconds", "device", "threads",
           "error")


def _number(v: Any) -> float:
    """A stored score as a float ("inf", "nan" strings from record.write_json included)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _row(cell: Any, grid_settings: dict[str, Any], stored: dict[str, Any] | None,
         failure: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"key": cell.key, **cell.info, "size": grid_settings["size"],
                           "iters": grid_settings["iters"],
                           "options": json.dumps(grid_settings["options"], sort_keys=True)}
    if stored is not None:
        env = stored.get("environment", {})
        row.update(status="ok", seconds=stored["seconds"], cpu_seconds=stored.get("cpu_seconds"),
                   device=env.get("device"),
                   threads=env.get("threads"),
                   **{k: _number(v) for k, v in stored["scores"].items()})
    elif failure is not None:
        row.update(status="failed", error=failure["errors"][-1].splitlines()[0])
    else:
        row["status"] = "pending"
    return row


def _mv_normalizers(grid: Grid) -> dict[tuple[str, int], float]:
    """Per inversion task and size (a grown target's cells have their own, study.taps):
    N = mean pairwise pixel distance of its distinct images."""
    shas: dict[tuple[str, int], set[str]] = {}
    for c in grid.cells:
        if c.settings["task"] == "invert":
            shas.setdefault((c.info["task"], c.settings["size"]), set()).add(c.settings["image"])
    return {t: mean_pairwise_distance([grid.images[s] for s in sorted(v)])
            for t, v in shas.items()}


def rows(grid: Grid, store: CellStore) -> list[dict[str, Any]]:
    """Every row of the table (module doc), in the grid's order, no-cell rows last."""
    norm = _mv_normalizers(grid)
    out = []
    for c in grid.cells:
        row = _row(c, c.settings, store.load(c.key), store.failure(c.key))
        n = norm.get((c.info["task"], c.settings["size"]), math.nan)
        if "l2" in row and math.isfinite(n):
            row["mv_error"] = row["l2"] / n
        out.append(row)
    out += [{"status": "no_cell", **m, "error": m["reason"]} for m in grid.missing]
    for r in out:
        r.pop("reason", None)
        r.pop("weights", None)
    return out


def _cell_text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return v


def csv_text(table: list[dict[str, Any]]) -> str:
    """The rows as CSV text with :data:`COLUMNS` in order (missing values empty)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in table:
        w.writerow({k: _cell_text(r.get(k)) for k in COLUMNS})
    return buf.getvalue()


def write_csv(path: Path, table: list[dict[str, Any]]) -> None:
    """Write the table as CSV atomically."""
    from ranvis.io.record import atomic_write

    text = csv_text(table)
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def ok_rows(table: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    """The stored rows of one task."""
    return [r for r in table if r.get("task") == task and r["status"] == "ok"]


def values(rs: list[dict[str, Any]], key: str) -> np.ndarray:
    """The finite values of ``key`` over rows (inf PSNR of an exact copy left out)."""
    a = np.asarray([r.get(key, math.nan) for r in rs], dtype=np.float64)
    return a[np.isfinite(a)]
