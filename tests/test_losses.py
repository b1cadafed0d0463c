"""Tests for ranvis.objectives.losses: feature_loss (eq. 1) and total_variation, by hand and by gradcheck."""

import pytest
import torch

from ranvis.objectives.losses import feature_loss, total_variation, tv_excess


def test_feature_loss_by_hand_one_map():
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # [1, 1, 2, 2]: N = 1, M = 4
    assert float(feature_loss(f, torch.zeros_like(f))) == pytest.approx(30 / 8)


def test_feature_loss_by_hand_two_maps():
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # [1, 2, 1, 2]: N = 2, M = 2
    t = torch.tensor([[[[0.0, 2.0]], [[1.0, 1.0]]]])
    # differences 1, 0, 2, 3 -> 14; 1/(2 N M) = 1/8
    assert float(feature_loss(f, t)) == pytest.approx(14 / 8)
    assert float(feature_loss(t, f)) == pytest.approx(14 / 8)
    assert float(feature_loss(f, f)) == 0.0


def test_feature_loss_by_hand_fc():
    f = torch.tensor([[1.0, 2.0, 3.0]])  # [1, 3]: N = 3, M = 1
    assert float(feature_loss(f, torch.zeros_like(f))) == pytest.approx(14 / 6)


def test_feature_loss_shape_and_scale():
    g = torch.Generator().manual_seed(0)
    f, t = torch.randn(1, 8, 5, 7, generator=g), torch.randn(1, 8, 5, 7, generator=g)
    loss = feature_loss(f, t)
    assert loss.dim() == 0
    assert float(loss) == pytest.approx(float(((f - t) ** 2).sum()) / (2 * 8 * 35), rel=1e-6)
    # channels-last layout gives the same value
    fc = f.contiguous(memory_format=torch.channels_last)
    assert float(feature_loss(fc, t)) == pytest.approx(float(loss), rel=1e-6)


def test_total_variation_constant_is_zero():
    assert float(total_variation(torch.full((1, 3, 9, 7), 0.37))) == 0.0


def test_total_variation_by_hand():
    x = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])  # [1, 1, 2, 2]
    # horizontal: (1-0)^2 + (4-2)^2 = 5; vertical: (2-0)^2 + (4-1)^2 = 13; / 4 elements
    assert float(total_variation(x)) == pytest.approx(18 / 4)
    # squared differences: scaling the image by 2 scales TV by 4
    assert float(total_variation(2 * x)) == pytest.approx(4 * 18 / 4)


def test_total_variation_two_channels_by_hand():
    x = torch.zeros(1, 2, 1, 3)
    x[0, 0, 0] = torch.tensor([0.0, 1.0, 3.0])  # dx: 1, 2 -> 5
    x[0, 1, 0] = torch.tensor([1.0, 1.0, 0.0])  # dx: 0, -1 -> 1
    assert float(total_variation(x)) == pytest.approx(6 / 6)


def test_gradcheck_feature_loss():
    g = torch.Generator().manual_seed(1)
    f = torch.randn(1, 3, 4, 5, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(1, 3, 4, 5, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(feature_loss, (f, t))
    v = torch.randn(2, 6, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(feature_loss, (v, torch.zeros(2, 6, dtype=torch.float64)))


def test_gradcheck_total_variation():
    x = torch.rand(1, 3, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(2),
                   requires_grad=True)
    assert torch.autograd.gradcheck(total_variation, (x,))


def test_tv_excess_is_free_below_the_level_and_tv_above_it():
    """losses.tv_excess: 0 (and no gradient) while TV ≤ level; TV − level, with TV's gradient,
    above it; level 0 is total_variation itself."""
    x = torch.rand(1, 3, 6, 5, dtype=torch.float64, requires_grad=True)
    tv = float(total_variation(x.detach()))
    assert float(tv_excess(x.detach(), 0.0)) == pytest.approx(tv)
    assert float(tv_excess(x.detach(), tv + 0.1)) == 0.0
    (g,) = torch.autograd.grad(tv_excess(x, tv + 0.1), x)
    assert float(g.abs().max()) == 0.0
    assert float(tv_excess(x.detach(), tv / 2)) == pytest.approx(tv / 2)
    (g_tv,) = torch.autograd.grad(total_variation(x), x)
    (g_ex,) = torch.autograd.grad(tv_excess(x, tv / 2), x)
    assert torch.allclose(g_tv, g_ex)
    assert torch.autograd.gradcheck(lambda y: tv_excess(y, tv / 2), (x,))


def test_fused_distances_stay_accurate_on_large_feature_maps():
    """A single float32 dot over millions of elements drifts by ~1e-5–1e-3 of the sum; the
    fused terms add partial dots in float64 (losses._sqnorm)."""
    from ranvis.objectives.losses import feature_distance

    g = torch.Generator().manual_seed(0)
    f = 1.0 + 3.0 * torch.randn(1, 16, 1024, 1024, generator=g)  # 16 M elements
    exact = float(f.double().square().sum())
    fused = float(feature_distance(f, torch.zeros(()), 1.0))
    assert abs(fused - exact) / exact < 5e-6  # one dot here: 7e-5 low on this machine
    small = f.view(-1)[: 1 << 20]
    assert torch.equal(feature_distance(small, torch.zeros(()), 1.0), torch.dot(small, small))
