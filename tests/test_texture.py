"""Texture synthesis (issue 5): Gram and eq. 6 by hand, µ_l (eq. 8) by finite differences, the
loop, output sizes, the CLI end to end, and the Figure 5 / quality experiments at a tiny size."""
import json
import math

import pytest
import torch
from PIL import Image

from ranvis.cli.commands import main
from ranvis.errors import InputError
from ranvis.io.images import sample
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.objectives.losses import feature_distance, feature_loss, gram, gram_distance, gram_loss
from ranvis.objectives.terms import Term, gram_target
from ranvis.objectives.weighting import layer_factors
from ranvis.tasks import synthesize_texture

LAYERS = ["conv1_1", "conv2_1"]


@pytest.fixture(scope="module")
def brick32() -> torch.Tensor:
    return sample("brick", (32, 32))


def test_gram_by_hand():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)  # C=2 maps, M=2 positions
    want = torch.tensor([[[5.0, 11.0], [11.0, 25.0]]])
    assert torch.equal(gram(f), want)
    assert torch.equal(gram(f.contiguous(memory_format=torch.channels_last)), want)
    # eq. 6: ‖G − G0‖² / (4 N² M²) with N = M = 2: (25 + 121 + 121 + 625) / 64
    assert gram_loss(gram(f), torch.zeros(1, 2, 2), 2, 2).item() == pytest.approx(892 / 64)
    g0 = torch.tensor([[[4.0, 11.0], [11.0, 22.0]]])  # differences 1 and 3: (1 + 9) / 64
    assert gram_loss(gram(f), g0, 2, 2).item() == pytest.approx(10 / 64)


@pytest.mark.parametrize("batch", [1, 2])
def test_gram_gradients(batch):
    """The one-matmul backward (losses._Gram) against finite differences, first and second order,
    for one image and a batch; and the batch equals its images done one at a time."""
    g = torch.Generator().manual_seed(1)
    f = torch.randn(batch, 3, 4, 5, dtype=torch.float64, generator=g).requires_grad_(True)
    assert torch.autograd.gradcheck(gram, (f,))
    assert torch.autograd.gradgradcheck(gram, (f,))
    assert torch.allclose(gram(f), torch.cat([gram(fi[None]) for fi in f]))


@pytest.mark.parametrize("batch", [(1, 1), (2, 2), (2, 1), (1, 2)])
def test_fused_distances_match_the_loss_functions(batch):
    """gram_distance and feature_distance (what Term.value runs) equal the unfused eq. 6 and
    eq. 1 expressions in value and gradient (finite differences, float64), in both memory
    layouts, for a non-symmetric target and targets with more or fewer images than F."""
    nf, nt = batch
    g = torch.Generator().manual_seed(2)
    f = torch.randn(nf, 3, 4, 5, dtype=torch.float64, generator=g).requires_grad_(True)
    t_gram = torch.randn(nt, 3, 3, dtype=torch.float64, generator=g)  # not symmetric
    t_feat = torch.randn(nt, 3, 4, 5, dtype=torch.float64, generator=g)
    c = 0.37

    def want_gram(x: torch.Tensor) -> torch.Tensor:
        return 4 * 9 * c * gram_loss(gram(x) / 20, t_gram, 3, 1)

    def want_feat(x: torch.Tensor) -> torch.Tensor:
        return 2 * 3 * 20 * c * feature_loss(x, t_feat)

    for fused, want, target in [(gram_distance, want_gram, t_gram),
                                (feature_distance, want_feat, t_feat)]:
        for x in (f, f.contiguous(memory_format=torch.channels_last)):
            got = fused(x, target, c)
            assert got.item() == pytest.approx(want(x).item(), rel=1e-12)
            (g1,) = torch.autograd.grad(got, f)
            (g2,) = torch.autograd.grad(want(x), f)
            assert torch.allclose(g1, g2, rtol=1e-10, atol=1e-12)
        assert torch.autograd.gradcheck(lambda x, fn=fused, t=target: fn(x, t, c), (f,))


def test_gram_term_is_eq6_at_equal_size_and_scale_free():
    g = torch.Generator().manual_seed(0)
    f, f0 = torch.randn(1, 5, 4, 3, generator=g), torch.randn(1, 5, 4, 3, generator=g)
    term = Term("t", "conv1_1", "gram", gram_target(f0))
    assert term.value(f).item() == pytest.approx(gram_loss(gram(f), gram(f0), 5, 12).item(),
                                                 rel=1e-5)
    # tiling the source twice changes M, not G/M: the loss against itself stays zero
    tiled = torch.cat([f0, f0], dim=3)
    assert term.value(tiled).item() == pytest.approx(0.0, abs=1e-9)


def _net64() -> Net:
    """The seed-0 random VGG-19 up to conv2_1, run in float64 (same weights, upcast)."""
    net = Net(NetSpec.random(0), channels_last=False)
    for name in ("conv1_1", "conv1_2", "conv2_1"):
        net.layer_weights(name)
    net._weights = {k: (w.double(), b.double()) for k, (w, b) in net._weights.items()}
    return net


