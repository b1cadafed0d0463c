"""Tests for ranvis.tasks.invert (the library call behind `ranvis invert`)."""

import math

import pytest
import torch

from ranvis.errors import InputError
from ranvis.io.images import sample
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.objectives.weighting import layer_factors
from ranvis.tasks import invert, noise, resolve_device


@pytest.fixture(scope="module")
def img() -> torch.Tensor:
    return sample("coffee", 24)  # 24x16


def test_invert_returns_run(img):
    run = invert(img, "pool1", iters=3, device="cpu")
    assert run.image.shape == img.shape and run.image.device.type == "cpu"
    assert float(run.image.min()) >= 0 and float(run.image.max()) <= 1
    rec = run.record
    assert rec["settings"]["size"] == [24, 16] and rec["settings"]["init"] == "noise"
    assert rec["iterations"] == 3 == len(run.result.losses)
    assert rec["loss"] == run.result.losses
    assert rec["metrics"]["psnr"] < 60 and rec["metrics"]["feature_error"]["pool1"] > 0


def test_same_seeds_same_result(img):
    a = invert(img, "pool1", iters=3, seed=1, device="cpu")
    b = invert(img, "pool1", iters=3, seed=1, device="cpu")
    c = invert(img, "pool1", iters=3, seed=2, device="cpu")
    assert torch.equal(a.image, b.image) and a.record["loss"] == b.record["loss"]
    assert not torch.equal(a.image, c.image)
    assert torch.equal(noise(16, 24, 1), noise(16, 24, 1))


def test_partial_factor_override(img):
    run = invert(img, "pool1,pool2", iters=1, factors={"pool1": 2.0}, device="cpu")
    auto = layer_factors(Net(NetSpec.random(0)), img, ["pool2"], "content")["pool2"]
    assert run.record["factors"]["pool1"] == 2.0
    assert run.record["factors"]["pool2"] == pytest.approx(auto, rel=1e-6)
    with pytest.raises(InputError, match="pool3"):
        invert(img, "pool1", iters=1, factors={"pool3": 1.0}, device="cpu")


def test_init_at_the_input_stays_there(img):
    run = invert(img, "conv1_1", iters=2, init=img, device="cpu")
    assert run.record["settings"]["init"] == "given"
    assert run.record["loss"][0] == 0.0
    assert run.record["metrics"]["psnr"] == math.inf and run.record["metrics"]["ssim"] == 1.0
    with pytest.raises(InputError, match="init"):
        invert(img, "conv1_1", iters=1, init=img[..., :8, :8], device="cpu")


def test_tiny_image_has_no_ssim_but_runs():
    tiny = torch.rand(1, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    run = invert(tiny, "pool1", iters=2, device="cpu")
    assert run.image.shape == (1, 3, 2, 2)
    assert math.isnan(run.record["metrics"]["ssim"])


def test_input_errors(img):
    with pytest.raises(InputError, match="pool9"):
        invert(img, "pool9", iters=1, device="cpu")
    with pytest.raises(InputError, match="at least 32 px"):
        invert(img, "pool5", iters=1, device="cpu")
    with pytest.raises(InputError, match="positive"):
        invert(img, "pool1", iters=0, device="cpu")
    with pytest.raises(InputError, match="device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="cuda"):
            resolve_device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")
