"""timm architectures as seeded random networks (nets.timmnet): build, taps by stride, the
BatchNorm rule, seeds-only specs, refusals, and the three tasks on a tiny model at 32 px."""
from __future__ import annotations

import json

import pytest
import torch
from timmtest import require_timm

from ranvis.errors import InputError
from ranvis.nets import get_arch
from ranvis.nets.build import build_net
from ranvis.nets.spec import NetSpec
from ranvis.tasks import invert, make_net, synthesize_texture, transfer_style

require_timm()

TINY = "timm:test_resnet"


def _img(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(1, 3, 32, 32, generator=g)


def test_taps_are_named_by_stride() -> None:
    arch = get_arch(TINY)
    assert [t.name for t in arch.nodes()] == [f"s{t.stride}" for t in arch.nodes()]
    assert [t.stride for t in arch.nodes()][:3] == [2, 4, 8]
    net = make_net(arch=TINY, net_seed=0, weight_init="he")
    feats = net(_img(0), ["s4", "s8"])
    assert feats["s4"].shape[-1] == 8 and feats["s8"].shape[-1] == 4
    assert feats["s8"].shape[1] == arch.tap("s8").channels


@pytest.mark.parametrize("init", ["paper", "he", "timm"])
def test_identical_on_every_build_and_spec_is_small(init: str) -> None:
    a = make_net(arch=TINY, net_seed=3, weight_init=init)
    b = make_net(arch=TINY, net_seed=3, weight_init=init)
    c = make_net(arch=TINY, net_seed=4, weight_init=init)
    x = _img(1)
    assert torch.equal(a(x, ["s8"])["s8"], b(x, ["s8"])["s8"])
    assert not torch.equal(a(x, ["s8"])["s8"], c(x, ["s8"])["s8"])
    text = json.dumps(a.spec.to_dict())
    assert len(text) < 1024 and '"seed": 3' in text
    back = NetSpec.from_dict(json.loads(text))
    assert back.seeds == a.spec.seeds
    assert a.checksum() == build_net(back).checksum()


def test_batchnorm_rule_and_norm_free_forward() -> None:
    net = make_net(arch=TINY, net_seed=0, weight_init="he")
    model = net.model(len(net.arch.nodes()) - 1)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert all(type(m) is not torch.nn.BatchNorm2d for m in bns)
    for m in bns:  # fused norm+activation: the identity before its activation
        assert m.eps == 0 and torch.all(m.running_var == 1) and torch.all(m.weight == 1)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(float(m.weight.abs().sum()) > 0 for m in convs)
    assert all(m.bias is None or float(m.bias.abs().sum()) == 0 for m in convs)


@pytest.mark.parametrize("name", ["timm:no_such_net", "timm:resnet18.a1_in1k",
                                  "timm:hf-hub:x/y", "timm:"])
def test_refused_names(name: str) -> None:
    with pytest.raises(InputError):
        get_arch(name)


def test_timm_init_is_for_timm_only() -> None:
    with pytest.raises(InputError, match="timm: architectures only"):
        NetSpec.random(0, arch="resnet18", init="timm")


def test_three_tasks_at_32px() -> None:
    img, style = _img(2), _img(3)
    inv = invert(img, "s8", arch=TINY, iters=3, weight_init="he", device="cpu")
    assert inv.image.shape == (1, 3, 32, 32) and torch.isfinite(inv.image).all()
    tex = synthesize_texture(img, ["s2", "s4"], arch=TINY, iters=3, weight_init="he",
                             device="cpu")
    assert tex.image.shape == (1, 3, 32, 32)
    sty = transfer_style(img, [style], arch=TINY, content_layer="s4",
                         style_layers=["s2", "s4"], iters=3, weight_init="he", device="cpu")
    assert sty.image.shape == (1, 3, 32, 32) and torch.isfinite(sty.image).all()
