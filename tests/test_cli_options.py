"""Every option of the presets round through the CLI at 32 px; the run record says what ran;
JPEG output; no abbreviations; peer tools' flags get ranvis's name in one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ranvis.cli import commands as cli
from ranvis.cli.args import PEER_FLAGS
from ranvis.io.images import load, sample, save

BASE = ["--size", "32", "--device", "cpu"]


def _run(tmp_path: Path, *argv: str, out: str = "o.png") -> dict:
    path = tmp_path / out
    assert cli.main([*argv, *BASE, "-o", str(path)]) == 0
    return json.loads(path.with_suffix(".json").read_text())


def test_invert_options_reach_the_record(tmp_path):
    rec = _run(tmp_path, "invert", "sample:astronaut", "--layer", "pool4", "--iters", "14",
               "--nets", "2", "--levels", "2", "--noise-std", "0.05", "--tv-weight", "0.01",
               "--alpha-weight", "0.1", "--param", "pixel", "--padding", "reflect")
    st = rec["settings"]
    assert st["preset"] == "best" and st["nets"] == 2 and st["levels"] == 2
    assert st["noise_std"] == 0.05 and st["param"] == "pixel" and st["padding"] == "reflect"
    assert st["priors"] == {"tv": 0.01, "alpha": 0.1}
    assert st["stages"] == [[[16, 16], 2], ["pixel", 12]]
    assert {"pool4#0", "pool4#1", "tv", "alpha"} == set(rec["terms"])
    assert rec["iterations"] == 14


def test_invert_presets(tmp_path):
    best = _run(tmp_path, "invert", "sample:astronaut", "--layer", "pool4", "--iters", "8")
    paper = _run(tmp_path, "invert", "sample:astronaut", "--layer", "pool4", "--iters", "8",
                 "--preset", "paper", out="p.png")
    assert best["settings"]["nets"] == 4 and best["settings"]["param"] == "fourier"
    assert best["settings"]["noise_std"] == 0.01
    assert paper["settings"]["preset"] == "paper" and paper["settings"]["nets"] == 1
    assert paper["settings"]["param"] == "pixel" and paper["settings"]["levels"] == 1
    assert paper["settings"]["noise_std"] == 0.1
    shallow = _run(tmp_path, "invert", "sample:astronaut", "--layer", "pool2", "--iters", "3",
                   out="s.png")
    assert shallow["settings"]["nets"] == 1 and shallow["settings"]["param"] == "pixel"


def test_style_options_reach_the_record(tmp_path):
    save(sample("coffee", (32, 32)), tmp_path / "start.png")
    rec = _run(tmp_path, "style", "sample:chelsea", "sample:brick", "--iters", "4",
               "--content-weight", "2", "--style-weight", "3", "--tv-weight", "0",
               "--init", f"image:{tmp_path / 'start.png'}", "--no-color-match", "--nets", "1",
               "--padding", "zeros", "--ratio", "1:1:1")
    st = rec["settings"]
    assert st["weights"] == {"content": 2.0, "style": 3.0, "tv": 0.0}
    assert st["init"] == "given" and st["color_match"] is False and st["nets"] == 1
    assert st["padding"] == "zeros" and st["ratio"] == [1.0, 1.0, 1.0]
    assert "tv" not in rec["terms"]  # gamma x 0: the term is left out


def test_style_presets(tmp_path):
    best = _run(tmp_path, "style", "sample:chelsea", "sample:brick", "--iters", "3")
    paper = _run(tmp_path, "style", "sample:chelsea", "sample:brick", "--iters", "3",
                 "--preset", "paper", out="p.png")
    b, p = best["settings"], paper["settings"]
    assert b["preset"] == "best" and b["color_match"] and b["nets"] == 1
    assert b["content_layer"] == "conv3_1" and b["padding"] == "reflect"
    assert b["ratio"] == [1.0, 1.0, 1.0] and b["factors_at"] == "start" and b["plateau"]
    assert b["style_loss"] == "sw" and b["color_space"] == "yiq" and b["content_factor"]
    assert b["plateau"] == {"window": 10, "rel_tol": 0.01}  # a 1 % gain over 10 evaluations
    assert b["start"] == "hf" and b["start_noise"] == "style"  # the style's fine-texture energy
    assert 3 <= best["factors"]["content_factor"] <= 200  # α from the style's contrast
    assert p["style_loss"] == "gram" and not p["content_factor"]
    assert b["tv_factor"] and 0.1 <= best["factors"]["tv"] <= 10  # brick: a grainy style
    assert p["preset"] == "paper" and not p["color_match"] and p["nets"] == 1
    assert not p["tv_factor"] and "tv" not in paper["factors"]
    assert p["content_layer"] == "conv2_2" and p["padding"] == "zeros"
    assert p["ratio"] == [100.0, 1.0, 1000.0] and p["init"] == "noise" and p["plateau"] is None


def test_texture_presets(tmp_path):
    best = _run(tmp_path, "texture", "sample:brick", "--iters", "2")
    paper = _run(tmp_path, "texture", "sample:brick", "--iters", "2", "--preset", "paper",
                 out="p.png")
    assert (best["settings"]["preset"], best["settings"]["padding"]) == ("best", "circular")
    assert (paper["settings"]["preset"], paper["settings"]["padding"]) == ("paper", "zeros")
    assert best["net"]["padding"] == "circular" and "padding" not in paper["net"]


def test_jpeg_output(tmp_path):
    rec = _run(tmp_path, "texture", "sample:brick", "--iters", "2", out="t.jpg")
    data = (tmp_path / "t.jpg").read_bytes()
    assert data[:3] == b"\xff\xd8\xff"  # a JPEG, not a PNG under another name
    assert load(tmp_path / "t.jpg").shape[-1] == 32
    assert (tmp_path / "t-loss.png").exists() and rec["task"] == "texture"


@pytest.mark.parametrize("argv", [
    ["style", "sample:chelsea", "sample:brick", "--style-weig", "2"],
    ["invert", "sample:chelsea", "--layer", "pool1", "--iter", "5"],
    ["texture", "sample:brick", "--out", "x"],
])
def test_abbreviations_are_refused(tmp_path, capsys, argv):
    assert cli.main([*argv, "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unrecognized arguments" in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("flag,ours", [
    ("-content_weight", "--content-weight"), ("-style_weight", "--style-weight"),
    ("-tv_weight", "--tv-weight"), ("--num-iterations", "--iters"), ("-num_iterations", "--iters"),
    ("--steps", "--iters"), ("-image_size", "--size"), ("-init_image", "--init image:PATH"),
    ("-output_image", "-o/--output"),
])
def test_peer_flags_name_ours(tmp_path, capsys, flag, ours):
    argv = ["style", "sample:chelsea", "sample:brick", flag, "5", "-o", str(tmp_path / "o.png")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and flag in err and ours in err


def test_no_ranvis_flag_is_a_peer_flag():
    parser = cli.build_parser()
    ours = set()
    for action in parser._subparsers._group_actions:  # the subcommands' parsers
        for sub in action.choices.values():
            for a in sub._actions:
                ours.update(o.lstrip("-") for o in a.option_strings)
    assert "iters" in ours and not ours & set(PEER_FLAGS)
