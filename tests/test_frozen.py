"""Lean (frozen) layers, the compute precision and the L-BFGS history cap (network, frozen, tasks)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ranvis.nets import frozen
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.nets.vgglayout import layers_of

LAYERS = layers_of("vgg19")


def _plain_forward(net: Net, x: torch.Tensor, upto: str) -> torch.Tensor:
    """The same network written with PyTorch's own layers (what frozen must agree with)."""
    h = net.preprocess(x)
    for layer in LAYERS:
        if layer.kind == "conv":
            h = F.conv2d(h, *net.layer_weights(layer.name), padding=1)
        elif layer.kind == "relu":
            h = F.relu(h)
        elif layer.kind == "pool":
            h = F.avg_pool2d(h, 2) if net.spec.pool == "avg" else F.max_pool2d(h, 2)
        if layer.name == upto:
            return h
    raise AssertionError(upto)


@pytest.mark.parametrize("shape", [(1, 3, 12, 12), (2, 5, 9, 7)])
def test_layers_match_autograd(shape):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g, dtype=torch.float64)
    w = torch.randn(4, shape[1], 3, 3, generator=g, dtype=torch.float64)
    b = torch.randn(4, generator=g, dtype=torch.float64)
    for ours, ref in ((lambda t: frozen.conv3x3(t, w, b), lambda t: F.conv2d(t, w, b, padding=1)),
                      (frozen.relu, F.relu),
                      (frozen.avg_pool2, lambda t: F.avg_pool2d(t, 2))):
        a = x.clone().requires_grad_(True)
        r = x.clone().requires_grad_(True)
        ya, yr = ours(a), ref(r)
        assert torch.equal(ya, yr)
        up = torch.randn(ya.shape, generator=g, dtype=torch.float64)
        (ya * up).sum().backward()
        (yr * up).sum().backward()
        torch.testing.assert_close(a.grad, r.grad, rtol=1e-12, atol=1e-12)


def test_conv_backward_is_differentiable():
    """gradcheck, including the second derivative (the backward is built from autograd ops)."""
    g = torch.Generator().manual_seed(1)
    w = torch.randn(3, 2, 3, 3, generator=g, dtype=torch.float64)
    b = torch.zeros(3, dtype=torch.float64)
    x = torch.randn(1, 2, 5, 6, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: frozen.conv3x3(t, w, b), (x,))
    assert torch.autograd.gradgradcheck(lambda t: frozen.conv3x3(t, w, b), (x,))
    assert torch.autograd.gradcheck(frozen.avg_pool2, (x,))


@pytest.mark.parametrize("pool", ["avg", "max"])
@pytest.mark.parametrize("lean", [True, False])
def test_net_features_and_input_gradient_match_plain_layers(pool, lean):
    net = Net(NetSpec.random(3, pool=pool), lean=lean)
    x = torch.rand(1, 3, 37, 35, generator=torch.Generator().manual_seed(2))
    ours = x.clone().requires_grad_(True)
    ref = x.clone().requires_grad_(True)
    fa = net(ours, ["conv3_1"])["conv3_1"]
    fr = _plain_forward(net, ref, "conv3_1")
    torch.testing.assert_close(fa, fr, rtol=1e-5, atol=1e-4)
    fa.square().sum().backward()
    fr.square().sum().backward()
    torch.testing.assert_close(ours.grad, ref.grad, rtol=1e-4, atol=1e-6 * ref.grad.abs().max())


def test_forward_keeps_masks_not_activations():
    """What autograd holds after a lean forward pass: bool masks, weights, the features."""
    net = Net(lean=True)
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    saved: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        net(x, ["pool3"])
    per_image = [t for t in saved if t.dim() == 4 and t.shape[0] == 1]
    assert per_image and all(t.dtype == torch.bool for t in per_image)


def test_bfloat16_net_returns_float32_close_to_float32():
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    f32 = Net()(x, ["conv2_1", "pool3"])
    bf = Net(dtype=torch.bfloat16, lean=True)(x.requires_grad_(True), ["conv2_1", "pool3"])
    for k in f32:
        assert bf[k].dtype == torch.float32
        rel = (bf[k] - f32[k]).norm() / f32[k].norm()
        assert rel < 0.03, (k, float(rel))
    bf["pool3"].sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.float32 and torch.isfinite(x.grad).all()


def test_bad_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype"):
        Net(dtype=torch.float16)


