"""The architecture registry and the zoo: taps, shapes from the meta pass, seeded weights, specs,
and one step of each task on every architecture (tiny images, 1-2 iterations)."""

import json

import pytest
import torch

from ranvis.errors import InputError
from ranvis.io.images import sample
from ranvis.nets import ARCH_NAMES, get_arch
from ranvis.nets.build import build_net
from ranvis.nets.draw import normal_weights
from ranvis.nets.spec import NetSpec
from ranvis.presets import deep_content_tap
from ranvis.tasks import invert, make_net, synthesize_texture, transfer_style

# The weight stream is the architecture's business only through the seeds: weighted layer i of
# NetSpec.random(0) has seed i, so every architecture's first two layers start like VGG-19's
# conv1_1 / conv1_2 (tests/test_network.py). The checksum (SHA-256 of the float32 bytes of the
# first two weighted layers, weights and biases) fixes shapes, order and the whole draw.
GOLDEN_SEED0 = [-0.0017666509374976158, 0.014136815443634987, 0.03771239519119263,
                0.003930427599698305]
GOLDEN_SEED1 = [0.016526751220226288, -0.00531668309122324, 0.02799909934401512,
                -0.009360868483781815]
CHECKSUM_2 = {"vgg11": "88ef939c28a8cd16", "vgg13": "18056e097c95ab48",
              "vgg16": "18056e097c95ab48", "vgg19": "18056e097c95ab48",
              "alexnet": "3e6d09834456633d", "resnet18": "4c71e59c788b2018",
              "resnet50": "9bc58459036f5c01", "convnext_tiny": "ba6a0d380c6f6723",
              "multiscale": "2c37fc4707752f26"}
WEIGHTED = {"vgg11": 11, "vgg13": 13, "vgg16": 16, "vgg19": 19, "alexnet": 8, "resnet18": 21,
            "resnet50": 54, "convnext_tiny": 59, "multiscale": 8}
SIDE = {"alexnet": 64}  # AlexNet's deepest presets need 63 px; the others run at 32 px


@pytest.fixture(scope="module", params=ARCH_NAMES)
def arch(request):
    return get_arch(request.param)


def test_registry_lists_every_architecture():
    assert set(ARCH_NAMES) == set(CHECKSUM_2)
    with pytest.raises(InputError) as e:
        get_arch("vgg20")
    msg = str(e.value)
    assert "\n" not in msg and all(n in msg for n in ARCH_NAMES)


def test_taps_presets_and_weighted_layers(arch):
    taps = arch.default_taps()
    assert taps and arch.check_taps(list(taps)) == list(taps)  # listed in forward order
    p = arch.presets
    for name in (p.content, *p.style, *p.texture, p.fourier_after, *p.invert, *p.judge):
        arch.tap(name)  # every preset is a known tap
    assert len(arch.weighted()) == WEIGHTED[arch.name]
    strides = [arch.tap(t).stride for t in taps if arch.tap(t).spatial]
    assert strides == sorted(strides) and strides[0] >= 1  # strides never shrink
    with pytest.raises(InputError) as e:
        arch.check_taps("no_such_layer")
    assert "no_such_layer" in str(e.value) and taps[0] in str(e.value)


def test_meta_shapes_equal_real_shapes_at_64px(arch):
    net = make_net(arch=arch.name)
    taps = [t for t in arch.default_taps() if arch.min_input(t) <= 64
            and not arch.needs_fixed_input([t])]
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = net(x, taps)
    layout = arch.layout()
    for t in taps:
        assert tuple(out[t].shape) == layout.out_shape(layout.resolve(t), 64, 64), t
        assert out[t].shape[1] == arch.tap(t).channels, t
        assert torch.isfinite(out[t]).all(), t


