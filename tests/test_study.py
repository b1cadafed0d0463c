"""Studies through the real CLI on a tiny plan (2 architectures x 2 strides x 1 image x 2
seeds, 32 px, 5 iterations): the local pool and Ray give the same scores; a killed driver loses
nothing and a rerun recomputes no finished cell; corrupt cells are recomputed; failures are
retried and recorded; the table loads with pandas; the page renders."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from browser import check_page
from PIL import Image

import ranvis
from ranvis.cli.commands import main
from ranvis.study import load_plan
from ranvis.study.cells import expand
from ranvis.study.executors import LocalPool
from ranvis.study.store import CORRUPT, STORED, CellStore

SRC = str(Path(ranvis.__file__).resolve().parents[1])
PLAN = """
[study]
name = "tiny"
size = 32
iters = 5
seeds = "0-{last}"
images = ["photo.png"]

[[arch]]
name = ["vgg11", "resnet18"]

[[task]]
kind = "invert"
strides = [4, 8]
"""
SCORES = ["psnr", "ssim", "l2", "feature_error"]


def _write_plan(folder: Path, seeds: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    img = Image.effect_mandelbrot((48, 40), (-2.0, -1.2, 0.8, 1.2), 40).convert("RGB")
    img.save(folder / "photo.png")
    (folder / "plan.toml").write_text(PLAN.format(last=seeds - 1))
    return folder / "plan.toml"


def _summary(err: str) -> str:
    return [line for line in err.splitlines() if line.startswith("study ")][-1]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("study")
    plan = _write_plan(root)
    assert main(["study", str(plan), "-o", str(root / "local"), "--workers", "2",
                 "--no-progress"]) == 0
    return plan, root / "local"


def test_local_study_writes_table_cells_plots_page(local: tuple[Path, Path]) -> None:
    plan, out = local
    df = pd.read_csv(out / "results.csv")  # the one line a user needs
    assert len(df) == 8 and set(df.status) == {"ok"}
    assert set(df.arch) == {"vgg11-avg", "resnet18-avg"} and set(df.stride) == {4, 8}
    assert set(df.tap) == {"relu3_2", "relu4_2", "layer1.1", "layer2.1"}
    assert sorted(set(df.net_seed)) == [0, 1] and (df.start == df.net_seed).all()
    assert df[SCORES].notna().all().all() and (df.threads == 1).all()
    assert df.mv_error.isna().all()  # one image: the M&V normalizer is undefined
    assert ((df.psnr > 5) & (df.psnr < 40)).all() and (df.seconds > 0).all()
    assert (df.cpu_seconds > 0).all() and (df.cpu_seconds < 4 * df.seconds).all()
    store = CellStore(out)
    for key in df.key:
        cell = json.loads((out / "cells" / key / "cell.json").read_text())
        assert store.state(key) == STORED and cell["scores"]["psnr"] == pytest.approx(
            df.set_index("key").psnr[key])
        assert json.loads((out / "cells" / key / "record.json").read_text())["iterations"] >= 5
    board = json.loads((out / "leaderboard.json").read_text())["tasks"]["invert"]
    assert [d["stride"] for d in board] == [4, 8]
    for d in board:
        assert {e["arch"] for e in d["ranking"]} == {"vgg11-avg", "resnet18-avg"}
        means = [e["psnr_mean"] for e in d["ranking"]]
        assert means == sorted(means, reverse=True) and d["first"] == d["ranking"][0]["arch"]
    for f in ("invert-depth.png", "invert-box.png", "leaderboard.md", "index.html"):
        assert (out / f).stat().st_size > 500, f
    page = (out / "index.html").read_text()
    assert page.count('<img src="cells/') == 4  # 2 networks x 2 strides, first seed
    run = json.loads((out / "study.json").read_text())["runs"][-1]
    assert run["computed"] == 8 and run["executor"] == "local" and run["workers"] == 2


def test_rerun_and_same_grid_as_flags_compute_nothing(local: tuple[Path, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    plan, out = local
    before = {p: p.stat().st_mtime_ns for p in (out / "cells").rglob("*")}
    assert main(["study", str(plan), "-o", str(out), "--no-progress"]) == 0
    assert "8 stored before, 0 computed" in _summary(capsys.readouterr().err)
    flags = ["study", "--arch", "vgg11,resnet18", "--task", "invert", "--strides", "4,8",
             "--images", str(plan.parent / "photo.png"), "--seeds", "0-1", "--size", "32",
             "--iters", "5", "-o", str(out), "--no-progress"]
    assert main(flags) == 0
    assert "8 stored before, 0 computed" in _summary(capsys.readouterr().err)
    assert {p: p.stat().st_mtime_ns for p in (out / "cells").rglob("*")} == before


@pytest.mark.slow
def test_ray_gives_the_same_scores(local: tuple[Path, Path], tmp_path: Path) -> None:
    if importlib.util.find_spec("ray") is None:
        pytest.skip("ray is not installed (pip install 'ranvis[ray]')")
    plan, out = local
    assert main(["study", str(plan), "-o", str(tmp_path / "ray"), "--ray", "--workers", "2",
                 "--no-progress"]) == 0
    a = pd.read_csv(out / "results.csv").set_index("key")
    b = pd.read_csv(tmp_path / "ray" / "results.csv").set_index("key")
    assert sorted(a.index) == sorted(b.index) and set(b.status) == {"ok"}
    for col in SCORES:  # same cells, same thread count: the same numbers
        assert b.loc[a.index, col].tolist() == pytest.approx(a[col].tolist(), rel=1e-9), col
    run = json.loads((tmp_path / "ray" / "study.json").read_text())["runs"][-1]
    assert run["executor"] == "ray" and run["computed"] == 8
    assert "RAY_USAGE_STATS_ENABLED" not in os.environ  # restored after the study


def _run_until_stored(plan: Path, out: Path, keys: list[str], n: int, sig: int) -> int:
    """Run the study in a child process, send it ``sig`` once ``n`` cells are stored; its exit
    status."""
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, "-m", "ranvis", "study", str(plan), "-o", str(out),
                             "--workers", "1", "--no-progress"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = CellStore(out)
    deadline = time.monotonic() + 120
    while sum(store.state(k) == STORED for k in keys) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(sig)
    return proc.wait(timeout=60)


@pytest.mark.slow
def test_killed_driver_loses_nothing_and_rerun_recomputes_no_finished_cell(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plan = _write_plan(tmp_path, seeds=3)  # 12 cells, one worker: seconds to stop it in
    out = tmp_path / "out"
    keys = [c.key for c in expand(load_plan(plan)).cells]
    store = CellStore(out)
    # Ctrl-C: the worker is stopped, the stored cells are written up, exit 130
    assert _run_until_stored(plan, out, keys, 2, signal.SIGINT) == 130
    stored = [k for k in keys if store.state(k) == STORED]
    assert 2 <= len(stored) < len(keys)
    assert set(pd.read_csv(out / "results.csv").query("status == 'ok'").key) == set(stored)
    # SIGKILL: no chance to clean up
    assert _run_until_stored(plan, out, keys, len(stored) + 1, signal.SIGKILL) == -signal.SIGKILL
    done = {k: (out / "cells" / k / "cell.json").read_bytes() for k in keys
            if store.state(k) == STORED}
    assert len(stored) < len(done) < len(keys)
    assert all(store.state(k) in (STORED, "absent") for k in keys)  # nothing half-written
    assert main(["study", str(plan), "-o", str(out), "--inline", "--no-progress"]) == 0
    line = _summary(capsys.readouterr().err)
    assert f"{len(done)} stored before, {len(keys) - len(done)} computed" in line
    assert all((out / "cells" / k / "cell.json").read_bytes() == v for k, v in done.items())
    runs = json.loads((out / "study.json").read_text())["runs"]
    assert [r["computed"] for r in runs][-1] == len(keys) - len(done)


def test_corrupt_cells_are_detected_and_recomputed(local: tuple[Path, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    plan, src = local
    out = tmp_path / "copy"
    shutil.copytree(src, out)
    keys = sorted(p.name for p in (out / "cells").iterdir())
    png = out / "cells" / keys[0] / "image.png"
    png.write_bytes(png.read_bytes()[:100])  # truncated image
    (out / "cells" / keys[1] / "cell.json").write_text("{not json")
    rec = out / "cells" / keys[2] / "record.json"
    rec.write_text(rec.read_text().replace('"iterations"', '"iterationz"'))  # edited
    store = CellStore(out)
    assert [store.state(k) for k in keys[:4]] == [CORRUPT, CORRUPT, CORRUPT, STORED]
    assert main(["study", str(plan), "-o", str(out), "--inline", "--no-progress"]) == 0
    line = _summary(capsys.readouterr().err)
    assert "5 stored before, 3 computed, 0 failed (3 corrupt, recomputed)" in line
    assert all(store.state(k) == STORED for k in keys)


def test_failing_cell_is_retried_twice_then_recorded(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    plan = tmp_path / "plan.toml"  # factors for a tap the cell does not invert: always fails
    plan.write_text('[study]\nsize=32\niters=2\nimages=["sample:coffee"]\n[[arch]]\n'
                    'name="vgg11"\n[[task]]\nkind="invert"\nstrides=[4]\n'
                    'options={factors={pool9=1.0}}\n')
    out = tmp_path / "out"
    assert main(["study", str(plan), "-o", str(out), "--inline", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "0 computed, 1 failed" in _summary(err) and "failed 3 times" in err
    failed = json.loads(next((out / "failed").iterdir()).read_text())
    assert failed["attempts"] == 3 and all("pool9" in e for e in failed["errors"])
    df = pd.read_csv(out / "results.csv")
    assert df.status.tolist() == ["failed"] and "pool9" in df.error[0]


def test_a_dead_worker_fails_its_cell_and_the_pool_goes_on(tmp_path: Path) -> None:
    grid = expand(load_plan(_write_plan(tmp_path, seeds=1)))
    cell = grid.cells[0]
    job = {"key": cell.key, "settings": cell.settings, "image": grid.images[cell.settings["image"]],
           "device": "cpu"}
    pool = LocalPool(1)
    pool.start()
    try:
        handle = pool.submit(job)
        time.sleep(0.3)
        for p in list(pool._pool._processes.values()):  # the worker dies mid-cell
            os.kill(p.pid, signal.SIGKILL)
        done = []
        while not done:
            done = pool.wait([handle])
        assert done[0][1] is None and "BrokenProcessPool" in done[0][2]
        again = pool.submit(job)  # a fresh pool took over
        done = []
        while not done:
            done = pool.wait([again])
        assert done[0][2] is None and done[0][1]["key"] == cell.key
    finally:
        pool.close(now=True)


def test_texture_and_style_scores_diversity_and_page(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('[study]\nsize=32\niters=3\nseeds=[0,1]\nimages=["sample:coffee"]\n'
                    '[[arch]]\nname="vgg11"\n'
                    '[[task]]\nkind="texture"\nimages=["sample:brick"]\n'
                    '[[task]]\nkind="style"\nstyles=["sample:grass"]\n')
    out = tmp_path / "out"
    assert main(["study", str(plan), "-o", str(out), "--inline", "--no-progress"]) == 0
    df = pd.read_csv(out / "results.csv")
    tex, sty = df[df.kind == "texture"], df[df.kind == "style"]
    assert len(tex) == 2 and len(sty) == 2
    assert (tex.judge_distance < tex.judge_distance_noise).all()  # closer than the noise start
    assert (sty.ssim.between(-1, 1)).all() and (sty.d > 0).all() and (sty.d_content > 0).all()
    board = json.loads((out / "leaderboard.json").read_text())["tasks"]
    assert board["texture"][0]["diversity"] > 0.01  # two seeds, two different textures
    assert board["style"][0]["n"] == 2


def test_page_in_headless_chromium(local: tuple[Path, Path], tmp_path: Path) -> None:
    check_page(local[1] / "index.html", tmp_path)