def test_lean_is_chosen_by_input_size(monkeypatch):
    from ranvis import defaults

    calls: list[str] = []
    monkeypatch.setattr(frozen, "relu", lambda t: calls.append("lean") or F.relu(t))
    monkeypatch.setattr(defaults, "LEAN_PIXELS", 20 * 20)
    net = Net()
    net(torch.rand(1, 3, 16, 16), ["relu1_1"])
    assert calls == []
    net(torch.rand(1, 3, 24, 24), ["relu1_1"])
    assert calls == ["lean"]


# -- precision and the L-BFGS history cap ------------------------------------------------------
def test_resolve_precision():
    """auto is float32 for every task; bf16 is offered, not chosen."""
    from ranvis.errors import InputError
    from ranvis.tasks import fast_bfloat16, resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision("auto") == torch.float32  # bf16 is opt-in
    assert resolve_precision("fp32") == torch.float32
    assert resolve_precision("bf16") == torch.bfloat16
    assert isinstance(fast_bfloat16(cpu), bool)
    with pytest.raises(InputError, match="precision"):
        resolve_precision("fp16")

def test_bf16_style_and_texture_run_and_say_so():
    from ranvis.tasks import synthesize_texture, transfer_style

    g = torch.Generator().manual_seed(5)
    c, s = torch.rand(1, 3, 32, 32, generator=g), torch.rand(1, 3, 32, 32, generator=g)
    run = transfer_style(c, [s], iters=3, device="cpu", precision="bf16",
                         style_layers=["conv1_1", "conv2_1"])
    assert run.record["settings"]["precision"] == "bf16"
    assert all(isinstance(v, float) for v in run.record["metrics"]["style_gram_error"].values())
    tex = synthesize_texture(s, ["conv1_1", "conv2_1"], iters=3, device="cpu", precision="fp32")
    assert tex.record["settings"]["precision"] == "fp32"
    assert tex.image.dtype == torch.float32 and torch.isfinite(tex.image).all()


def test_lbfgs_history_is_capped_by_memory_and_matches_the_estimate():
    from ranvis import defaults as D
    from ranvis.platform.memory import lbfgs_pairs
    from ranvis.platform.plan import MemoryPlan

    def lbfgs_history(n: int, wanted: int = D.LBFGS_HISTORY) -> int:  # what the loop keeps
        return MemoryPlan(history=wanted).lbfgs_pairs(n)

    for side in (8, 256, 1024, 1337, 1338, 2048, 8192):
        n = 3 * side * side
        assert lbfgs_history(n) == lbfgs_pairs(n)
        assert D.LBFGS_HISTORY_MIN <= lbfgs_history(n) <= D.LBFGS_HISTORY
        if lbfgs_history(n) > D.LBFGS_HISTORY_MIN:
            assert 2 * 4 * n * lbfgs_history(n) <= D.LBFGS_HISTORY_BYTES
    assert lbfgs_history(3 * 1337**2) == 100 and lbfgs_history(3 * 2048**2) == 42
    # a task asking for fewer pairs (style transfer) gets them, under the same cap
    assert lbfgs_history(3 * 256**2, 20) == lbfgs_pairs(3 * 256**2, 20) == 20
    assert lbfgs_history(3 * 8192**2, 20) == D.LBFGS_HISTORY_MIN


def test_style_keeps_its_own_lbfgs_history_in_the_record_and_the_estimate():
    from ranvis import defaults as D
    from ranvis.platform.memory import estimate_bytes
    from ranvis.tasks import synthesize_texture, transfer_style

    c = torch.rand(1, 3, 16, 16)
    run = transfer_style(c, [c], iters=2, device="cpu", style_layers=["conv1_1"])
    assert run.record["settings"]["lbfgs_history"] == D.STYLE_LBFGS_HISTORY
    tex = synthesize_texture(c, ["conv1_1"], iters=2, device="cpu")
    assert tex.record["settings"]["lbfgs_history"] == D.LBFGS_HISTORY
    full = estimate_bytes(512, 512, ["conv2_2"], gram_layers=["conv1_1"])
    short = estimate_bytes(512, 512, ["conv2_2"], gram_layers=["conv1_1"],
                           history=D.STYLE_LBFGS_HISTORY)
    assert full - short == 2 * (D.LBFGS_HISTORY - D.STYLE_LBFGS_HISTORY) * 3 * 512 * 512 * 4
