"""Tests for ranvis.optim.loop: the loop, one evaluation per iteration, callbacks, best image."""

import math

import pytest
import torch

from ranvis.io.images import sample
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.objectives.terms import Objective, Term
from ranvis.objectives.weighting import layer_factors
from ranvis.optim.loop import Step, optimize
from ranvis.tasks import noise


class Counted:
    """Wrap an objective and count its evaluations."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, x):
        self.calls += 1
        return self.fn(x)


def quadratic(target: torch.Tensor):
    def fn(x):
        q = (x - target).pow(2).sum()
        return q, {"q": q}
    return fn


def bumpy(target: torch.Tensor):
    """A smooth non-quadratic loss (L-BFGS does not land on its minimum exactly)."""
    def fn(x):
        q = (x - target).pow(2).sum() + 0.05 * torch.cos(7 * x).sum() + (x - target).pow(4).sum()
        return q, {"q": q}
    return fn


@pytest.fixture(scope="module")
def inversion_objective():
    """The pool1 inversion objective of a 32 px photo (eq. 1 with ω from eq. 4)."""
    net = Net(NetSpec.random(0))
    img = sample("astronaut", 32)
    with torch.no_grad():
        target = net(img, ["pool1"])["pool1"]
    omega = layer_factors(net, img, ["pool1"], "content")["pool1"]
    return Objective(net, [Term("pool1", "pool1", "content", target, omega)])


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_loss_falls_in_5_steps(inversion_objective, optimizer):
    res = optimize(inversion_objective, noise(32, 32, 0), 5, optimizer=optimizer)
    assert len(res.losses) == 5
    assert all(math.isfinite(v) for v in res.losses)
    assert res.losses[-1] < res.losses[0]
    assert min(res.losses[1:]) < res.losses[0]
    if optimizer == "adam":  # small fixed steps: every step lowers this loss
        assert all(b < a for a, b in zip(res.losses, res.losses[1:], strict=False))


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_one_iteration_is_one_evaluation(optimizer):
    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    obj = Counted(bumpy(target))
    res = optimize(obj, torch.full((1, 3, 6, 6), 0.5), 7, optimizer=optimizer)
    assert obj.calls == 7 == len(res.losses) == len(res.terms["q"])
    assert not res.interrupted and res.stopped == "completed"


def test_lbfgs_line_search_points_count_and_no_point_is_paid_twice():
    """Every evaluation (line-search trials included) is an iteration; the point a step's line
    search ended on, which the next step starts from, comes from the cache."""
    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(3))
    seen: list[torch.Tensor] = []

    def fn(x):
        seen.append(x.detach().clone())
        return bumpy(target)(x)

    res = optimize(fn, torch.full((1, 3, 6, 6), 0.5), 15)
    assert len(seen) == len(res.losses) == 15 and res.stopped == "completed"
    assert all(not torch.equal(a, b) for a, b in zip(seen, seen[1:], strict=False))


def test_exact_convergence_stops_instead_of_spinning():
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(4))
    obj = Counted(quadratic(target))
    res = optimize(obj, torch.full((1, 3, 4, 4), 0.5), 1000)
    assert res.stopped in ("converged", "completed") and obj.calls == len(res.losses) <= 1000
    assert res.losses[-1] < 1e-10


def test_lbfgs_converges_on_quadratic():
    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    res = optimize(quadratic(target), torch.full((1, 3, 6, 6), 0.5), 6)
    assert res.losses[-1] < 1e-8 * res.losses[0]
    torch.testing.assert_close(res.image, target, atol=1e-4, rtol=0)


def test_callbacks_receive_steps():
    target = torch.rand(1, 3, 5, 4, generator=torch.Generator().manual_seed(2))
    steps: list[Step] = []
    res = optimize(quadratic(target), torch.full((1, 3, 5, 4), 0.5), 4, optimizer="adam",
                   callbacks=[steps.append])
    assert [s.i for s in steps] == [0, 1, 2, 3]
    assert [s.loss for s in steps] == res.losses
    for s in steps:
        assert set(s.terms) == {"q"} and s.terms["q"] == pytest.approx(s.loss)
        assert isinstance(s.loss, float)
        assert s.image.shape == (1, 3, 5, 4) and not s.image.requires_grad
        assert float(s.image.min()) >= 0 and float(s.image.max()) <= 1
    # each step's image is where its loss was evaluated
    for s in steps:
        assert float((s.image - target).pow(2).sum()) == pytest.approx(s.loss, rel=1e-5)
    # steps hold their own copies, not a view of the moving variable
    assert not torch.equal(steps[0].image, steps[-1].image)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_returns_lowest_loss_image_in_range(optimizer):
    """Scripted losses 5, 3, 4, 1, 2 (+ a small term that moves x): the best is step 3."""
    script = iter([5.0, 3.0, 4.0, 1.0, 2.0])

    def fn(x):
        total = next(script) + 1e-3 * (x - 0.5).sum()
        return total, {"s": total}

    steps: list[Step] = []
    res = optimize(fn, torch.full((1, 3, 4, 4), 0.5), 5, optimizer=optimizer,
                   callbacks=[steps.append])
    best = min(range(5), key=lambda k: steps[k].loss)
    assert best == 3
    assert torch.equal(res.image, steps[3].image)
    assert not torch.equal(res.image, steps[4].image)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_image_clamped_when_optimum_outside_range(optimizer):
    target = torch.full((1, 3, 4, 4), 1.5)
    target[..., :2, :] = -0.5
    steps: list[Step] = []
    res = optimize(quadratic(target), torch.full((1, 3, 4, 4), 0.5), 8, optimizer=optimizer,
                   lr=0.1 if optimizer == "adam" else None, callbacks=[steps.append])
    assert float(res.image.min()) >= 0.0 and float(res.image.max()) <= 1.0
    for s in steps:
        assert float(s.image.min()) >= 0.0 and float(s.image.max()) <= 1.0


def test_keyboard_interrupt_returns_best_so_far():
    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(3))
    steps: list[Step] = []

    def stop_at_3(step: Step) -> None:
        steps.append(step)
        if step.i == 2:
            raise KeyboardInterrupt

    obj = Counted(quadratic(target))
    res = optimize(obj, torch.full((1, 3, 6, 6), 0.5), 50, optimizer="adam", callbacks=[stop_at_3])
    assert res.interrupted and res.stopped == "interrupted"
    assert obj.calls == 3 and len(res.losses) == 3
    best = min(steps, key=lambda s: s.loss)
    assert torch.equal(res.image, best.image)


def test_non_finite_loss_never_reaches_result():
    target = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(4))
    calls = {"n": 0}

    def fn(x):
        calls["n"] += 1
        q = (x - target).pow(2).sum()
        if calls["n"] == 3:
            q = q * float("nan")
        return q, {"q": q}

    res = optimize(fn, torch.full((1, 3, 4, 4), 0.5), 5, optimizer="adam")
    assert len(res.losses) == 5 and all(math.isfinite(v) for v in res.losses)
    assert len(res.faults) == 1 and torch.isfinite(res.image).all()


def test_bad_optimizer_name():
    with pytest.raises(ValueError, match="lbfgs"):
        optimize(quadratic(torch.zeros(1, 3, 2, 2)), torch.zeros(1, 3, 2, 2), 1, optimizer="sgd")


# -- the loop's pieces (optimize.EvalCache, BestSoFar, FaultGuard, Evaluation) ---------------

def test_loop_unchanged_by_its_decomposition():
    """Golden losses of an L-BFGS run with two injected faults, recorded before optimize() was
    split into named pieces: the same evaluations, restarts and convergence, value for value."""
    from ranvis.optim.loop import optimize as opt

    target = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    calls = [0]

    def objective(x):
        calls[0] += 1
        loss = (x - target).pow(2).sum()
        if calls[0] in (3, 7):
            loss = loss * float("nan")
        return loss, {"l2": loss}

    res = opt(objective, torch.zeros(1, 3, 8, 8), 15)
    golden = [60.413482666015625, 59.10924530029297, 59.10924530029297, 57.81923294067383,
              46.849586486816406, 46.849586486816406, 45.701904296875, 36.013179779052734,
              2.7852659414961956e-12, 0.0]
    assert res.losses == golden and res.stopped == "converged"
    assert [f.split(":")[0] for f in res.faults] == ["iteration 2", "iteration 5"]
    assert torch.equal(res.image, target.clamp(0, 1))


def test_eval_cache_best_so_far_and_fault_guard():
    from ranvis.optim.loop import BestSoFar, EvalCache, FaultGuard, Result

    cache = EvalCache(2)
    pts = [torch.full((2,), float(v)) for v in range(3)]
    for k, p in enumerate(pts):
        cache.store(p, torch.tensor(float(k)), p * 10, 7 + k)
    assert cache.lookup(pts[0]) is None  # only the last 2 are kept
    loss, grad, index = cache.lookup(pts[2].clone())
    assert float(loss) == 2.0 and torch.equal(grad, pts[2] * 10) and index == 9
    assert EvalCache(0).lookup(pts[0]) is None
    best = BestSoFar(torch.zeros(1))
    for v in (3.0, 1.0, 2.0):
        best.offer(torch.tensor([v]), v)
    assert best.loss == 1.0 and float(best.image) == 1.0
    res, guard = Result(torch.zeros(1), [], {}), FaultGuard(1)
    assert guard.stop(4, res) is False and res.stopped == "completed"
    assert guard.stop(9, res) is True and res.stopped == "numerical fault"
    assert res.faults[0].startswith("iteration 4") and "stopped" in res.faults[1]


def test_accepted_steps_are_where_each_step_starts():
    """Result.accepted lists the evaluations the iterate rested on: the start, then the point
    each line search chose, which is where the next step starts; the rest were trials."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(3))
    seen: list[torch.Tensor] = []
    starts: list[torch.Tensor] = []

    def fn(x):
        seen.append(x.detach().clone())
        q = 50 * (x - target).pow(2).sum() + torch.cos(9 * x).sum()
        return q, {"q": q}

    hook = register_optimizer_step_pre_hook(
        lambda opt, a, k: starts.append(opt.param_groups[0]["params"][0].detach().clone()))
    try:
        res = optimize(fn, torch.full((1, 3, 6, 6), 0.5), 40)
    finally:
        hook.remove()
    acc = res.accepted
    assert acc[0] == 0 and acc == sorted(set(acc)) and acc[-1] < len(res.losses) <= 40
    assert len(acc) < len(res.losses)  # this loss makes L-BFGS try points it does not accept
    begun = [next(i for i, x in enumerate(seen) if torch.equal(x, s)) for s in starts]
    assert set(begun) <= set(acc) and len(acc) - len(begun) <= 1  # + the last step's choice
    assert all(res.losses[b] <= res.losses[a] for a, b in zip(acc, acc[1:], strict=False))
    adam = optimize(fn, torch.full((1, 3, 6, 6), 0.5), 10, optimizer="adam", lr=0.01)
    assert adam.accepted == list(range(10))
