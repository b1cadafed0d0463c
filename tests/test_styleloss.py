"""Style losses on feature distributions (styleloss) and the texture-energy score (metrics)."""
from __future__ import annotations

import pytest
import torch

from ranvis.errors import InputError
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.objectives.metrics import band_energies, texture_energy_score
from ranvis.objectives.stylekinds import ATOMS, parse_style_loss
from ranvis.objectives.styleloss import blend_targets, fit_target, style_target, style_value
from ranvis.objectives.weighting import layer_factors

KINDS = [*ATOMS, "gram-softmax", "sw-softmax"]


def _feats(seed: int, c: int = 8, h: int = 6, w: int = 5) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, c, h, w, generator=g).relu() + 0.1 * seed


@pytest.mark.parametrize("kind", KINDS)
def test_each_loss_is_zero_on_its_own_distribution_and_positive_otherwise(kind: str) -> None:
    f, other = _feats(1), _feats(2)
    target = fit_target(kind, style_target(kind, f), 30)
    assert float(style_value(kind, f, target, 1.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(style_value(kind, other, target, 1.0)) > 1e-4


@pytest.mark.parametrize("kind", ["sw", "hist", "meanstd", "cov", "gram"])
def test_position_permutation_leaves_distribution_losses_unchanged(kind: str) -> None:
    f, other = _feats(1), _feats(3)
    perm = torch.randperm(30, generator=torch.Generator().manual_seed(0))
    shuffled = f.flatten(2)[..., perm].view_as(f)
    target = style_target(kind, other)
    a, b = style_value(kind, f, target, 1.0), style_value(kind, shuffled, target, 1.0)
    assert float(a) == pytest.approx(float(b), rel=1e-5)
    assert float(style_value(kind, shuffled, style_target(kind, f), 1.0)) == pytest.approx(
        0.0, abs=1e-6)


def test_sliced_wasserstein_matches_a_style_of_another_size_and_blends_quantiles() -> None:
    small, big = _feats(1, h=4, w=4), _feats(1, h=8, w=8)
    # the same values repeated four times: the same distribution, another number of positions
    big = small.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    t = fit_target("sw", style_target("sw", small), 64)
    other = _feats(5, h=8, w=8)
    # interpolated quantiles: near 0, not exactly (the repeated values' quantile steps blur)
    assert float(style_value("sw", big, t, 1.0)) < 0.05 * float(style_value("sw", other, t, 1.0))
    a, b = style_target("sw", _feats(1)), style_target("sw", _feats(2))
    mid = blend_targets("sw", [a, b], [1.0, 1.0])
    assert torch.equal(mid[0], a[0]) and torch.allclose(mid[1], (a[1] + b[1]) / 2)


def test_sliced_wasserstein_sorts_a_fixed_subset_of_a_large_tap(monkeypatch) -> None:
    from ranvis.objectives import styleloss

    monkeypatch.setattr(styleloss, "SW_POSITIONS", 100)
    f, other = _feats(1, h=16, w=16), _feats(8, h=16, w=16)  # 256 positions, 100 kept
    t = fit_target("sw", style_target("sw", f), 256)
    assert len(t) == 3 and t[1].shape[1] == 100 and len(t[2].unique()) == 100
    assert torch.equal(t[2], fit_target("sw", style_target("sw", other), 256)[2])  # seeded
    assert fit_target("sw", style_target("sw", f), 100)[1].shape[1] == 100  # ≤ cap: all
    # a subset's quantiles estimate the whole map's: near 0 for f itself, not exactly
    assert float(style_value("sw", f, t, 1.0)) < 0.05 * float(style_value("sw", other, t, 1.0))
    x = f.clone().requires_grad_(True)
    style_value("sw", x, fit_target("sw", style_target("sw", other), 256), 1.0).backward()
    moved = x.grad.flatten(2)[0].abs().sum(0) > 0  # only the kept positions get a gradient
    assert moved.sum() <= 100 and bool(moved[t[2]].all())


def test_sliced_wasserstein_direction_count_follows_the_fraction(monkeypatch) -> None:
    from ranvis.objectives import styleloss

    assert styleloss.directions(64).shape == (64, 64)
    monkeypatch.setattr(styleloss, "SW_DIRECTIONS", 0.25)
    assert styleloss.directions(64).shape == (64, 16)
    assert styleloss.directions(16).shape == (16, styleloss.SW_MIN_DIRECTIONS)
    assert torch.allclose(styleloss.directions(64).norm(dim=0), torch.ones(16))


def test_gradients_flow_and_the_hist_gradient_is_the_papers() -> None:
    f = _feats(1).requires_grad_(True)
    target = style_target("hist", _feats(2))
    style_value("hist", f, target, 1.0).backward()
    assert f.grad is not None and float(f.grad.abs().sum()) > 0


def test_parse_style_loss_accepts_combinations_and_refuses_unknown_names() -> None:
    assert parse_style_loss("cov+mean") == ("cov", "mean")
    assert parse_style_loss("gram-softmax") == ("gram-softmax",)
    for bad in ("gramm", "sw+sw", "gram+", "softmax"):
        with pytest.raises(InputError):
            parse_style_loss(bad)


@pytest.mark.parametrize("kind", ["sw", "meanstd", "cov", "mean", "hist", "gram-softmax"])
def test_automatic_factor_is_finite_for_every_loss(kind: str) -> None:
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    mu = layer_factors(Net(NetSpec.random(0)), x, ["conv1_1", "conv2_1"], kind)
    assert all(0 < v < float("inf") for v in mu.values())


def test_texture_energy_is_zero_for_the_style_and_one_for_the_photo() -> None:
    g = torch.Generator().manual_seed(0)
    style = torch.rand(1, 3, 32, 32, generator=g)  # fine grain everywhere
    ramp = torch.linspace(0.2, 0.8, 32)
    photo = (ramp.view(1, 1, 1, 32) * ramp.view(1, 1, 32, 1)).expand(1, 3, 32, 32)  # smooth
    assert texture_energy_score(style, style, photo) == pytest.approx(0.0, abs=1e-9)
    assert texture_energy_score(photo, style, photo) == pytest.approx(1.0)
    halfway = photo + 0.1 * (style - 0.5)
    assert 0.0 < texture_energy_score(halfway, style, photo) < 1.0
    assert len(band_energies(style)) == 3 and band_energies(torch.full((1, 3, 8, 8), 0.5))[0] > 0