def test_golden_weights_seed0_and_he(arch):
    torch.manual_seed(123)  # must not matter
    net = make_net(arch=arch.name)
    first, second = arch.weighted()[:2]
    w0, b0 = net.layer_weights(first)
    assert torch.equal(w0.flatten()[:4], torch.tensor(GOLDEN_SEED0))
    assert torch.equal(net.layer_weights(second)[0].flatten()[:4], torch.tensor(GOLDEN_SEED1))
    assert not b0.any() and not w0.requires_grad
    assert net.checksum(second)[:16] == CHECKSUM_2[arch.name]
    he = make_net(arch=arch.name, weight_init="he")
    shape = arch.weight_shape(second)
    std = (2.0 / (shape[1] * (shape[2] * shape[3] if len(shape) == 4 else 1))) ** 0.5
    assert torch.equal(he.layer_weights(second)[0].flatten()[:4],
                       normal_weights(1, (4,), std))


def test_spec_round_trip(arch, tmp_path):
    spec = NetSpec.random(2, sigma=0.02, arch=arch.name, init="he")
    spec.seeds[arch.weighted()[-1]] = 987654321
    p = tmp_path / "net.json"
    spec.save(p)
    back = NetSpec.load(p)
    assert back == spec and json.loads(p.read_text())["format"] == 2
    assert back.to_dict()["arch"] == arch.name and back.init == "he"
    name = arch.weighted()[1]
    a, b = build_net(spec), build_net(back)
    assert torch.equal(a.layer_weights(name)[0], b.layer_weights(name)[0])


def test_one_step_of_each_task(arch):
    side = SIDE.get(arch.name, 32)
    img, style = sample("astronaut", (side, side)), sample("coffee", (side, side))
    p = arch.presets
    kw = {"arch": arch.name, "iters": 2, "device": "cpu"}
    inv = invert(img, p.invert[-1] if arch.min_input(p.invert[-1]) <= side else p.content, **kw)
    tex = synthesize_texture(img, **kw)
    sty = transfer_style(img, [style], **kw)
    for run in (inv, tex, sty):
        assert run.image.shape == img.shape and torch.isfinite(run.image).all()
        assert run.record["net"]["arch"] == arch.name
        assert run.record["settings"]["arch"] == arch.name
        assert all(v == v for v in run.record["loss"])  # no NaN
    assert tex.record["settings"]["layers"] == list(p.texture)
    strides = {t: arch.tap(t).stride for t in (*p.style, p.content)}
    assert sty.record["settings"]["content_layer"] == deep_content_tap(p.content, p.style, strides)


def test_format1_spec_loads_with_the_same_weights(tmp_path):
    old = {"format": 1, "arch": "vgg19", "sigma": 0.015, "pool": "avg",
           "seeds": NetSpec.random(0).seeds}
    p = tmp_path / "old.json"
    p.write_text(json.dumps(old))
    spec = NetSpec.load(p)
    assert spec.init == "paper" and spec.format == 2
    assert build_net(spec).checksum("conv1_2")[:16] == CHECKSUM_2["vgg19"]
    assert NetSpec.load("stacked").arch == "vgg19"  # the shipped stacked ranVGG is format 1
    with pytest.raises(InputError, match="VGG-19 only"):
        NetSpec.from_dict({**old, "arch": "resnet18"})


def test_pool_swap_and_batchnorm_identity():
    resnet = make_net(arch="resnet18")
    assert type(resnet.model.maxpool).__name__ == "AvgPool2d"
    assert type(resnet.model.bn1).__name__ == "Identity"
    assert type(make_net(arch="resnet18", pool="max").model.maxpool).__name__ == "MaxPool2d"
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = resnet(x, ["conv1", "bn1", "relu", "maxpool"])
    assert torch.equal(out["bn1"], out["conv1"])  # BatchNorm of an untrained net: identity
    torch.testing.assert_close(out["maxpool"], torch.nn.functional.avg_pool2d(
        out["relu"], 3, 2, 1, count_include_pad=False))
    with pytest.raises(InputError, match="no pooling"):
        NetSpec.random(0, arch="convnext_tiny", pool="max")


