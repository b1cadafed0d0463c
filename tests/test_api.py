"""The top-level API (ranvis.api, ranvis.io.coerce): every image form a user holds is accepted, bad
ones are refused with an InputError naming the expected form, one style or a list, a short repr,
and ``import ranvis`` stays torch-free. 32 px images, a few iterations."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ranvis
from ranvis.io.coerce import EXPECTED

SRC = str(Path(ranvis.__file__).resolve().parents[1])
FAST = {"size": 32, "iters": 2, "device": "cpu"}


def _forms(tmp_path: Path) -> dict[str, object]:
    rng = np.random.default_rng(0)
    arr = rng.random((32, 24, 3))
    Image.fromarray((arr * 255).astype(np.uint8)).save(tmp_path / "x.png")
    return {"path": str(tmp_path / "x.png"), "pathlib": tmp_path / "x.png",
            "sample": "sample:coffee", "pil": Image.fromarray((arr * 255).astype(np.uint8)),
            "uint8 array": (arr * 255).astype(np.uint8), "float array": arr,
            "tensor 3d": torch.rand(3, 32, 24), "tensor 4d": torch.rand(1, 3, 32, 24),
            "uint8 tensor": torch.randint(0, 256, (3, 32, 24), dtype=torch.uint8)}


def test_import_ranvis_imports_no_torch():
    env = {**os.environ, "PYTHONPATH": SRC}
    code = ("import ranvis, sys; assert 'torch' not in sys.modules; "
            "assert {'invert', 'style', 'NetSpec'} <= set(dir(ranvis))")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)


def test_public_names():
    for name in ranvis.__all__:
        assert getattr(ranvis, name) is not None, name
        assert name.startswith("__") or getattr(ranvis, name).__doc__, name
    assert ranvis.Net is ranvis.NetSpec and ranvis.synthesize_texture is ranvis.texture
    assert callable(ranvis.style)  # not shadowed by a submodule
    with pytest.raises(AttributeError):
        ranvis.no_such_name  # noqa: B018


def test_every_input_form_loads(tmp_path):
    for kind, x in _forms(tmp_path).items():
        img = ranvis.load_image(x)
        assert img.dtype == torch.float32 and img.dim() == 4 and img.shape[:2] == (1, 3), kind
        assert 0 <= float(img.min()) and float(img.max()) <= 1, kind
    assert ranvis.load_image("sample:astronaut", size=32).shape == (1, 3, 32, 32)


def test_input_is_not_changed():
    x = torch.rand(3, 32, 32)
    before = x.clone()
    img = ranvis.load_image(x)
    img.zero_()
    assert torch.equal(x, before)


@pytest.mark.parametrize("bad, says", [
    ([1, 2, 3], "got list"),
    (torch.rand(3, 32, 32) * 255, "divide a 0-255 image by 255"),
    (np.zeros((32, 32, 2)), "shape (32, 32, 2)"),
    ("no/such/image.png", "does not exist"),
    (torch.rand(32, 32, 3), "shape (32, 32, 3)"),
    (np.full((8, 8, 3), np.nan), "NaN"),
    (torch.zeros(3, 8, 8, dtype=torch.int64), "torch.int64"),
])
def test_bad_input_names_the_expected_form(bad, says):
    with pytest.raises(ranvis.InputError) as e:
        ranvis.load_image(bad)
    msg = str(e.value)
    assert EXPECTED in msg and says in msg and "\n" not in msg


def test_tasks_refuse_bad_input_and_unknown_options():
    with pytest.raises(ranvis.InputError, match="content must be"):
        ranvis.style([1, 2], "sample:brick", **FAST)
    with pytest.raises(ranvis.InputError, match="style image must be"):
        ranvis.style("sample:coffee", [torch.rand(3, 8, 8) * 255], **FAST)
    with pytest.raises(ranvis.InputError, match="non-empty list"):
        ranvis.style("sample:coffee", [], **FAST)
    with pytest.raises(ranvis.InputError, match="no option 'steps'.*iters"):
        ranvis.invert("sample:coffee", "pool1", steps=3)
    with pytest.raises(ranvis.InputError, match="no setting 'bogus'"):
        ranvis.build_net("sample:coffee", bogus=1)


def test_invert_each_form_and_result(tmp_path):
    for kind, x in _forms(tmp_path).items():
        r = ranvis.invert(x, "pool1", **FAST)
        assert r.image.shape == ((1, 3, 21, 32) if kind == "sample" else (1, 3, 32, 24)), kind
    r = ranvis.invert("sample:coffee", "pool2", **FAST)
    assert isinstance(r.pil, Image.Image) and r.pil.size == (32, 21)
    assert r.record["task"] == "invert" and r.record["settings"]["input"] == "sample:coffee"
    text = repr(r)
    assert len(text) < 200 and "invert 32x21" in text and "2 iterations" in text
    assert "psnr" in text
    out = r.save(tmp_path / "o.png")
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["iterations"] == 2 and "environment" in rec
    assert (tmp_path / "o-loss.png").is_file()
    with pytest.raises(ranvis.InputError, match=".png, .jpg or .jpeg"):
        r.save(tmp_path / "o.txt")


def test_texture_and_style_one_or_many(tmp_path):
    t = ranvis.texture(np.random.default_rng(1).random((32, 32, 3)), out_size=(40, 32),
                       **FAST)
    assert t.image.shape == (1, 3, 32, 40) and "gram_error mean" in repr(t)
    one = ranvis.style("sample:coffee", Image.new("RGB", (40, 40), (200, 40, 10)), **FAST)
    many = ranvis.style(torch.rand(1, 3, 32, 32), ["sample:brick", "sample:gravel"],
                        style_weights=[1, 2], **FAST)
    assert one.record["settings"]["style_weights"] == [1.0]
    assert many.record["settings"]["style_weights"] == [1.0, 2.0]
    assert len(many.record["settings"]["styles"]) == 2
    assert len(repr(one)) < 200 and "ssim_content" in repr(one)


def test_progress_is_opt_in(capsys):
    ranvis.invert("sample:coffee", "pool1", **FAST)
    assert "it/s" not in capsys.readouterr().err
    ranvis.invert("sample:coffee", "pool1", progress=True, **FAST)
    assert "2/2" in capsys.readouterr().err


def test_build_net_and_images_round_trip(tmp_path):
    spec = ranvis.build_net("sample:coffee", tmp_path / "net.json", upto="conv1_1",
                            candidates=2, size=32, iters=2)
    again = ranvis.NetSpec.load(tmp_path / "net.json")
    assert again.seeds == spec.seeds and "ranvis.build_net" in again.info["built_by"]
    r = ranvis.invert("sample:coffee", "pool1", net=again, **FAST)
    assert r.record["net"]["seeds"] == spec.seeds
    p = ranvis.save_image(r.pil, tmp_path / "r.png")
    assert ranvis.load_image(p).shape == r.image.shape


def test_init_as_an_image_is_resized_to_the_run():
    r = ranvis.invert("sample:coffee", "pool1", init="sample:gravel", **FAST)
    assert r.record["settings"]["init"] == "given"
    s = ranvis.style("sample:coffee", "sample:brick", init="image:sample:gravel", **FAST)
    assert s.record["settings"]["init"] == "given"
    with pytest.raises(ranvis.InputError, match="init must be"):
        ranvis.invert("sample:coffee", "pool1", init=[0.5], **FAST)
