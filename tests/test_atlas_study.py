"""A 2-architecture timm study with zero-cost scores and the agreement table (study.agreeboard);
a network the trained table lacks is named, not dropped."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from timmtest import require_timm

from ranvis.cli.commands import main
from ranvis.errors import InputError

require_timm()

PLAN = """
[study]
size = 32
iters = 2
seeds = [0]
images = ["sample:astronaut", "sample:coffee"]

[[arch]]
name = ["timm:test_resnet", "timm:test_efficientnet"]
init = "he"

[[arch]]
name = "multiscale"        # studied by no task here; the table has no top-1 for it

[[task]]
kind = "zerocost"
archs = ["timm:test_resnet-avg-he", "timm:test_efficientnet-he"]

[[task]]
kind = "invert"
archs = ["timm:test_resnet-avg-he", "timm:test_efficientnet-he"]
strides = [8]
"""


def test_two_architectures_agreement(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(PLAN)
    out = tmp_path / "out"
    assert main(["study", str(tmp_path / "plan.toml"), "-o", str(out), "--inline",
                 "--no-progress", "--order", "network"]) == 0
    assert json.loads((out / "study.json").read_text())["runs"][-1]["order"] == "network"
    board = json.loads((out / "leaderboard.json").read_text())
    agree = board["agreement"]
    assert agree["missing"] == ["multiscale"]  # no trained top-1: named, not dropped
    by = {e["score"]: e for e in agree["scores"]}
    assert set(by) >= {"zerocost naswot", "zerocost log10_synflow", "zerocost params_m",
                       "zerocost gflops", "invert psnr s8", "invert ssim s8"}
    for e in by.values():
        assert e["n"] == 2 and e["families"] == 1
        assert abs(e["kendall"]["value"]) == 1  # one pair: concordant or discordant
    # test_resnet (41.6 %) has more parameters than test_efficientnet (46.5 %)? the sign
    # follows the table, whatever it is
    params = {p["arch"]: p["score"] for p in by["zerocost params_m"]["points"]}
    top1 = {p["arch"]: p["top1"] for p in by["zerocost params_m"]["points"]}
    a, b = sorted(params)
    same = (params[a] - params[b]) * (top1[a] - top1[b]) > 0
    assert by["zerocost params_m"]["kendall"]["value"] == (1 if same else -1)
    md = (out / "leaderboard.md").read_text()
    assert "## Agreement with trained ImageNet-1k top-1" in md
    assert "Not in the trained table (no top-1, left out): multiscale" in md
    assert (out / "agree-invert-psnr-s8.png").is_file()
    assert 'id="agreement"' in (out / "index.html").read_text()
    rows = (out / "results.csv").read_text().splitlines()
    assert sum(",zerocost," in r for r in rows) == 2


def test_cached_network_gives_the_same_cell() -> None:
    import numpy as np

    from ranvis.study import runcell

    img = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    job = {"key": "k", "image": img, "device": "cpu",
           "settings": {"task": "invert", "taps": ["s8"], "iters": 2, "start": 0,
                        "options": {"preset": "best"},
                        "net": {"arch": "timm:test_resnet", "pool": "avg", "init": "he",
                                "sigma": 0.015, "net_seed": 1}}}
    runcell._NETS.clear()
    fresh = runcell.run_cell(job)
    assert len(runcell._NETS) == 1
    runcell.run_cell({**job, "settings": {**job["settings"], "taps": ["s4"]}})
    again = runcell.run_cell(job)  # the cached network, its s8 model built before
    assert again["scores"] == fresh["scores"] and again["png"] == fresh["png"]


def test_no_cell_networks_named_with_their_reason() -> None:
    from ranvis.study.agreeboard import markdown_lines, no_cell, no_cell_items

    table = [{"status": "ok", "task": "invert", "arch": "a", "error": ""},
             {"status": "no_cell", "task": "invert", "arch": "timm:inception_v3-avg-he",
              "error": "s4 needs 75 px, the study has 64"},
             {"status": "no_cell", "task": "invert", "arch": "timm:inception_v3-avg-he",
              "error": "s4 needs 75 px, the study has 64"},
             {"status": "no_cell", "task": "zerocost", "arch": "timm:inception_v3-avg-he",
              "error": "no tap a 64 px input reaches"}]
    nc = no_cell(table)
    assert nc == {"timm:inception_v3-avg-he": ["invert: s4 needs 75 px, the study has 64",
                                               "zerocost: no tap a 64 px input reaches"]}
    assert no_cell_items({"no_cell": nc}) == [
        "timm:inception_v3-avg-he: invert: s4 needs 75 px, the study has 64; zerocost: no tap "
        "a 64 px input reaches"]
    assert no_cell_items({"no_cell": {}}) == []
    md = markdown_lines({"reference": ["", "ref"], "missing": [], "no_cell": nc, "scores": []})
    assert "- timm:inception_v3-avg-he: invert: s4 needs 75 px, the study has 64; zerocost: " \
           "no tap a 64 px input reaches" in md
    from ranvis.nets import get_arch
    from ranvis.study.taps import deepest_fitting

    why = deepest_fitting(get_arch("timm:test_resnet"), 1).reason
    assert why.endswith("(its shallowest tap needs 2 px)")


def test_network_order_groups_draws_and_keeps_cells() -> None:
    from ranvis.study.cells import Cell
    from ranvis.study.runner import by_network

    def cell(key: str, seed: int) -> Cell:
        return Cell(key, {"net": {"arch": "a", "net_seed": seed}}, {})

    grid = [cell("a0", 0), cell("b1", 1), cell("c0", 0), cell("d1", 1), cell("e2", 2)]
    assert [c.key for c in by_network(grid)] == ["a0", "c0", "b1", "d1", "e2"]
    from ranvis.study import load_plan
    from ranvis.study.runner import StudyOptions, run_study

    with pytest.raises(InputError, match="order must be grid or network"):
        run_study(load_plan("example"), "/nonexistent/x", StudyOptions(order="random"))


def test_agreement_splits_variants_of_one_architecture() -> None:
    """A study drawing each architecture under two inits gets one τ per init, each over its
    architectures once (not one τ over both draws, which would count each architecture twice)."""
    from ranvis.study.agreeboard import by_variant

    labels = {f"timm:{a}-avg-{i}": (f"timm:{a}", float(k))
              for k, (a, i) in enumerate([(a, i) for a in "ab" for i in ("he", "paper")])}
    rows = [{"arch": label, "pool": "avg", "init": label.rsplit("-", 1)[1], "sigma": 0.015,
             "fixed": ""} for label in labels]
    groups = by_variant(labels, rows)
    assert set(groups) == {"init he", "init paper"}
    for variant, group in groups.items():
        assert sorted(arch for arch, _v in group.values()) == ["timm:a", "timm:b"]
        assert all(label.endswith(variant.split()[1]) for label in group)
    once = {"timm:a-avg-he": ("timm:a", 1.0), "timm:b-avg-paper": ("timm:b", 2.0)}
    assert by_variant(once, rows) == {"": once}  # every architecture once: one score, as before


def test_agreement_variants_keep_the_architectures_drawn_once() -> None:
    """VGG-11 with average and with max pooling beside a ResNet-18 drawn once: two τ, the
    ResNet in both."""
    from ranvis.study.agreeboard import by_variant

    labels = {"vgg11-avg": ("vgg11", 1.0), "vgg11-max": ("vgg11", 2.0),
              "resnet18": ("resnet18", 3.0)}
    rows = [{"arch": "vgg11-avg", "pool": "avg", "init": "paper"},
            {"arch": "vgg11-max", "pool": "max", "init": "paper"},
            {"arch": "resnet18", "pool": "max", "init": "paper"}]
    groups = by_variant(labels, rows)
    assert groups == {"pool avg": {"vgg11-avg": ("vgg11", 1.0), "resnet18": ("resnet18", 3.0)},
                      "pool max": {"vgg11-max": ("vgg11", 2.0), "resnet18": ("resnet18", 3.0)}}
