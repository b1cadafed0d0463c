"""The per-photo deep-inversion report (experiments/deep_inversion): table, results, figure."""
from __future__ import annotations

import json
import sys

from PIL import Image

from ranvis.experiments import deep_inversion


def _run(tmp_path, monkeypatch, iters: str) -> dict:
    monkeypatch.setattr(sys, "argv", ["deep_inversion", "--photos", "chelsea,coffee",
                                      "--layers", "pool1,pool2", "--size", "32",
                                      "--iters", iters, "--out", str(tmp_path)])
    deep_inversion.main()
    return json.loads((tmp_path / "results.json").read_text())


def test_report_scores_every_cell_draws_the_figure_and_resumes(tmp_path, monkeypatch) -> None:
    results = _run(tmp_path, monkeypatch, "2")
    keys = {f"{p}-{la}-{s}" for p in ("chelsea", "coffee") for la in ("pool1", "pool2")
            for s in ("paper", "best")}
    assert set(results) == keys
    for key, r in results.items():
        assert r["evaluations"] <= 2 and r["psnr"] > 0 and -1 <= r["ssim"] <= 1
        assert Image.open(tmp_path / f"{key}.png").size == (32, 32)
    fig = Image.open(tmp_path / "figure.png")
    assert fig.height > fig.width / 2  # a photo row and one row per layer, four columns
    # a second run at the same budget reuses every result; another budget redoes them
    stamp = (tmp_path / "chelsea-pool1-paper.png").stat().st_mtime_ns
    assert _run(tmp_path, monkeypatch, "2") == results
    assert (tmp_path / "chelsea-pool1-paper.png").stat().st_mtime_ns == stamp
    assert all(r["iters"] == 3 for r in _run(tmp_path, monkeypatch, "3").values())