def test_arch_mismatch_with_spec_is_an_input_error():
    with pytest.raises(InputError, match="does not match"):
        invert(sample("astronaut", (32, 32)), "relu", arch="multiscale",
               net=NetSpec.random(0), iters=1, device="cpu")


def test_receptive_field_and_stride_by_hand():
    vgg = get_arch("vgg19")
    assert (vgg.tap("conv1_1").receptive_field, vgg.tap("conv1_2").receptive_field) == (3, 5)
    assert (vgg.tap("pool1").receptive_field, vgg.tap("pool1").stride) == (6, 2)
    assert vgg.tap("conv2_1").receptive_field == 10  # 6 + 2·2
    r18 = get_arch("resnet18")
    # conv1 7x7 s2 -> 7; maxpool 3x3 s2 at jump 2 -> 11, jump 4; two 3x3 convs at jump 4 -> 27
    assert (r18.tap("conv1").receptive_field, r18.tap("maxpool").receptive_field) == (7, 11)
    assert (r18.tap("layer1.0").receptive_field, r18.tap("layer1.0").stride) == (27, 4)
    assert r18.tap("fc").receptive_field is None and not r18.tap("fc").spatial
    ms = get_arch("multiscale")
    assert (ms.tap("relu").channels, ms.tap("relu").receptive_field) == (1024, 55)
    assert get_arch("alexnet").min_input("features.12") == 63


def test_trained_weights_of_a_zoo_architecture(tmp_path):
    """A local torchvision state dict (here: torchvision's own initialization, saved) loads into
    the right modules, keeps BatchNorm, and a state dict of another architecture is refused."""
    from ranvis.nets._torchvision import import_torchvision
    from ranvis.nets.trained import load_trained

    tv = import_torchvision()
    torch.manual_seed(0)
    sd = tv.models.resnet18(weights=None).state_dict()
    p = tmp_path / "r18.pth"
    torch.save(sd, p)
    net = load_trained(p, arch="resnet18")
    assert net.trained and type(net.model.bn1).__name__ == "BatchNorm2d"
    assert torch.equal(net.layer_weights("layer2.0.conv1")[0], sd["layer2.0.conv1.weight"])
    x = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        f = net(x, ["conv1"])["conv1"]
    expected = torch.nn.functional.conv2d(net.preprocess(x), sd["conv1.weight"], stride=2,
                                          padding=3)
    torch.testing.assert_close(f, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(InputError, match="not a torchvision resnet50"):
        load_trained(p, arch="resnet50")


def test_memory_footprint_from_the_meta_pass(monkeypatch):
    """The memory estimate's per-tap sizes are the real outputs' (resnet18 at 48x64 px), grow
    with the image, and a run too large for the memory left is refused naming a size."""
    from ranvis.platform.memory import check_memory, estimate_bytes

    arch = get_arch("resnet18")
    fp = arch.footprint(48, 64, ["layer1", "layer2"])
    with torch.no_grad():
        out = make_net(arch="resnet18")(torch.rand(1, 3, 48, 64), ["layer1", "layer2"])
    assert fp.per_tap == {n: out[n].numel() for n in out}
    assert fp.activations > sum(fp.per_tap.values()) and fp.params > 0
    small = estimate_bytes(64, 64, ["layer1"], gram_layers=["layer2"], arch="resnet18")
    assert small < estimate_bytes(128, 128, ["layer1"], gram_layers=["layer2"], arch="resnet18")
    monkeypatch.setenv("RANVIS_MEMORY_LIMIT", str(small))
    check_memory(64, 64, ["layer1"], gram_layers=["layer2"], arch="resnet18")  # fits exactly
    with pytest.raises(InputError, match="use --size 64 or less"):
        check_memory(256, 256, ["layer1"], gram_layers=["layer2"], arch="resnet18")
