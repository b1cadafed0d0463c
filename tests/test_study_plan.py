"""Study plans without running a cell: the format, the stride rule, keys, option checks, the
judge's independence, and every bad plan refused by the real CLI with exit 2 and one line."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from PIL import Image

from ranvis.cli.commands import main
from ranvis.errors import InputError
from ranvis.nets import get_arch
from ranvis.study import load_plan, parse_plan
from ranvis.study.cells import cell_key, expand
from ranvis.study.fields import int_list, task_options
from ranvis.study.shipped import shipped_names, shipped_path
from ranvis.study.taps import stride_tap
from ranvis.tasks import invert


def _plan(tmp: Path, body: str) -> Path:
    p = tmp / "plan.toml"
    p.write_text(textwrap.dedent(body))
    return p


def _tables(image: str = "sample:astronaut", **study: object) -> dict:
    return {"study": {"size": 32, "iters": 3, "seeds": [0, 1], "images": [image], **study},
            "arch": [{"name": ["vgg11", "resnet18"]}],
            "task": [{"kind": "invert", "strides": [4, 8]}]}


def test_example_plan_parses_and_expands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["study", "--example"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# A ranvis study plan")
    plan = load_plan(_plan(tmp_path, text))
    assert [n.label for n in plan.nets] == ["vgg16-avg", "vgg16-max", "vgg19-avg", "vgg19-max",
                                            "alexnet-avg", "resnet18-avg"]
    grid = expand(plan)
    # inversion: 6 networks x 3 strides x 3 images x 3 seeds; texture: 6 x 3 sources x 3 seeds
    assert len(grid.cells) == 6 * 3 * 3 * 3 + 6 * 3 * 3 and not grid.missing
    assert {"example", "fig3", "fig3-quick"} <= set(shipped_names())
    fig3 = load_plan("fig3-quick")  # by name
    assert [n.label for n in fig3.nets] == ["stacked", "plain"] and fig3.starts == (0, 1)
    # the stacked net has no seeds: 2 images x 5 taps x 2 starts; plain: x 2 seeds more
    assert len(expand(fig3).cells) == 2 * 5 * 2 + 2 * 5 * 2 * 2
    assert shipped_path("fig3").is_file()


def test_task_seeds_override_the_studys() -> None:
    t = _tables(seeds="0-2", starts=[5])
    t["task"].append({"kind": "texture", "images": ["sample:brick"], "seeds": [0, 1]})
    t["arch"].append({"spec": "stacked"})
    cells = expand(parse_plan(t, Path.cwd())).cells
    draws = {(c.info["task"], c.info["arch"]): set() for c in cells}
    for c in cells:
        draws[(c.info["task"], c.info["arch"])].add((c.info["net_seed"], c.info["start"]))
    assert draws[("invert", "vgg11-avg")] == {(0, 5), (1, 5), (2, 5)}
    assert draws[("invert", "stacked")] == {(None, 5)}  # a fixed network: the starts only
    assert draws[("texture", "vgg11-avg")] == {(0, 0), (1, 1)}  # own seeds, start = seed
    assert draws[("texture", "stacked")] == {(None, 0), (None, 1)}


def test_stride_rule_takes_the_last_tap_of_each_stride() -> None:
    want = {("vgg19", 4): "relu3_4", ("vgg19", 16): "relu5_4", ("vgg11", 8): "relu4_2",
            ("resnet18", 4): "layer1.1", ("resnet50", 16): "layer3.5",
            ("alexnet", 8): "features.4", ("convnext_tiny", 8): "features.3.2",
            ("multiscale", 1): "relu"}
    for (arch, stride), tap in want.items():
        t = stride_tap(get_arch(arch), stride, 64)
        assert t.taps == (tap,) and t.stride == stride
        assert get_arch(arch).tap(tap).stride == stride
    none = stride_tap(get_arch("multiscale"), 4, 64)
    assert not none.runs and "no tap at stride 4" in none.reason
    small = stride_tap(get_arch("alexnet"), 16, 16)  # features.11 needs 31 px
    assert not small.runs and "needs 31 px" in small.reason


def test_architecture_without_the_stride_has_no_cell_and_says_so() -> None:
    t = _tables()
    t["arch"] = [{"name": ["vgg11", "multiscale"]}]
    t["task"] = [{"kind": "invert", "strides": [1, 4]}]
    grid = expand(parse_plan(t, Path.cwd()))
    assert {(c.info["arch"], c.info["stride"]) for c in grid.cells} == {
        ("vgg11-avg", 1), ("vgg11-avg", 4), ("multiscale", 1)}
    assert grid.missing == [{"task": "invert", "kind": "invert", "arch": "multiscale",
                             "stride": 4, "reason": "multiscale has no tap at stride 4"}]


def test_keys_follow_settings_not_names(tmp_path: Path) -> None:
    base = {c.info["tap"] + str(c.info["net_seed"]): c.key
            for c in expand(parse_plan(_tables(), Path.cwd())).cells}
    assert len(set(base.values())) == 8
    relabel = _tables()
    relabel["arch"] = [{"name": "vgg11", "label": "A"}, {"name": "resnet18", "label": "B"}]
    same = {c.info["tap"] + str(c.info["net_seed"]): c.key
            for c in expand(parse_plan(relabel, Path.cwd())).cells}
    assert same == base  # labels are for display
    Image.new("RGB", (40, 40), (200, 30, 30)).save(tmp_path / "a.png")
    keys = {c.key for c in expand(parse_plan(_tables(str(tmp_path / "a.png")), tmp_path)).cells}
    Image.new("RGB", (40, 40), (200, 30, 31)).save(tmp_path / "a.png")  # one pixel value
    keys2 = {c.key for c in expand(parse_plan(_tables(str(tmp_path / "a.png")), tmp_path)).cells}
    assert not keys & keys2 and not keys & set(base.values())
    more = _tables(iters=4)
    assert not {c.key for c in expand(parse_plan(more, Path.cwd())).cells} & set(base.values())
    opt = _tables()
    opt["task"][0]["options"] = {"param": "pixel"}
    cells = expand(parse_plan(opt, Path.cwd())).cells
    assert cells[0].settings["options"]["param"] == "pixel"
    assert not {c.key for c in cells} & set(base.values())
    s = dict(cells[0].settings)
    assert cell_key(s) == cells[0].key and cell_key({**s, "start": 9}) != cells[0].key


def test_seeds_and_options() -> None:
    assert int_list("0-2,5", "seeds") == [0, 1, 2, 5] and int_list(3, "seeds") == [3]
    assert int_list([1, 1, 0], "seeds") == [1, 0]
    for bad in ("2-0", "x", [], [-1], [True], 1.5):
        with pytest.raises(InputError, match="seeds"):
            int_list(bad, "seeds")
    opts = task_options(invert, {"param": "pixel"}, "options")
    assert opts["param"] == "pixel" and opts["optimizer"] == "lbfgs"  # the library's defaults
    assert not {"arch", "iters", "seed", "net_seed", "init", "callbacks"} & set(opts)
    with pytest.raises(InputError, match="valid options: .*param"):
        task_options(invert, {"nope": 1}, "options")
    with pytest.raises(InputError, match="like its default"):
        task_options(invert, {"optimizer": 3}, "options")


def test_the_judge_is_never_studied() -> None:
    t = _tables(seeds="6-7")
    t["arch"] = [{"name": "vgg19", "pool": "max"}]
    t["task"] = [{"kind": "texture", "images": ["sample:brick"]}]
    with pytest.raises(InputError, match="judge network"):
        parse_plan(t, Path.cwd())
    t["study"]["seeds"] = [0, 1]  # other draws of the same architecture are independent
    assert len(expand(parse_plan(t, Path.cwd())).cells) == 2
    t["task"] = [{"kind": "invert", "strides": [4]}]  # inversion does not use the judge
    t["study"]["seeds"] = [7]
    assert len(expand(parse_plan(t, Path.cwd())).cells) == 1


BAD_PLANS = {
    "unknown architecture": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname="vgg99"\n'
                            '[[task]]\nkind="invert"\n',
    "unknown tap": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname=["vgg11","resnet18"]\n'
                   '[[task]]\nkind="invert"\ntaps=["pool2"]\n',
    "missing image": '[study]\nimages=["nowhere.png"]\n[[arch]]\nname="vgg11"\n'
                     '[[task]]\nkind="invert"\n',
    "no cells": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname="multiscale"\n'
                '[[task]]\nkind="invert"\nstrides=[4,8]\n',
    "malformed value": '[study]\nsize="big"\nimages=["sample:coffee"]\n[[arch]]\nname="vgg11"\n'
                       '[[task]]\nkind="invert"\n',
    "malformed TOML": '[study\nsize=64\n',
    "unknown key": '[study]\nimages=["sample:coffee"]\nsead=1\n[[arch]]\nname="vgg11"\n'
                   '[[task]]\nkind="invert"\n',
    "no task": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname="vgg11"\n',
    "no architecture": '[study]\nimages=["sample:coffee"]\n[[task]]\nkind="invert"\n',
    "bad seeds": '[study]\nseeds="3-1"\nimages=["sample:coffee"]\n[[arch]]\nname="vgg11"\n'
                 '[[task]]\nkind="invert"\n',
    "tap too deep for the size": '[study]\nsize=16\nimages=["sample:coffee"]\n[[arch]]\n'
                                 'name="vgg11"\n[[task]]\nkind="invert"\ntaps=["pool5"]\n',
    "style without styles": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname="vgg11"\n'
                            '[[task]]\nkind="style"\n',
    "unknown option": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname="vgg11"\n'
                      '[[task]]\nkind="invert"\noptions={paramm="pixel"}\n',
    "unknown pool": '[study]\nimages=["sample:coffee"]\n[[arch]]\nname="vgg11"\npool="min"\n'
                    '[[task]]\nkind="invert"\n',
    "empty image folder": '[study]\nimages=["empty/"]\n[[arch]]\nname="vgg11"\n'
                          '[[task]]\nkind="invert"\n',
    "not an image": '[study]\nimages=["plan.toml"]\n[[arch]]\nname="vgg11"\n'
                    '[[task]]\nkind="invert"\n',
}


@pytest.mark.parametrize("case", list(BAD_PLANS))
def test_bad_plan_exit_2_one_line_nothing_done(case: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    plan = _plan(tmp_path, BAD_PLANS[case])
    out = tmp_path / "out"
    assert main(["study", str(plan), "-o", str(out), "--inline"]) == 2, case
    err = capsys.readouterr().err
    assert err.startswith("ranvis: error:") and err.count("\n") == 1, err
    assert not (out / "cells").exists()


@pytest.mark.parametrize("argv", [
    ["study", "-o", "OUT"],  # neither plan nor flags
    ["study", "fig3-quick", "--arch", "vgg11", "-o", "OUT"],  # both
    ["study", "--arch", "vgg11", "--task", "invert", "-o", "OUT"],  # no images
    ["study", "--arch", "vgg11", "--task", "draw", "--images", "sample:coffee", "-o", "OUT"],
    ["study", "--arch", "vgg11", "--task", "invert", "--images", "sample:coffee"],  # no -o
    ["study", "fig3-quick", "-o", "OUT", "--ray", "--inline"],
    ["study", "fig3-quick", "-o", "OUT", "--workers", "0"],
])
def test_bad_flags_exit_2(argv: list[str], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ranvis") and err.count("\n") == 1, err
    assert not (tmp_path / "out" / "cells").exists()


def test_cells_run_the_study_recipe_unless_the_plan_names_a_preset() -> None:
    """A task that names no preset runs STUDY_RECIPES' (inversion and texture as the paper,
    style with best); one that names a preset gets the library's defaults for the rest."""
    base = Path(".")
    plain = parse_plan({**_tables(), "task": [{"kind": "invert", "strides": [4]},
                                              {"kind": "texture"}, {"kind": "style",
                                               "styles": ["sample:gravel"]}]}, base)
    opts = {t.kind: t.options for t in plain.tasks}
    assert opts["invert"]["preset"] == "paper" and opts["invert"]["param"] == "auto"
    assert opts["texture"]["preset"] == "paper" and opts["style"]["preset"] == "best"
    named = parse_plan({**_tables(), "task": [{"kind": "invert", "strides": [4],
                                               "options": {"preset": "best"}}]}, base)
    assert named.tasks[0].options["preset"] == "best"
    assert named.tasks[0].options["param"] is None  # the library's default: the preset decides
    tuned = parse_plan({**_tables(), "task": [{"kind": "invert", "strides": [4],
                                               "options": {"param": "pixel"}}]}, base)
    assert tuned.tasks[0].options["preset"] == "paper" and tuned.tasks[0].options["param"] == "pixel"
