"""Tests for the ranvis command: fast --help/--version, no import side effects, invert end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

import ranvis
from ranvis.cli import commands as cli
from ranvis.nets import get_arch
from ranvis.nets.spec import NetSpec

LAYER_NAMES = [t.name for t in get_arch("vgg19").nodes()]

SRC = str(Path(ranvis.__file__).resolve().parents[1])
HEAVY = ("torch", "numpy", "PIL", "skimage", "matplotlib", "tqdm")


def _py(args: list[str], cwd: Path | None = None, home: Path | None = None,
        ) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "PYTHONDONTWRITEBYTECODE": "1"}
    if home is not None:
        env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
                   XDG_CONFIG_HOME=str(home / ".config"))
        env.pop("MPLCONFIGDIR", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def _imported(importtime_stderr: str) -> set[str]:
    """Top-level packages named in `python -X importtime` output."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(flag):
    r = _py(["-X", "importtime", "-m", "ranvis", flag])
    assert r.returncode == 0, r.stderr
    loaded = _imported(r.stderr)
    assert "ranvis" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    if flag == "--help":
        assert all(c in r.stdout for c in ["invert", "texture", "style"])
    else:
        assert r.stdout.strip() == f"ranvis {ranvis.__version__}"


def test_subcommand_help_imports_no_torch():
    r = _py(["-X", "importtime", "-m", "ranvis", "invert", "--help"])
    assert r.returncode == 0, r.stderr
    assert "--layer" in r.stdout and "--save-every" in r.stdout
    assert "torch" not in _imported(r.stderr)


