"""Tests for ranvis.objectives.weighting: ω_l (eq. 4) against a float64 central-difference gradient."""

import pytest
import torch

from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.objectives.losses import feature_loss
from ranvis.objectives.weighting import layer_factors


def _net64(upto: list[str]) -> Net:
    """A random net whose weights for ``upto`` are cast to float64 (set_weights keeps float32)."""
    net = Net(NetSpec.random(0))
    for name in upto:
        w, b = net.layer_weights(name)
        net._weights[name] = (w.double(), b.double())
    return net


def _fd_gradient(net: Net, x0: torch.Tensor, layer: str, eps: float = 1e-6) -> torch.Tensor:
    """Central differences of feature_loss(F_l(x), 0) w.r.t. every input value, float64."""
    def loss(x: torch.Tensor) -> float:
        f = net(x, [layer])[layer]
        return float(feature_loss(f, torch.zeros_like(f)))

    grad = torch.zeros_like(x0)
    flat, gflat = x0.clone().view(-1), grad.view(-1)
    with torch.no_grad():
        for i in range(flat.numel()):
            v = float(flat[i])
            flat[i] = v + eps
            up = loss(flat.view_as(x0))
            flat[i] = v - eps
            down = loss(flat.view_as(x0))
            flat[i] = v
            gflat[i] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("layer", ["conv1_1", "pool1"])
def test_omega_matches_finite_difference_gradient(layer):
    net = _net64(["conv1_1", "conv1_2"])
    x0 = torch.rand(1, 3, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    fd = _fd_gradient(net, x0, layer)
    # the autograd gradient it is built from agrees with central differences, value by value
    x = x0.clone().requires_grad_(True)
    f = net(x, [layer])[layer]
    (g,) = torch.autograd.grad(feature_loss(f, torch.zeros_like(f)), x)
    torch.testing.assert_close(g, fd, rtol=1e-6, atol=1e-9 * float(fd.abs().max()))
    # eq. 4 (mean of absolute values, see weighting.py): ω = 1 / mean |∂L/∂x|
    omega = layer_factors(net, x0, [layer], "content")[layer]
    assert omega == pytest.approx(1.0 / float(fd.abs().mean()), rel=1e-6)


def test_factors_of_several_layers_match_single_calls():
    net = Net(NetSpec.random(0))
    x0 = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(6))
    both = layer_factors(net, x0, ["conv1_1", "pool1", "pool2"], "content")
    assert list(both) == ["conv1_1", "pool1", "pool2"]
    for name in both:
        single = layer_factors(net, x0, [name], "content")[name]
        assert both[name] == pytest.approx(single, rel=1e-5)
        assert both[name] > 0


def test_float32_factor_close_to_float64():
    x0 = torch.rand(1, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    w32 = layer_factors(Net(NetSpec.random(0)), x0.float(), ["pool1"], "content")["pool1"]
    w64 = layer_factors(_net64(["conv1_1", "conv1_2"]), x0, ["pool1"], "content")["pool1"]
    assert w32 == pytest.approx(w64, rel=1e-4)


def test_factor_does_not_touch_input_or_weights():
    net = Net(NetSpec.random(0))
    x0 = torch.rand(1, 3, 16, 16)
    before = x0.clone()
    layer_factors(net, x0, ["pool1"], "content")
    assert torch.equal(x0, before) and x0.grad is None and not x0.requires_grad
    assert not net.layer_weights("conv1_1")[0].requires_grad


def test_degenerate_gradient_raises():
    net = Net(NetSpec.random(0))
    for name in ["conv1_1", "conv1_2"]:
        w, b = net.layer_weights(name)
        net.set_weights(name, torch.zeros_like(w), b)
    with pytest.raises(ValueError, match="zero or non-finite"):
        layer_factors(net, torch.rand(1, 3, 8, 8), ["pool1"], "content")


def test_bad_kind():
    with pytest.raises(ValueError, match="content"):
        layer_factors(Net(NetSpec.random(0)), torch.rand(1, 3, 8, 8), ["conv1_1"], "style")
