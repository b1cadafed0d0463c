"""``ranvis reproduce``: the report at a tiny size (seconds), its page in a headless browser,
and the figure modules' contracts (Figures 1-2 and 4 here; 3, 5, 6 come from their modules)."""
from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
import types
from pathlib import Path

import pytest
import torch
from browser import check_page

from ranvis.cli.commands import main
from ranvis.experiments import common, fig4, fig12, report, report_html
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net

FIGS = [name for name, _ in report.FIGURES]
TINY = ["--quick", "--size", "32", "--iters", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("report")
    assert main(["reproduce", *TINY, "-o", str(out)]) == 0
    return out


def _numbers(v: object) -> list[float]:
    if isinstance(v, bool):
        return []
    if isinstance(v, (int, float)):
        return [float(v)]
    if isinstance(v, dict):
        return [x for y in v.values() for x in _numbers(y)]
    if isinstance(v, list):
        return [x for y in v for x in _numbers(y)]
    return []


@pytest.mark.slow  # the tiny report: a minute
def test_reproduce_writes_page_results_and_every_png(tiny_report: Path) -> None:
    index, results = tiny_report / "index.html", tiny_report / "results.json"
    page = index.read_text()
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert srcs, "the page shows no picture"
    for src in srcs:
        assert (tiny_report / src).is_file() and (tiny_report / src).stat().st_size > 1000, src
    data = json.loads(results.read_text())
    assert data["quick"] is True and data["finished"] is True
    assert data["overrides"] == {"size": 32, "iters": 2}
    assert list(data["figures"]) == FIGS
    for name in FIGS:
        entry = data["figures"][name]
        present = importlib.util.find_spec(f"ranvis.experiments.{name}") is not None
        if not present:  # only a module missing from this build may lack its value
            assert entry["status"] == "not available"
            assert report.NOT_AVAILABLE in page
            continue
        assert entry["status"] == "ok", entry.get("error")
        # every module honours the tiny-size and iteration overrides (so this test is fast)
        assert not {"size", "iters"} & set(entry["ignored_overrides"]), name
        assert _numbers(entry["numbers"]), f"{name} reports no numbers"
        assert entry["verdict"].strip() and entry["seconds"] >= 0
        for f in entry["figures"]:
            assert f"{name}/{f}" in srcs
        assert entry["verdict"][:40] in page.replace("&#x27;", "'").replace("&quot;", '"')
    assert "Quick mode" in page and "Full mode" in page


@pytest.mark.slow  # the tiny report: a minute
def test_fig12_table_and_fig4_curves_in_results(tiny_report: Path) -> None:
    data = json.loads((tiny_report / "results.json").read_text())
    f12 = data["figures"]["fig12"]
    layers = f12["settings"]["layers"]
    assert layers == list(fig12.POOLS)
    plain = [r for r in f12["numbers"]["table"] if r["network"] == "plain random VGG"]
    assert [r["layer"] for r in plain] == layers
    for r in plain:
        assert r["n_photos"] == fig12.QUICK["photos"] and math.isfinite(r["psnr_mean"]) and r["psnr_std"] >= 0
        assert 0 < r["feature_error_mean"] < 10
    assert len(f12["numbers"]["cells"]) >= 5 * fig12.QUICK["photos"]
    assert f12["settings"]["rows"]["trained VGG"] == common.NO_TRAINED
    curves = data["figures"]["fig4"]["numbers"]["curves"]
    assert len(curves["plain random VGG"]["feature_error"]) == 2


@pytest.mark.slow  # the tiny report: a minute
def test_page_in_headless_chromium(tiny_report: Path, tmp_path: Path) -> None:
    check_page(tiny_report / "index.html", tmp_path)


def test_fig12_with_stacked_and_trained_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.set_num_threads(1)
    real_load = NetSpec.load.__func__

    def fake_load(cls: type, path: str) -> NetSpec:  # a stand-in for the shipped stacked spec
        return NetSpec.random(3) if str(path) == "stacked" else real_load(cls, path)

    monkeypatch.setattr(NetSpec, "load", classmethod(fake_load))
    d = fig12.run(tmp_path, size=32, iters=2, photos=1, layers=("pool1", "pool3"),
                  trained=Net(NetSpec.random(5)), device="cpu")
    nets = {r["network"] for r in d["numbers"]["table"]}
    assert nets == {"stacked ranVGG", "plain random VGG", "trained VGG", "random VGG, best preset"}
    assert len(d["numbers"]["table"]) == 8 and len(d["numbers"]["cells"]) == 8
    assert "trained VGG at" in d["verdict"] and "stacked beats plain" in d["verdict"]
    assert "best preset against the paper's recipe" in d["verdict"]
    assert (tmp_path / d["figures"][0]).is_file()


def test_fig12_full_mode_drops_fc_layers_below_256_px() -> None:
    cfg, notes = fig12._settings(False, 64, None, None, None)
    assert "conv5_1" in cfg["layers"] and not any(n.startswith("fc") for n in cfg["layers"])
    assert notes and "256" in notes[0]
    cfg, notes = fig12._settings(False, None, None, None, None)
    assert cfg["size"] == 256 and cfg["layers"][-3:] == ["fc6", "fc7", "fc8"] and not notes
    # the full report runs best at its own budget; the quick one says it does not
    assert cfg["best_iters"] is None and "best preset: its own budget" in fig12.budget_note(cfg)
    quick, _ = fig12._settings(True, None, None, None, None)
    assert quick["best_iters"] == quick["iters"] == 100
    assert ("best preset: 100, not its own (300 up to pool2, 1000 deeper, 850 at "
            "pool5)") in fig12.budget_note(quick)


def test_fig4_normalized_curve_matches_measured_feature_error(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    d = fig4.run(tmp_path, size=32, iters=6, device="cpu")
    c = d["numbers"]["curves"]["plain random VGG"]
    # line-search trials count as iterations, so the last one need not be the lowest
    assert len(c["feature_error"]) == 6 and min(c["feature_error"][1:]) < c["feature_error"][0]
    # the loss turned into ‖Φ(x)−Φ0‖²/‖Φ0‖² equals the error measured on the image where both
    # are the same image (iteration 1: the noise start lies in [0, 1], so clamping changes nothing)
    first_it, first_err = c["image_feature_error"][0]
    assert first_it == 1 and c["feature_error"][0] == pytest.approx(first_err, rel=1e-3)
    assert c["result_feature_error"] > 0 and math.isfinite(c["result_psnr"])
    assert (tmp_path / "fig4.png").is_file()


def test_missing_and_failing_modules_are_reported(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    e = report.run_figure("fig_not_in_build", tmp_path, True, 32, 2, None, "cpu")
    assert e["status"] == "not available" and e["reason"] == report.NOT_AVAILABLE
    boom = types.ModuleType("ranvis.experiments.figboom")

    def run(out_dir: Path, quick: bool = True, size: int | None = None) -> dict:
        raise RuntimeError("deliberate failure")

    boom.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ranvis.experiments.figboom", boom)
    e = report.run_figure("figboom", tmp_path, True, 32, 2, None, "cpu")
    assert e["status"] == "failed" and "deliberate failure" in e["error"]
    html = report_html.section("figboom", "Figure X", {**e, "label": "Figure X"}, "cmd", "out")
    assert "FAILED" in html and "deliberate failure" in html

    def run_bad(out_dir: Path, quick: bool = True, size: int | None = None) -> dict:
        return {"title": "t", "figures": [], "numbers": {"x": torch.ones(1)}, "settings": {},
                "seconds": 0.0, "verdict": "v"}

    boom.run = run_bad  # type: ignore[attr-defined]
    e = report.run_figure("figboom", tmp_path, True, 32, 2, None, "cpu")
    assert e["status"] == "failed" and "JSON" in e["error"]


def test_reproduce_cli_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(["reproduce", "--quick", "--trained-weights", str(tmp_path / "none.pth"),
               "-o", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and "trained weights" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    assert "--size" not in capsys.readouterr().out  # an expert override, hidden from --help
