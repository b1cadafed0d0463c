"""Lockstep batching (tasks.lockstep): independent optimizations whose network passes run as one
batch give what each gives alone, within float tolerance (a batch's kernels round differently
from a single image's), with the same evaluations; one that stops or fails leaves the others
going; the networks have no batch coupling."""
from __future__ import annotations

import pytest
import torch
from timmtest import require_timm

from ranvis import tasks as T
from ranvis.io.images import sample
from ranvis.tasks.lockstep import BatchedNet, Lockstep

require_timm()

PHOTOS = ("astronaut", "coffee", "chelsea")


@pytest.fixture(scope="module")
def net() -> object:
    return T.make_net("random", arch="timm:test_resnet", net_seed=1, sigma=0.015, pool="avg",
                      weight_init="he")


@pytest.fixture(scope="module")
def photos() -> list[torch.Tensor]:
    return [sample(name, (32, 32)) for name in PHOTOS]


@pytest.mark.parametrize("arch", ["timm:test_resnet", "timm:test_efficientnet", "vgg11",
                                  "resnet18"])
def test_no_batch_coupling(arch: str, photos: list[torch.Tensor]) -> None:
    """Each image's features in a batch are its features alone (norms are eval-mode or
    per-sample)."""
    from ranvis.study.taps import stride_tap

    model = T.make_net("random", arch=arch, net_seed=0)
    tap = stride_tap(model.arch, 8, 32).taps[-1]
    batch = model(torch.cat(photos), [tap])[tap]
    for k, x in enumerate(photos):
        alone = model(x, [tap])[tap]
        torch.testing.assert_close(batch[k:k + 1], alone, rtol=1e-4, atol=1e-4 * alone.abs().max())


def test_batched_gradient_is_each_images_own(net: object, photos: list[torch.Tensor]) -> None:
    def grad(x: torch.Tensor, model: object, power: int) -> torch.Tensor:
        x = x.clone().requires_grad_(True)
        f = model(x, ["s4", "s8"])
        (f["s8"].square().sum() + f["s4"].abs().pow(power).mean()).backward()
        return x.grad

    lockstep = Lockstep()
    shared = BatchedNet(net, lockstep)
    got = lockstep.run([lambda x=x, k=k: grad(x, shared, k + 1) for k, x in enumerate(photos)])
    assert lockstep.passes == 1 and lockstep.images == 3
    for k, x in enumerate(photos):
        want = grad(x, net, k + 1)
        torch.testing.assert_close(got[k], want, rtol=1e-4, atol=1e-5 * want.abs().max())


def _invert(image: torch.Tensor, model: object, iters: int) -> object:
    return T.invert(image, ["s8"], net=model, iters=iters, preset="best", seed=0, device="cpu")


def test_batched_inversions_equal_unbatched(net: object, photos: list[torch.Tensor]) -> None:
    """Same evaluations, same accepted steps, same losses and images within float tolerance
    (10 evaluations: L-BFGS carries a rounding difference along and, over many evaluations,
    amplifies it as it would any other; benchmarks/README.md, "Lockstep groups")."""
    lockstep = Lockstep()
    shared = BatchedNet(net, lockstep)
    batched = lockstep.run([lambda x=x: _invert(x, shared, 10) for x in photos])
    for x, b in zip(photos, batched, strict=True):
        a = _invert(x, net, 10)
        assert len(b.record["loss"]) == len(a.record["loss"]) == 10
        assert b.record["accepted"] == a.record["accepted"]
        assert b.record["stopped"] == a.record["stopped"]
        assert b.record["loss"] == pytest.approx(a.record["loss"], rel=1e-3)
        # 1e-3 held on one thread (make test's workers); two threads split the kernels'
        # sums differently and one pixel in 3072 drifted 1.2e-3 over the 10 evaluations
        torch.testing.assert_close(b.image, a.image, rtol=0, atol=5e-3)
        assert b.record["metrics"]["psnr"] == pytest.approx(a.record["metrics"]["psnr"], abs=1e-2)
    assert lockstep.passes == 11  # the factors' pass, then one per evaluation, all batched
    again = Lockstep()
    shared = BatchedNet(net, again)
    rerun = again.run([lambda x=x: _invert(x, shared, 10) for x in photos])
    for b, c in zip(batched, rerun, strict=True):  # rows by place, not by wake-up: reproducible
        assert c.record["loss"] == b.record["loss"] and torch.equal(c.image, b.image)


def test_an_image_that_stops_leaves_and_a_failure_stays_its_own(
        net: object, photos: list[torch.Tensor]) -> None:
    calls = []

    def failing() -> object:
        def objective_fails(x: torch.Tensor) -> None:
            calls.append(1)
            raise ValueError("this cell fails")
        shared(photos[0].clone().requires_grad_(True), ["s8"])  # one batched pass, then fails
        objective_fails(photos[0])

    lockstep = Lockstep()
    shared = BatchedNet(net, lockstep)
    out = lockstep.run([lambda: _invert(photos[1], shared, 4), failing,
                        lambda: _invert(photos[2], shared, 9)])
    assert isinstance(out[1], ValueError) and calls == [1]
    for got, x, iters in ((out[0], photos[1], 4), (out[2], photos[2], 9)):
        want = _invert(x, net, iters)
        assert len(got.record["loss"]) == iters
        assert got.record["loss"] == pytest.approx(want.record["loss"], rel=1e-3)
    assert lockstep.images == 5 + 1 + 10  # each its own evaluations (and factors' pass)


def test_passes_without_gradient_go_straight_to_the_network(net: object,
                                                            photos: list[torch.Tensor]) -> None:
    lockstep = Lockstep()
    shared = BatchedNet(net, lockstep)
    with torch.no_grad():
        f = shared(photos[0], ["s8"])["s8"]
    assert torch.equal(f, net(photos[0], ["s8"])["s8"]) and lockstep.passes == 0
    assert shared.as_dtype(torch.float32) is shared and shared.arch is net.arch
    assert shared.spec == net.spec and shared.checksum() == net.checksum()
    with pytest.raises(RuntimeError, match="inside Lockstep.run"):
        shared(photos[0].clone().requires_grad_(True), ["s8"])
