"""The benchmark compares like with like: the naive reference (benchmarks/naive.py) and ranvis
compute the same loss, and the same gradient, on the same input, for all three tasks."""
import importlib.util
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    key = f"ranvis_bench_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, BENCH / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[key] = mod
        spec.loader.exec_module(mod)
    return sys.modules[key]


cases = _load("cases")


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("task,size", [("inversion", 32), ("texture", 48), ("style", 64)])
def test_same_loss_and_gradient(task: str, size: int) -> None:
    case = cases.build(task, size)
    x = (case.x0 + 0.05 * torch.randn(case.x0.shape, generator=torch.Generator().manual_seed(1))
         ).clamp(0, 1)
    xa = x.clone().requires_grad_(True)
    ours, parts = case.objective(xa)
    ours.backward()
    xb = x.clone().requires_grad_(True)
    ref = case.naive.loss(xb)
    ref.backward()
    assert float(ours.detach()) > 0
    assert float(ref.detach()) == pytest.approx(float(ours.detach()), rel=1e-5)
    torch.testing.assert_close(xb.grad, xa.grad, rtol=1e-4, atol=1e-6 * float(xa.grad.abs().max()))
    # the reference evaluates every term ranvis has (none is silently zero on either side)
    n_ref = len(case.naive.content_losses) + len(case.naive.style_losses) + bool(case.naive.tv_weight)
    assert n_ref == len(parts)


def test_reference_is_the_usual_implementation() -> None:
    """Full stack to pool5, NCHW, weights requiring grad, copied from ranvis's network."""
    case = cases.build("texture", 32)
    names = [n for n, _ in case.naive.model.named_children()]
    assert names[-1] == "pool5" and "conv5_4" in names
    params = list(case.naive.model.parameters())
    assert len(params) == 2 * 16 and all(p.requires_grad for p in params)
    conv = dict(case.naive.model.named_children())["conv3_2"]
    torch.testing.assert_close(conv.weight, case.net.layer_weights("conv3_2")[0], rtol=0, atol=0)


def test_tutorial_loop_spends_exactly_its_budget() -> None:
    case = cases.build("inversion", 32)
    runner = cases.naive.Runner(case.naive, case.x0)
    assert len(runner.run(3)) == 3
    losses = runner.run(22)  # crosses a 20-evaluation LBFGS step and carries on
    assert len(losses) == 25 and losses[-1] < losses[0]


def test_grouped_draws_compute_the_ensembles_loss_and_gradient() -> None:
    """benchmarks/draws_grouped.py times the same function two ways (issue 29, item 3)."""
    from ranvis.tasks.common import make_nets
    from ranvis.tasks.inversion import Priors, _objective

    grouped = _load("draws_grouped")
    img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    obj, _ = _objective(make_nets(3), img, ["pool3"], {}, Priors(), torch.float32)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1), requires_grad=True)
    ours = obj(x)[0]
    (g_ours,) = torch.autograd.grad(ours, x)
    for layout in (True, False):
        theirs = grouped.grouped_loss(obj, "pool3", layout)(x)
        (g_theirs,) = torch.autograd.grad(theirs, x)
        assert torch.allclose(theirs, ours, rtol=1e-5)
        assert torch.allclose(g_theirs, g_ours, rtol=1e-4, atol=1e-5 * g_ours.abs().max())
    # the draws differ, so a grouped pass pairing a draw's features with another's target
    # would not have matched
    w = [m.net.layer_weights("conv1_1")[0] for m in obj.members]
    assert not torch.equal(w[0], w[1])
