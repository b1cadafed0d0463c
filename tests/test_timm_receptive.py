"""Receptive fields of timm stride taps (nets.timmlayout, nets.receptive): shown by `ranvis
layers`, equal to a hand count and to the measured gradient support, traced only when asked
for, and a failed trace reported in one line."""
from __future__ import annotations

import pytest
import torch
from timmtest import require_timm

from ranvis.cli import commands as cli
from ranvis.nets import get_arch
from ranvis.nets.arch import ReceptiveFieldUnknown

require_timm()
from ranvis.nets.timmlayout import TimmLayout  # noqa: E402

TINY = "timm:test_resnet"
# by hand, timm's test_resnet: stem 3x3/2, 3x3, 3x3 -> 3, 7, 11 (s2); maxpool 3/2 at jump 2
# +4 -> 15, then layer1's two 3x3 at jump 4 +8 each -> 31 (s4); layer2's 3x3/2 and 3x3 at
# jump 4 and 8 -> 39, 55 (s8; its shortcut's 2/2 average pool and 1x1 see 35)
BY_HAND = {"s2": 11, "s4": 31, "s8": 55}


def _rows(text: str) -> dict[str, list[str]]:
    return {r.split()[0]: r.split() for r in text.splitlines() if r[:1] == "s" and " px" in r}


def test_layers_shows_the_hand_counted_receptive_fields(capsys) -> None:
    assert cli.main(["layers", "--arch", TINY]) == 0
    rows = _rows(capsys.readouterr().out)
    for tap, rf in BY_HAND.items():
        assert rows[tap][3:5] == [str(rf), "px"], rows[tap]
    assert all(r[3] != "?" for r in rows.values())
    assert {t: get_arch(TINY).receptive_field(t) for t in BY_HAND} == BY_HAND  # the API's


def _gradient_support(tap: str, side: int) -> int:
    """Rows of a side x side input that the centre unit of ``tap`` depends on (measured)."""
    from ranvis.tasks import make_net

    net = make_net(arch=TINY, net_seed=0, weight_init="he")
    x = torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0),
                   requires_grad=True)
    f = net(x, [tap])[tap]
    f[0, :, f.shape[-2] // 2, f.shape[-1] // 2].sum().backward()
    rows = torch.nonzero(x.grad.abs().sum((0, 1, 3))).flatten()
    return int(rows.max() - rows.min() + 1)


def test_receptive_fields_equal_the_gradient_support() -> None:
    arch = get_arch(TINY)
    for tap in BY_HAND:
        assert _gradient_support(tap, 96) == arch.receptive_field(tap)


def test_never_traced_to_build_or_run_a_network(monkeypatch) -> None:
    from ranvis.nets.timmarch import timm_arch
    from ranvis.tasks import invert

    def refuse(self: TimmLayout) -> None:
        raise AssertionError("receptive fields traced for a task")

    monkeypatch.setattr(TimmLayout, "_traced", refuse)
    timm_arch.cache_clear()  # a fresh layout: none traced at build either
    arch = get_arch(TINY)
    assert arch.tap("s8").receptive_field is None  # the tap table itself carries none
    img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    run = invert(img, "s8", arch=TINY, iters=1, weight_init="he", device="cpu")
    assert torch.isfinite(run.image).all()


def test_a_failed_trace_is_one_line(capsys) -> None:
    name = "timm:test_vit"  # torch.fx refuses its control flow on tensor values
    with pytest.raises(ReceptiveFieldUnknown, match="torch.fx cannot trace"):
        get_arch(name).receptive_field("s16")
    assert cli.main(["layers", "--arch", name]) == 0
    out, err = capsys.readouterr()
    why = [line for line in out.splitlines() if line.startswith("receptive field ?:")]
    assert len(why) == 1 and "test_vit" in why[0] and "Traceback" not in out + err
    rows = [line.split() for line in out.splitlines() if line.startswith("s16")]
    assert rows and rows[0][3] == "?"


def test_the_walk_reads_functional_pools_and_conv_subclasses() -> None:
    """nets.receptive on a hand-made module: a functional 3/2 max pool between two convs, the
    second a Conv2d subclass that calls F.conv2d itself (as timm's standardized convs do)."""
    from torch import nn
    from torch.nn import functional as F

    from ranvis.nets.receptive import LeafTracer, trace_outputs

    class OwnConv(nn.Conv2d):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.conv2d(x, self.weight * 2, None, self.stride, self.padding)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Conv2d(3, 4, 3), OwnConv(4, 4, 5)

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            p = F.max_pool2d(self.a(x), 3, 2)
            return [p, self.b(p)]

    # conv 3 -> 3; pool 3/2 at jump 1 -> 5, jump 2; conv 5 at jump 2 -> 13
    assert trace_outputs(Net(), LeafTracer()) == [(5, 2), (13, 2)]


def test_a_hook_feature_model_reads_its_hooked_modules() -> None:
    """legacy_xception's taps are forward hooks (timm's FeatureHookNet), which a trace does not
    run. By hand: stem 3x3/2, 3x3 -> 3, 7 (s2); block1's two separable 3x3 at jump 2 and a
    3/2 max pool -> 11, 15, 19 (s4, read at block2's first module; the 1x1/2 shortcut sees 7)."""
    arch = get_arch("timm:legacy_xception")
    assert [arch.receptive_field(t) for t in ("s2", "s4")] == [7, 19]