def test_mu_matches_finite_differences():
    """µ_l = 1 / mean|∂E(x0, 0, l)/∂x| (eq. 8) against a central-difference gradient, float64."""
    net = _net64()
    x0 = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    mu = layer_factors(net, x0, LAYERS, "gram")
    for layer in LAYERS:
        def energy(x: torch.Tensor, layer: str = layer) -> torch.Tensor:
            f = net(x, [layer])[layer]
            return gram_loss(gram(f), torch.zeros(1, f.shape[1], f.shape[1], dtype=x.dtype),
                             f.shape[1], f.shape[2] * f.shape[3])

        assert torch.autograd.gradcheck(energy, (x0.clone().requires_grad_(True),), eps=1e-6,
                                        atol=1e-8, rtol=1e-5)
        eps, flat = 1e-6, x0.flatten()
        fd = torch.empty_like(flat)
        for i in range(flat.numel()):
            d = torch.zeros_like(flat)
            d[i] = eps
            fd[i] = (energy((flat + d).view_as(x0)) - energy((flat - d).view_as(x0))) / (2 * eps)
        assert mu[layer] == pytest.approx(1.0 / fd.abs().mean().item(), rel=1e-6)
    assert mu["conv2_1"] > mu["conv1_1"]  # deeper random layers push the input far less


def test_loss_falls_in_five_steps(brick32):
    run = synthesize_texture(brick32, LAYERS, iters=5, device="cpu")
    losses = run.record["loss"]
    assert len(losses) == 5 and losses[-1] < 0.5 * losses[0]
    assert set(run.record["factors"]) == set(LAYERS)
    assert all(math.isfinite(v) and v > 0 for v in run.record["factors"].values())
    assert set(run.record["metrics"]["gram_error"]) == set(LAYERS)


def test_equal_weights_and_string_layers(brick32):
    run = synthesize_texture(brick32, "conv1_1,conv2_1", iters=2, weights="equal", device="cpu")
    assert run.record["factors"] == {"conv1_1": 1.0, "conv2_1": 1.0}
    assert run.record["settings"]["layers"] == LAYERS


def test_non_square_output(brick32):
    run = synthesize_texture(brick32, LAYERS, out_size=(48, 32), iters=2, device="cpu")
    assert run.image.shape == (1, 3, 32, 48)
    assert run.record["settings"]["out_size"] == [48, 32]
    assert float(run.image.min()) >= 0 and float(run.image.max()) <= 1


def test_bad_arguments(brick32):
    with pytest.raises(InputError):
        synthesize_texture(brick32, LAYERS, weights="gatys", iters=1, device="cpu")
    with pytest.raises(InputError, match="too small"):
        synthesize_texture(brick32, ["conv4_1"], out_size=(4, 4), iters=1, device="cpu")


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "t.png"
    rc = main(["texture", "sample:brick", "--size", "32", "--iters", "3", "--layers",
               "conv1_1,conv2_1", "--out-size", "40x24", "--device", "cpu", "-o", str(out)])
    assert rc == 0
    with Image.open(out) as im:
        assert im.size == (40, 24)
    rec = json.loads(out.with_suffix(".json").read_text())
    assert rec["task"] == "texture" and rec["iterations"] == 3
    assert set(rec["factors"]) == set(LAYERS) and all(v > 0 for v in rec["factors"].values())
    assert rec["settings"]["out_size"] == [40, 24] and rec["settings"]["weights"] == "auto"
    assert (tmp_path / "t-loss.png").stat().st_size > 0


def test_cli_rejects_bad_layer(tmp_path, capsys):
    rc = main(["texture", "sample:brick", "--size", "32", "--layers", "conv9_1",
               "-o", str(tmp_path / "x.png")])
    assert rc == 2 and "unknown layer" in capsys.readouterr().err


def test_quality_distance_and_run(tmp_path):
    from ranvis.experiments import texture_quality as tq
    from ranvis.objectives.judges import gram_distances, judge_net

    judge = judge_net()
    src = tq.texture_source("coffee_wood", 32)
    assert src.shape == (1, 3, 32, 32)
    same = gram_distances(judge, src, src)
    assert all(v == 0.0 for v in same.values())
    assert judge.spec.pool == "max" and judge.spec.seeds != NetSpec.random(0).seeds
    g = torch.Generator().manual_seed(0)
    near = (src + 0.01 * torch.randn(src.shape, generator=g)).clamp(0, 1)
    far = tq.noise(32, 48, 0)  # another size: Ĝ = G/M compares any sizes
    assert gram_distances(judge, near, src)["mean"] < 0.1 < gram_distances(judge, far, src)["mean"]
    res = tq.run(tmp_path, size=16, iters=2, sources=["brick"], device="cpu")
    assert (tmp_path / res["figures"][0]).stat().st_size > 0
    d = res["numbers"]["distance"]["brick"]
    assert set(d) == {"noise", "equal", "auto", "auto_relu"}
    assert all(math.isfinite(v) and v > 0 for v in d.values())
    json.dumps(res)


def test_fig5_tiny(tmp_path):
    from ranvis.experiments import fig5

    res = fig5.run(tmp_path, size=16, iters=2, sources=["gravel"], device="cpu")
    assert res["figures"] == ["fig5.png"] and (tmp_path / "fig5.png").stat().st_size > 0
    assert set(res["numbers"]["distance"]["gravel"]) == set(fig5.rows())
    assert len(fig5.rows()) == 6 and res["settings"]["size"] == 16
    f = res["numbers"]["factors"]["gravel"]["≤conv5_1"]
    assert list(f) == ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    json.dumps(res)
