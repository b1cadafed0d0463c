"""Small things a new user meets first (issue 30, item 7): hints for other tools' spellings and
for a sample written as a path, grey arrays, tiny images refused, transparency reported, the
Python spelling in Python's messages, ``ranvis layers`` on padded networks, ``help(ranvis)``."""
from __future__ import annotations

import pydoc
import warnings

import numpy as np
import pytest
from PIL import Image

import ranvis
from ranvis.cli import commands as cli
from ranvis.errors import InputNotice
from ranvis.nets import get_arch


@pytest.mark.parametrize("flag, says", [("-init", "--init"), ("-seed", "--seed")])
def test_neural_style_spellings_get_a_hint(flag, says, capsys):
    assert cli.main(["invert", "sample:chelsea", "--layer", "pool1", flag, "3", "-o", "x.png"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"ranvis: error: {flag} is another tool's spelling; ranvis's flag is {says}"


def test_unknown_argument_is_said_once(capsys):
    assert cli.main(["layers", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ranvis: error: unrecognized arguments: --bogus") and "ranvis: ranvis" \
        not in err.replace("error: ", "")


def test_a_sample_name_as_a_path_gets_did_you_mean(capsys):
    with pytest.raises(ranvis.InputError, match="did you mean sample:chelsea"):
        ranvis.load_image("chelsea")
    assert cli.main(["invert", "chelsea", "--layer", "pool1", "-o", "x.png"]) == 2
    assert "did you mean sample:chelsea?" in capsys.readouterr().err


def test_grey_arrays_are_images_like_grey_files():
    grey = (np.arange(400, dtype=np.uint8) % 251).reshape(20, 20)
    for a in (grey, grey[..., None], grey / 255.0):
        img = ranvis.load_image(a)
        assert img.shape == (1, 3, 20, 20)
        assert bool((img[:, 0] == img[:, 1]).all() and (img[:, 1] == img[:, 2]).all())


def test_a_tiny_image_is_refused_not_upscaled():
    with pytest.raises(ranvis.InputError, match="1x1: at least 8 px"):
        ranvis.invert(np.zeros((1, 1, 3), np.uint8), "pool1", size=64, iters=1)


def test_transparency_is_reported(tmp_path, capsys):
    path = tmp_path / "half.png"
    Image.new("RGBA", (16, 16), (200, 0, 0, 128)).save(path)
    with pytest.warns(InputNotice, match="composited over white"):
        ranvis.load_image(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an opaque RGBA image is taken without a word
        Image.new("RGBA", (16, 16), (200, 0, 0, 255)).save(tmp_path / "opaque.png")
        ranvis.load_image(tmp_path / "opaque.png")


def test_too_small_names_the_python_spelling():
    with pytest.raises(ranvis.InputError, match=r"size= in Python"):
        ranvis.invert("sample:chelsea", "pool5", size=16, iters=1)


def test_min_input_is_at_least_the_stride():
    for name in ("resnet18", "vgg19", "convnext_tiny"):
        a = get_arch(name)
        for t in a.nodes():
            tap = a.tap(t.name)
            if tap.spatial:
                assert tap.min_input >= tap.stride, (name, t.name)
    assert get_arch("resnet18").tap("layer4").min_input == 32


def test_help_documents_netspec_once():
    assert pydoc.render_doc(ranvis, renderer=pydoc.plaintext).count("class NetSpec") == 1


def test_readme_names_every_sample():
    from pathlib import Path

    from ranvis.io.images import SAMPLES

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    listed = text.split("`sample:NAME` names one of", 1)[1].split(").", 1)[0]
    assert all(f"`{name}`" in listed for name in SAMPLES), sorted(
        n for n in SAMPLES if f"`{n}`" not in listed)


def test_demo_captions_say_what_the_presets_run():
    from ranvis import presets
    from ranvis.cli.demo import gallery_items

    captions = {i.name: i.caption for i in gallery_items(iters=1)}
    assert presets.style_summary("best") in captions["style-chelsea-hubble"]
    assert presets.style_summary("paper") in captions["style-chelsea-hubble-paper"]


def test_help_defaults_agree_with_the_presets():
    import argparse

    from ranvis import presets as P
    from ranvis.cli.parsers import add_invert, add_style, add_texture
    from ranvis.presets import deep_content_tap

    sub = argparse.ArgumentParser().add_subparsers()
    helps = {}
    for add in (add_invert, add_texture, add_style):
        p = add(sub)
        helps[p.prog.split()[-1]] = {a.dest: " ".join((a.help or "").split()) for a in p._actions}
    best, paper = P.style_recipe("best"), P.style_recipe("paper")
    assert f"best {best.nets}, paper {paper.nets}" in helps["style"]["nets"]
    deep = P.invert_recipe("best", deep=True)
    assert f"best: {deep.nets} beyond pool2" in helps["invert"]["nets"]
    assert f"best: {deep.levels} beyond pool2" in helps["invert"]["levels"]
    assert str(deep.iters) in helps["invert"]["iters"]
    assert str(deep.iters) not in helps["texture"]["iters"] + helps["style"]["iters"]
    vgg = get_arch("vgg19")
    strides = {t: vgg.tap(t).stride for t in (vgg.presets.content, *vgg.presets.style)}
    tap = deep_content_tap(vgg.presets.content, vgg.presets.style, strides)
    assert "VGG conv2_2" in helps["style"]["content_layer"] and vgg.presets.content == "conv2_2"
    assert f"VGG {tap}" in helps["style"]["content_layer"]


def test_bf16_speedup_is_one_phrase():
    from pathlib import Path

    from ranvis import defaults as D
    from ranvis.cli import commands

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert f"bf16: {D.BF16_SPEEDUP} faster" in readme
    helps = [" ".join((a.help or "").split()) for sub in commands.build_parser()._actions
             for p in (getattr(sub, "choices", None) or {}).values() if hasattr(p, "_actions")
             for a in p._actions if a.dest == "precision"]
    assert helps and all(f"bf16 is {D.BF16_SPEEDUP} faster" in h for h in helps)