def test_import_has_no_side_effects(tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    code = ("import sys, ranvis, ranvis.cli.commands, ranvis.defaults, ranvis.errors\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "print(ranvis.__version__)\n")
    r = _py(["-c", code], cwd=work, home=home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ranvis.__version__ and r.stderr == ""
    assert list(work.iterdir()) == [] and list(home.iterdir()) == []


def test_no_command_prints_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "invert" in capsys.readouterr().out


def _invert(tmp_path: Path, *extra: str, layer: str = "pool1", iters: int = 3) -> tuple[int, Path]:
    out = tmp_path / "sub" / "out.png"
    argv = ["invert", "sample:astronaut", "--layer", layer, "--size", "32", "--iters", str(iters),
            "--device", "cpu", "-o", str(out), *extra]
    return cli.main(argv), out


def _stderr_lines(err: str) -> list[str]:
    return [line for line in err.replace("\r", "\n").splitlines() if line.strip()]


def test_invert_end_to_end(tmp_path, capsys):
    code, out = _invert(tmp_path, "--seed", "4", "--net-seed", "2")
    assert code == 0
    png, js, lossplot = out, out.with_suffix(".json"), out.with_name("out-loss.png")
    for p in (png, js, lossplot):
        assert p.is_file() and p.stat().st_size > 0, p
    with Image.open(png) as im:
        assert im.size == (32, 32) and im.mode == "RGB"
    with Image.open(lossplot) as im:
        assert im.format == "PNG"
    assert sorted(p.name for p in out.parent.iterdir()) == ["out-loss.png", "out.json", "out.png"]
    rec = json.loads(js.read_text())
    for key in ["task", "settings", "net", "factors", "loss", "iterations", "seconds",
                "seconds_per_iteration", "metrics", "interrupted", "version"]:
        assert key in rec, key
    assert rec["task"] == "invert" and rec["version"] == ranvis.__version__
    s = rec["settings"]
    assert s["layers"] == ["pool1"] and s["iters"] == 3 and s["seed"] == 4 and s["net_seed"] == 2
    assert s["sigma"] == 0.015 and s["pool"] == "avg" and s["optimizer"] == "lbfgs"
    assert s["device"] == "cpu" and s["size"] == [32, 32] and s["init"] == "noise"
    assert s["input"] == "sample:astronaut" and s["net_arg"] == "random"
    assert s["size_arg"] == 32 and s["save_every"] is None and s["output"] == str(out)
    assert NetSpec.from_dict(rec["net"]) == NetSpec.random(2)
    assert list(rec["factors"]) == ["pool1"] and rec["factors"]["pool1"] > 0
    assert len(rec["loss"]) == rec["iterations"] == 3
    assert all(isinstance(v, float) and v > 0 for v in rec["loss"])
    assert rec["seconds"] > 0
    # seconds is rounded to 1 ms, so seconds / 3 is known to ±0.17 ms
    assert rec["seconds_per_iteration"] == pytest.approx(rec["seconds"] / 3, rel=0.01, abs=2e-4)
    m = rec["metrics"]
    assert isinstance(m["psnr"], float) and m["psnr"] > 0
    assert -1 <= m["ssim"] <= 1
    assert list(m["feature_error"]) == ["pool1"] and m["feature_error"]["pool1"] >= 0
    assert rec["interrupted"] is False
    lines = _stderr_lines(capsys.readouterr().err)
    assert lines[-1].startswith(f"wrote {out}")


def test_bad_layer_exits_2_with_one_line(tmp_path, capsys):
    code, out = _invert(tmp_path, layer="pool9")
    assert code == 2
    err = capsys.readouterr().err
    lines = _stderr_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith("ranvis: error:") and "pool9" in lines[0]
    assert all(n in lines[0] for n in LAYER_NAMES)
    assert not out.parent.exists()


def test_fc_layer_at_32px_exits_2_naming_256(tmp_path, capsys):
    code, out = _invert(tmp_path, layer="fc6")
    assert code == 2
    lines = _stderr_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "256" in lines[0] and "fc6" in lines[0]
    assert not out.parent.exists()


@pytest.mark.parametrize("extra,needle", [
    (("--net", "missing-spec.json"), "missing-spec.json"),
    (("--device", "tpu"), "device"),
    (("--iters", "0"), "positive integer"),
    (("--pool", "min"), "--pool"),
    (("--sigma", "-1"), "positive"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, extra, needle):
    code, out = _invert(tmp_path, *extra)
    assert code == 2
    lines = _stderr_lines(capsys.readouterr().err)
    assert len(lines) == 1 and needle in lines[0], lines


def test_bad_image_exits_2(tmp_path, capsys):
    code = cli.main(["invert", str(tmp_path / "nope.png"), "--layer", "pool1", "-o",
                     str(tmp_path / "o.png")])
    assert code == 2
    lines = _stderr_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "nope.png" in lines[0]


def test_two_layers(tmp_path):
    code, out = _invert(tmp_path, "--nets", "1", layer="pool2,pool4", iters=2)
    assert code == 0
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["settings"]["layers"] == ["pool2", "pool4"]
    assert list(rec["factors"]) == ["pool2", "pool4"]
    assert list(rec["metrics"]["feature_error"]) == ["pool2", "pool4"]
    assert set(rec["terms"]) == {"pool2", "pool4"}
    for k in range(2):
        total = rec["terms"]["pool2"][k] + rec["terms"]["pool4"][k]
        assert rec["loss"][k] == pytest.approx(total, rel=1e-5)


def test_spec_file_as_net(tmp_path):
    spec = NetSpec.random(5, pool="max")
    spec.save(tmp_path / "net.json")
    code, out = _invert(tmp_path, "--net", str(tmp_path / "net.json"), iters=1)
    assert code == 0
    rec = json.loads(out.with_suffix(".json").read_text())
    assert NetSpec.from_dict(rec["net"]) == spec and rec["settings"]["pool"] == "max"


def test_save_every_writes_snapshots(tmp_path):
    code, out = _invert(tmp_path, "--save-every", "2", iters=5)
    assert code == 0
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["out-iter00002.png", "out-iter00004.png", "out-loss.png", "out.json",
                     "out.png"]
    with Image.open(out.parent / "out-iter00004.png") as im:
        assert im.size == (32, 32)
    assert json.loads(out.with_suffix(".json").read_text())["settings"]["save_every"] == 2


def test_interrupt_writes_best_so_far_and_exits_130(tmp_path, monkeypatch):
    from ranvis.optim import callbacks

    original = callbacks.Progress.__call__

    def interrupt_at_2(self, step):
        original(self, step)
        if step.i == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(callbacks.Progress, "__call__", interrupt_at_2)
    code, out = _invert(tmp_path, iters=10)
    assert code == 130
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["interrupted"] is True and rec["iterations"] == 2 and len(rec["loss"]) == 2
    assert out.is_file()


def test_style_on_another_architecture_needs_no_other_flag(tmp_path, capsys):
    """`ranvis style a b --arch resnet18`: content and style taps from the arch's presets."""
    out = tmp_path / "s.png"
    code = cli.main(["style", "sample:astronaut", "sample:coffee", "--arch", "resnet18",
                     "--size", "32", "--iters", "2", "--device", "cpu", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    rec = json.loads(out.with_suffix(".json").read_text())
    # the best preset's content tap: the style tap at twice the content preset's stride
    assert rec["net"]["arch"] == "resnet18" and rec["settings"]["content_layer"] == "layer2"
    assert rec["settings"]["style_layers"] == ["conv1", "layer1", "layer2", "layer3"]


@pytest.mark.parametrize("argv,needle", [
    (["--arch", "vgg20"], "unknown architecture 'vgg20'"),
    (["--arch", "resnet18", "--layer", "pool1"], "unknown layer 'pool1' for resnet18"),
])
def test_unknown_arch_or_tap_exits_2_with_one_line(tmp_path, capsys, argv, needle):
    out = tmp_path / "x.png"
    base = ["invert", "sample:astronaut", "--size", "32", "--iters", "1", "-o", str(out)]
    code = cli.main(base + (argv if "--layer" in argv else [*argv, "--layer", "relu"]))
    err = _stderr_lines(capsys.readouterr().err)
    assert code == 2 and len(err) == 1 and needle in err[0], err
    assert "resnet50" in err[0] or "layer1" in err[0]  # the valid names are listed
    assert not out.exists()


def test_layers_command_prints_the_tap_table(capsys):
    assert cli.main(["layers", "--arch", "resnet18"]) == 0
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if line.startswith("layer1.0 "))
    assert row.split() == ["layer1.0", "64", "4", "27", "px", "4", "px"]  # min input: the stride
    assert "content layer1" in text
    assert cli.main(["layers"]) == 0  # the paper's VGG-19 by default
    text = capsys.readouterr().out
    assert text.startswith("vgg19") and "pool5" in text and "256x256" in text
    assert cli.main(["layers", "--arch", "nope"]) == 2
