"""``grow``: a tap that needs more than the study's size runs at the smallest size it accepts
(study.taps), recorded in its cells and marked in the leaderboard, the agreement given with and
without such networks; without ``grow`` nothing changes."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from timmtest import require_timm

from ranvis.cli.commands import main
from ranvis.errors import InputError
from ranvis.nets import get_arch
from ranvis.study.taps import deepest_fitting, stride_tap, targets

require_timm()

PLAN = """
[study]
size = 8
iters = 2
seeds = [0]
images = ["sample:astronaut"]
grow = true

[[arch]]
name = ["timm:test_resnet", "timm:test_efficientnet", "alexnet"]
init = "he"

[[task]]
kind = "invert"
strides = [8]
options = { preset = "best" }
"""


def test_targets_grow_only_where_the_size_is_too_small() -> None:
    arch = get_arch("timm:test_resnet")  # s16 needs 16 px
    assert stride_tap(arch, 16, 8).reason == "s16 needs 16 px, the study has 8"
    grown = stride_tap(arch, 16, 8, grow=True)
    assert (grown.taps, grown.size, grown.runs) == (("s16",), 16, True)
    assert stride_tap(arch, 8, 8, grow=True).size is None  # fits: unchanged
    assert deepest_fitting(arch, 1, grow=True).size == 2  # the shallowest tap's size
    assert targets(arch, "invert", (), ("s16",), 8, "here", grow=True)[0].size == 16
    with pytest.raises(InputError, match="here: image 8x8 is too small for s16"):
        targets(arch, "invert", (), ("s16",), 8, "here")  # named taps without grow: refused


def test_grown_cells_run_at_their_size_and_are_marked(tmp_path: Path) -> None:
    (tmp_path / "plan.toml").write_text(PLAN)
    out = tmp_path / "out"
    assert main(["study", str(tmp_path / "plan.toml"), "-o", str(out), "--inline",
                 "--no-progress"]) == 0
    rows = {r["arch"]: r for r in csv.DictReader((out / "results.csv").open())}
    assert {a: (r["status"], r["size"]) for a, r in rows.items()} == {
        "timm:test_resnet-avg-he": ("ok", "8"), "timm:test_efficientnet-he": ("ok", "8"),
        "alexnet-avg-he": ("ok", "15")}  # AlexNet's stride-8 tap needs 15 px
    cells = [json.loads(p.read_text()) for p in (out / "cells").glob("*/cell.json")]
    sizes = {c["settings"]["net"]["arch"]: c["settings"]["size"] for c in cells}
    assert sizes["alexnet"] == 15
    md = (out / "leaderboard.md").read_text()
    assert "| alexnet-avg-he (15 px) |" in md and "| timm:test_resnet-avg-he |" in md
    assert "ran at a larger size than the study's (their taps need it): alexnet-avg-he (15 px)" \
        in md
    by = {e["score"]: e for e in json.loads((out / "leaderboard.json").read_text())
          ["agreement"]["scores"]}
    assert by["invert psnr s8"]["n"] == 3 and by["invert psnr s8"]["grown"] == ["alexnet-avg-he"]
    assert by["invert psnr s8, 8 px only"]["n"] == 2  # the same score without the grown one
    assert "| invert psnr s8, 8 px only | 2 |" in md
    assert not (out / "agree-invert-psnr-s8-8-px-only.png").exists()
    assert (out / "agree-invert-psnr-s8.png").is_file()


def test_without_grow_the_grid_is_unchanged(tmp_path: Path) -> None:
    from ranvis.study import load_plan
    from ranvis.study.cells import expand

    (tmp_path / "plan.toml").write_text(PLAN.replace("grow = true", ""))
    plain = expand(load_plan(tmp_path / "plan.toml"))
    (tmp_path / "plan.toml").write_text(PLAN)
    grown = expand(load_plan(tmp_path / "plan.toml"))
    assert [m["arch"] for m in plain.missing] == ["alexnet-avg-he"]
    assert not grown.missing
    assert {c.key for c in plain.cells} < {c.key for c in grown.cells}  # fitting cells: same keys
    (tmp_path / "plan.toml").write_text(PLAN.replace("grow = true", 'grow = "yes"'))
    with pytest.raises(InputError, match="study.grow must be true or false, got 'yes'"):
        load_plan(tmp_path / "plan.toml")


def test_grow_flag_enters_the_plan() -> None:
    import argparse

    from ranvis.cli.studyflags import plan_tables

    flags = dict.fromkeys(("pool", "weight_init", "taps", "strides", "styles", "iters", "seeds",
                           "starts"))
    ns = argparse.Namespace(arch="alexnet", task="invert", images="sample:astronaut", size=8,
                            grow=True, **flags)
    assert plan_tables(ns)["study"]["grow"] is True
    assert "grow" not in plan_tables(argparse.Namespace(**{**vars(ns), "grow": None}))["study"]
