"""Image priors, the ensemble objective, coarse-to-fine variables, plateau stopping, colours."""
from __future__ import annotations

import pytest
import torch

from ranvis.objectives.color import match_colors
from ranvis.objectives.losses import alpha_norm, tv_norm
from ranvis.objectives.terms import Ensemble, Objective, Term
from ranvis.optim.params import UpsampleParam
from ranvis.optim.stopping import Plateau
from ranvis.tasks import make_net
from ranvis.tasks.stages import coarse_to_fine


@pytest.mark.parametrize("beta", [2.0, 1.5])
def test_tv_norm_gradcheck(beta):
    x = torch.rand(1, 3, 5, 6, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: tv_norm(t, beta), (x,))


def test_alpha_norm_gradcheck():
    x = torch.rand(1, 3, 5, 6, dtype=torch.float64).mul(1.4).sub(0.2).requires_grad_(True)
    assert torch.autograd.gradcheck(alpha_norm, (x,))


def test_constant_image_has_zero_tv_and_tv_counts_each_edge():
    assert float(tv_norm(torch.full((1, 3, 8, 8), 0.3))) == 0.0
    x = torch.zeros(1, 1, 3, 3)
    x[..., 1, 1] = 1.0  # one bright pixel: (1,1)-(1,0) … four neighbour differences of 1
    assert float(tv_norm(x)) == pytest.approx(1 + 1 + 2)  # at (0,1): dy; (1,0): dx; (1,1): dx²+dy²


def test_alpha_norm_is_at_most_one_per_value_inside_the_range():
    assert float(alpha_norm(torch.full((1, 3, 4, 4), 0.5))) == 0.0
    assert float(alpha_norm(torch.ones(1, 3, 4, 4))) == pytest.approx(48.0)
    assert float(alpha_norm(torch.full((1, 1, 1, 1), 1.5))) == pytest.approx(2.0**6)


def test_ensemble_is_the_mean_of_its_members():
    x = torch.rand(1, 3, 16, 16)
    members = []
    for seed in (0, 1):
        net = make_net(net_seed=seed)
        with torch.no_grad():
            t = net(torch.rand(1, 3, 16, 16), ["conv2_1"])["conv2_1"]
        members.append(Objective(net, [Term("conv2_1", "conv2_1", "content", t, 2.0)]))
    total, parts = Ensemble(members)(x)
    singles = [float(m(x)[0]) for m in members]
    assert float(total) == pytest.approx(sum(singles) / 2, rel=1e-5)
    assert sorted(parts) == ["conv2_1#0", "conv2_1#1"]


def test_upsample_param_round_trips_a_coarse_image():
    p = UpsampleParam((4, 5), (16, 20))
    z = torch.randn(1, 3, 4, 5) * 0.1
    img = p.to_image(z)
    assert img.shape == (1, 3, 16, 20)
    back = p.from_image(img)
    assert back.shape == z.shape
    assert torch.allclose(back.mean(), z.mean(), atol=1e-6)  # area average keeps the mean


def test_coarse_to_fine_stages():
    stages = coarse_to_fine(128, 96, 400, 5)
    sizes = [s.param.coarse for s in stages[:-1]]
    assert sizes == [(8, 6), (16, 12), (32, 24), (64, 48)]
    assert [s.iters for s in stages] == [60, 60, 60, 60, 160]
    assert stages[-1].param == "fourier"
    assert len(coarse_to_fine(32, 32, 400, 5)) == 4  # 2 px is dropped
    assert [s.iters for s in coarse_to_fine(64, 64, 5, 5)] == [5]  # no budget for coarse levels


def test_plateau():
    p = Plateau(window=3, rel_tol=0.01)
    assert not p.flat([10, 9, 8])  # not enough history
    assert not p.flat([10, 9, 8, 7.5, 7.0, 6.0])  # still falling
    assert p.flat([10, 9, 8, 8.0, 7.99, 7.95])  # under 1 % in the last 3
    with pytest.raises(ValueError):
        Plateau(window=0)


def test_match_colors_moves_mean_and_covariance():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(1, 3, 32, 32, generator=g) * 0.5
    ref = torch.rand(1, 3, 16, 16, generator=g) * 0.2 + torch.tensor([0.6, 0.3, 0.1]).view(1, 3, 1, 1)
    out = match_colors(img, ref)
    assert torch.allclose(out.mean((2, 3)), ref.mean((2, 3)), atol=0.01)
    c_out, c_ref = torch.cov(out[0].reshape(3, -1)), torch.cov(ref[0].reshape(3, -1))
    assert torch.allclose(c_out, c_ref, atol=2e-3)
    grey = match_colors(img, torch.full((1, 3, 8, 8), 0.4))
    assert torch.allclose(grey, torch.full_like(grey, 0.4), atol=0.01)
