"""Zero-cost scores (study.zerocost) against values computed by hand on 2-layer nets."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ranvis.study.zerocost import codes, dihedral_batch, naswot_kernel, naswot_score, synflow


def _two_layer(w1: list[float], w2: list[float], relu_out: bool) -> nn.Module:
    c1, c2 = nn.Conv2d(1, 2, 1, bias=False), nn.Conv2d(2, 1, 1, bias=False)
    with torch.no_grad():
        c1.weight.copy_(torch.tensor(w1).view(2, 1, 1, 1))
        c2.weight.copy_(torch.tensor(w2).view(1, 2, 1, 1))
    return nn.Sequential(c1, nn.ReLU(), c2, *([nn.ReLU()] if relu_out else []))


def test_naswot_by_hand() -> None:
    # units: relu1 sees (x, -x), relu2 sees |x|. Inputs 1, -1, 0 give the codes
    # (1,0,1), (0,1,1), (0,0,0): N_A = 3, every Hamming distance 2, so K = [[3,1,1],[1,3,1],
    # [1,1,3]] and det K = 3·8 − 1·2 + 1·(−2) = 20.
    net = _two_layer([1.0, -1.0], [1.0, 1.0], relu_out=True)
    x = torch.tensor([1.0, -1.0, 0.0]).view(3, 1, 1, 1)
    c = codes(net, x)
    assert c.tolist() == [[1, 0, 1], [0, 1, 1], [0, 0, 0]]
    assert naswot_kernel(c).tolist() == [[3, 1, 1], [1, 3, 1], [1, 1, 3]]
    assert naswot_score(c) == pytest.approx(math.log(20))


def test_naswot_of_a_repeated_input_is_minus_infinity() -> None:
    net = _two_layer([1.0, -1.0], [1.0, 1.0], relu_out=True)
    assert naswot_score(codes(net, torch.tensor([1.0, 2.0]).view(2, 1, 1, 1))) == -math.inf


def test_synflow_by_hand() -> None:
    # |w1| = (1, 2), |w2| = (3, 0.5), x = 1: h = (1, 2), R = 3·1 + 0.5·2 = 4;
    # dR/dw1 = (3, 0.5) -> |w1 ⊙ g| = (3, 1); dR/dw2 = h = (1, 2) -> (3, 1); synflow = 8.
    net = _two_layer([1.0, -2.0], [3.0, -0.5], relu_out=False)
    before = [p.clone() for p in net.parameters()]
    assert synflow(net, lambda out: out, (1, 1, 1, 1)) == pytest.approx(math.log10(8))
    # a 2x2 input of ones: R and every gradient 4 times larger -> 32
    assert synflow(net, lambda out: out, (1, 1, 2, 2)) == pytest.approx(math.log10(32))
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_dihedral_batch() -> None:
    x = torch.arange(4.0).view(1, 1, 2, 2).expand(1, 3, 2, 2)
    b = dihedral_batch([x, x + 10])
    assert b.shape == (16, 3, 2, 2)
    assert len({tuple(v.flatten().tolist()) for v in b[:8]}) == 8


def test_params_and_flops_of_resnet18() -> None:
    from ranvis.nets import get_arch
    from ranvis.study.zerocost import classifier_size

    params, gflops = classifier_size(get_arch("resnet18"))
    # torchvision documents ResNet-18 as 11,689,512 parameters and 1.81 GFLOPS (multiply-adds)
    assert params == pytest.approx(11.689512)
    assert gflops / 2 == pytest.approx(1.81, abs=0.01)
