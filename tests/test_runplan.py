"""The platform decision made once per task (platform.plan), threads (platform.threads), and
the progress line's stages and ETA (optim.callbacks)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

import ranvis
from ranvis.errors import InputError
from ranvis.optim.callbacks import Progress, StageInfo
from ranvis.optim.loop import Step
from ranvis.optim.stopping import Plateau
from ranvis.platform import memory as M
from ranvis.platform.plan import Footprint, MemoryPlan, plan_run
from ranvis.platform.threads import check_threads, default_threads, thread_scope, usable_cores


def test_memory_plan_pairs_follow_the_memory_rule():
    for numel in (3 * 32 * 32, 3 * 1337 * 1337, 3 * 2048 * 2048):
        assert MemoryPlan().lbfgs_pairs(numel) == M.lbfgs_pairs(numel)
        assert MemoryPlan(history=20).lbfgs_pairs(numel) == M.lbfgs_pairs(numel, 20)
    assert MemoryPlan().lbfgs_pairs(3 * 2048 * 2048) == 42


def test_plan_run_decides_device_precision_threads_and_memory_once():
    plan = plan_run(Footprint(32, 32, ["pool2"]), arch="vgg19", device="cpu", precision="bf16",
                    threads=1, keep_freed=True)
    assert plan.device.type == "cpu" and plan.dtype == torch.bfloat16 and plan.threads == 1
    assert plan.precision == "bf16" and plan.memory.keep_freed  # small: keeping fits
    assert plan.memory.need_bytes == M.estimate_bytes(32, 32, ["pool2"], dtype="bf16")
    assert not plan_run(Footprint(32, 32, ["pool2"]), arch="vgg19", device="cpu").memory.keep_freed


def test_plan_run_refuses_before_any_work(monkeypatch):
    with pytest.raises(InputError, match="threads must be a positive integer"):
        plan_run(Footprint(32, 32, ["pool2"]), arch="vgg19", device="cpu", threads=0)
    monkeypatch.setenv("RANVIS_MEMORY_LIMIT", str(2**20))
    with pytest.raises(InputError, match="GiB of memory"):
        plan_run(Footprint(256, 256, ["pool2"]), arch="vgg19", device="cpu")
    monkeypatch.setenv("RANVIS_MEMORY_LIMIT", str(400 * 2**20))  # the 8 px run fits
    with pytest.raises(InputError, match="smaller --style-scale"):
        plan_run(Footprint(8, 8), arch="vgg19", device="cpu", inputs=[
            Footprint(1024, 1024, gram_layers=["conv1_1"], fix="use a smaller --style-scale")])


def test_thread_scope_gives_the_callers_setting_back():
    before = torch.get_num_threads()
    with thread_scope(1) as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with thread_scope(None) as n:
        assert n == before
    assert check_threads(None) is None and check_threads(2) == 2
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(InputError):
            check_threads(bad)


def test_default_threads_are_the_usable_cores_unless_omp_says(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert default_threads() == usable_cores() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert default_threads() == 3


def test_api_threads_recorded_and_restored():
    before = torch.get_num_threads()
    r = ranvis.texture(torch.rand(1, 3, 32, 32), ["conv1_1"], iters=2, threads=1)
    assert r.record["settings"]["threads"] == 1 and torch.get_num_threads() == before
    with pytest.raises(InputError, match="threads"):
        ranvis.texture(torch.rand(1, 3, 32, 32), ["conv1_1"], iters=2, threads=0)


def test_cli_threads_recorded_with_a_passive_wait_policy(tmp_path):
    out = tmp_path / "t.png"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    code = ("import os, sys; from ranvis.cli.commands import main; rc = main(sys.argv[1:]); "
            "print(os.environ.get('OMP_WAIT_POLICY')); sys.exit(rc)")
    p = subprocess.run([sys.executable, "-c", code, "texture", "sample:gravel", "--size", "32",
                        "--iters", "2", "--threads", "1", "--layers", "conv1_1", "-o", str(out)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "PASSIVE"
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["settings"]["threads"] == 1 and rec["environment"]["threads"] == 1


def _step(i: int) -> Step:
    return Step(i, 1.0, {}, torch.zeros(1, 3, 4, 4))


def test_progress_eta_counts_the_stages_to_come():
    p = Progress(100)
    p.stage(StageInfo(0, 2, "scale 1/2 64x64", 0, (30, 70), (0.25, 1.0)))
    p.seconds, p.done_cost = 10.0, 10 * 0.25  # 10 evaluations of the coarse scale: 4 s per unit
    # 20 coarse evaluations left (20 x 0.25 x 4 = 20 s), then 70 full ones (70 x 4 = 280 s)
    assert p.eta(10) == pytest.approx(300.0)
    p.stage(StageInfo(1, 2, "scale 2/2 128x128", 25, (70,), (1.0,), early=True))
    assert p.total == 95  # the first scale ended 5 evaluations early
    assert "scale 2/2" in p.line(_step(30)) and "ETA ≤" in p.line(_step(30))


class Spy:
    """A callback that keeps the stages it is told of."""

    def __init__(self) -> None:
        self.seen: list[StageInfo] = []

    def stage(self, info: StageInfo) -> None:
        self.seen.append(info)

    def __call__(self, step: Step) -> None:
        pass


def test_inversion_levels_reach_the_progress_line():
    spy = Spy()
    ranvis.invert(torch.rand(1, 3, 32, 32), "pool3", iters=14, levels=3, nets=1,
                  callbacks=[spy], threads=1, level_plateau=False)
    assert [s.label for s in spy.seen] == ["stage 1/3 8x8", "stage 2/3 16x16",
                                           "stage 3/3 32x32 fourier"]
    assert spy.seen[0].budgets == (2, 2, 10) and spy.seen[2].start == 4
    assert not any(s.early for s in spy.seen)


def test_stage_plateau_judges_its_own_evaluations():
    flat_then_new = [1.0] * 50 + [1.0]
    assert Plateau(window=40).flat(flat_then_new)
    assert not Plateau(window=40, since=50).flat(flat_then_new)
    with pytest.raises(ValueError):
        Plateau(since=-1)


def test_level_plateau_ends_coarse_levels_early_and_is_recorded():
    from ranvis.tasks.stages import coarse_to_fine, run_stages

    def flat_soon(x: torch.Tensor) -> tuple[torch.Tensor, dict]:  # flat within ~40 evaluations
        v = 1000 + ((x - 0.3).abs() + 1e-12).pow(1.5).sum()
        return v, {"v": v}

    spy = Spy()
    stages = coarse_to_fine(32, 32, 600, 2, "pixel")  # a 90-evaluation coarse level
    r = run_stages(flat_soon, torch.full((1, 3, 32, 32), 0.5), stages,
                   optimize_kwargs={"callbacks": [spy]}, coarse_plateau=Plateau())
    assert spy.seen[0].early and spy.seen[0].budgets == (90, 510)
    assert spy.seen[1].start < 90 and len(r.losses) == spy.seen[1].start + 510
    img = torch.rand(1, 3, 32, 32)
    run = ranvis.invert(img, "pool3", iters=4, levels=2, nets=1, level_plateau=True, threads=1)
    assert run.record["settings"]["level_plateau"] == {"window": 40, "rel_tol": 1e-3}
    assert "level_plateau" not in ranvis.invert(img, "pool3", iters=4, levels=2, nets=1,
                                                level_plateau=False,
                                                threads=1).record["settings"]


def test_best_budget_per_tap_depth():
    """Issue 29: best keeps 4 draws, ends flat coarse levels early beyond pool2, and at pool5
    spends 150 evaluations per coarse level and 250 at full size; a given budget keeps the
    shares; paper is untouched."""
    from ranvis import presets as P
    from ranvis.nets import get_arch
    from ranvis.tasks.inversion import _recipe, default_iters
    from ranvis.tasks.stages import coarse_to_fine

    a = get_arch("vgg19")
    assert P.invert_recipe("paper", True, 32) == P.InvertRecipe()
    for layer, iters, per_level in (("pool3", 1000, None), ("pool4", 1000, None),
                                    ("pool5", 850, 150)):
        r = _recipe("best", a, [layer], {"iters": None})
        assert (r["nets"], r["iters"], r["level_plateau"], r["coarse_iters"]) == (
            4, iters, True, per_level)
        assert default_iters("best", a, [layer]) == iters
        assert _recipe("best", a, [layer], {"iters": 300})["coarse_iters"] is None
        assert _recipe("best", a, [layer], {"levels": 7})["coarse_iters"] is None  # 6 x 150 > 850
    assert default_iters("best", a, ["pool2"]) == 300 == default_iters("paper", a, ["pool5"])
    assert not _recipe("best", a, ["pool2"], {})["level_plateau"]
    budgets = [s.iters for s in coarse_to_fine(128, 128, 850, 5, "fourier", 150)]
    assert budgets == [150, 150, 150, 150, 250]
    assert [s.iters for s in coarse_to_fine(128, 128, 1000, 5)] == [150] * 4 + [400]
    with pytest.raises(ranvis.InputError, match="leave none"):
        coarse_to_fine(128, 128, 600, 5, "fourier", 150)


def test_mixed_precision_runs_the_bulk_in_bf16_and_ends_in_fp32():
    from ranvis.tasks.stages import Stage, mixed

    out = mixed([Stage("a", 15), Stage("b", 15), Stage("fourier", 70)], 0.2)
    assert [(s.param, s.iters, s.bulk) for s in out] == [
        ("a", 15, True), ("b", 15, True), ("fourier", 50, True), ("fourier", 20, False)]
    r = ranvis.invert(torch.rand(1, 3, 32, 32), "pool3", iters=20, levels=2, nets=1,
                      precision="mixed", threads=1)
    s = r.record["settings"]
    assert s["precision"] == "mixed" and r.record["iterations"] == 20
    assert [st[-1] for st in s["stages"]] == ["bf16", "bf16", 4]  # the last 20 %: float32
    with pytest.raises(InputError, match="only invert"):
        ranvis.texture(torch.rand(1, 3, 32, 32), ["conv1_1"], iters=2, precision="mixed")
    with pytest.raises(InputError, match="levels 2 or more"):
        ranvis.invert(torch.rand(1, 3, 32, 32), "pool3", iters=4, levels=1, precision="mixed")
