"""Tests for VGG (ranvis.nets.vgg) and the spec: names, shapes, seeded weights, spec JSON, trained
loading, errors. The golden values are those of ranvis before the architecture registry."""

import json

import numpy as np
import pytest
import torch

from ranvis.errors import InputError
from ranvis.nets import base, get_arch, vgg, vgglayout
from ranvis.nets.draw import normal_weights
from ranvis.nets.spec import NetSpec
from ranvis.nets.trained import load_trained, net_from_state_dict
from ranvis.nets.vgg import Net

VGG19 = get_arch("vgg19")
LAYERS = list(vgglayout.layers_of("vgg19"))
LAYER_NAMES = [layer.name for layer in LAYERS]
WEIGHTED = VGG19.weighted()
check_layers, check_input_size = VGG19.check_taps, VGG19.check_input_size

EXPECTED_NAMES = (
    "conv1_1 relu1_1 conv1_2 relu1_2 pool1 "
    "conv2_1 relu2_1 conv2_2 relu2_2 pool2 "
    "conv3_1 relu3_1 conv3_2 relu3_2 conv3_3 relu3_3 conv3_4 relu3_4 pool3 "
    "conv4_1 relu4_1 conv4_2 relu4_2 conv4_3 relu4_3 conv4_4 relu4_4 pool4 "
    "conv5_1 relu5_1 conv5_2 relu5_2 conv5_3 relu5_3 conv5_4 relu5_4 pool5 "
    "fc6 relu6 fc7 relu7 fc8"
).split()
CONV_POOL = [n for n in EXPECTED_NAMES if not n.startswith(("fc", "relu6", "relu7"))]
# Output channels per block of VGG-19 (paper §2 uses the standard VGG-19).
BLOCK_WIDTH = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}

# Golden values (seed 0): normal_weights(0, (8,), 0.015), exact float32. Regenerate only on
# a deliberate change of the weight stream, which breaks every saved network spec.
GOLDEN_SEED0 = [
    -0.0017666509374976158, 0.014136815443634987, 0.03771239519119263, 0.003930427599698305,
    0.008231146261096, -0.005025888793170452, -0.001926728873513639, -0.014873120933771133,
]
GOLDEN_CONV1_2 = [0.016526751220226288, -0.00531668309122324, 0.02799909934401512,
                  -0.009360868483781815]


def expected_shape(name: str, size: int) -> tuple[int, ...]:
    """[1, C, h, w] of a conv/relu/pool layer for a size x size input, from the name alone."""
    if name.startswith("pool"):
        block = int(name[4])
        return (1, BLOCK_WIDTH[block], size >> block, size >> block)
    block = int(name[4])
    side = size >> (block - 1)
    return (1, BLOCK_WIDTH[block], side, side)


@pytest.fixture(scope="module")
def net0() -> Net:
    return Net(NetSpec.random(0))


def test_layer_names_exact():
    assert LAYER_NAMES == EXPECTED_NAMES
    assert WEIGHTED == [n for n in EXPECTED_NAMES if n.startswith(("conv", "fc"))]
    assert len([n for n in WEIGHTED if n.startswith("conv")]) == 16
    assert [layer.index for layer in LAYERS] == list(range(len(LAYERS)))


def test_fc_dimensions():
    fc = {layer.name: (layer.c_in, layer.c_out) for layer in LAYERS if layer.kind == "fc"}
    # paper §3: a 256x256 input makes pool5 8x8x512 = 32768 inputs of fc6
    assert fc == {"fc6": (512 * 8 * 8, 4096), "fc7": (4096, 4096), "fc8": (4096, 1000)}


@pytest.mark.parametrize("size", [32, 64])
def test_output_shapes_real_forward(net0, size):
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(size))
    with torch.no_grad():
        out = net0(x, CONV_POOL)
    assert list(out) == CONV_POOL
    for name in CONV_POOL:
        assert tuple(out[name].shape) == expected_shape(name, size), name
        assert torch.isfinite(out[name]).all()
        if name.startswith(("relu", "pool")):
            assert float(out[name].min()) >= 0.0  # ReLU (and avg pool of ReLU) is non-negative


def test_output_shapes_256_and_fc(monkeypatch):
    """All shapes at 256 px, fc layers included, on the meta device (no weights drawn)."""
    monkeypatch.setattr(vgg, "draw",
                        lambda seed, shape, init, sigma: torch.empty(shape, device="meta"))
    net = Net(NetSpec.random(0), device="meta")
    out = net(torch.empty(1, 3, 256, 256, device="meta"), LAYER_NAMES)
    assert list(out) == LAYER_NAMES
    for name in CONV_POOL:
        assert tuple(out[name].shape) == expected_shape(name, 256), name
    assert tuple(out["pool5"].shape) == (1, 512, 8, 8)
    for name, width in [("fc6", 4096), ("relu6", 4096), ("fc7", 4096), ("relu7", 4096),
                        ("fc8", 1000)]:
        assert tuple(out[name].shape) == (1, width), name


def test_fc_forward_values():
    """fc6 -> relu6 -> fc7 -> relu7 -> fc8 computes linear maps of the flattened pool5, ReLU
    between (checked with small fake weights at the fc input size, 256 px)."""
    net = Net(NetSpec.random(0))  # its own: the fc weights planted here stay here
    g = torch.Generator().manual_seed(0)
    w6, w7, w8 = (torch.randn(4, 512 * 8 * 8, generator=g), torch.randn(3, 4, generator=g),
                  torch.randn(2, 3, generator=g))
    b6, b7, b8 = torch.randn(4, generator=g), torch.randn(3, generator=g), torch.randn(2, generator=g)
    for name, w, b in [("fc6", w6, b6), ("fc7", w7, b7), ("fc8", w8, b8)]:
        net.set_weights(name, w, b)
    x = torch.rand(1, 3, 256, 256, generator=g)
    with torch.no_grad():
        out = net(x, ["pool5", "fc6", "relu6", "fc7", "relu7", "fc8"])
    p5 = out["pool5"].flatten(1)
    fc6 = p5 @ w6.T + b6
    fc7 = fc6.relu() @ w7.T + b7
    fc8 = fc7.relu() @ w8.T + b8
    torch.testing.assert_close(out["fc6"], fc6)
    torch.testing.assert_close(out["relu6"], fc6.relu())
    torch.testing.assert_close(out["fc7"], fc7)
    torch.testing.assert_close(out["relu7"], fc7.relu())
    torch.testing.assert_close(out["fc8"], fc8)


def test_normal_weights_golden_and_independent_of_torch_rng():
    golden = torch.tensor(GOLDEN_SEED0, dtype=torch.float32)
    torch.manual_seed(1)
    a = normal_weights(0, (8,), 0.015)
    torch.manual_seed(12345)
    torch.rand(10)
    b = normal_weights(0, (8,), 0.015)
    assert a.dtype == torch.float32
    assert torch.equal(a, golden)
    assert torch.equal(b, golden)
    # the shape only lays the same stream out: (2, 4) is the (8,) stream reshaped
    assert torch.equal(normal_weights(0, (2, 4), 0.015).flatten(), golden)
    # sigma scales the stream
    torch.testing.assert_close(normal_weights(0, (8,), 1.0) * 0.015, golden)


def test_normal_weights_statistics():
    w = normal_weights(7, (200_000,), 0.015).double()
    assert abs(float(w.mean())) < 3 * 0.015 / np.sqrt(w.numel()) * 2
    assert float(w.std()) == pytest.approx(0.015, rel=0.01)
    assert float(w.abs().max()) < 6 * 0.015


def test_conv1_1_golden_seed0():
    torch.manual_seed(999)  # must not matter
    net = Net(NetSpec.random(0))
    w, b = net.layer_weights("conv1_1")
    assert tuple(w.shape) == (64, 3, 3, 3)
    assert torch.equal(w.flatten()[:8], torch.tensor(GOLDEN_SEED0))  # NetSpec.random(0): seed 0
    assert torch.equal(net.layer_weights("conv1_2")[0].flatten()[:4], torch.tensor(GOLDEN_CONV1_2))
    assert torch.equal(b, torch.zeros(64))  # paper §2: biases 0


def test_same_seeds_same_weights_other_seeds_differ():
    a, b, c = Net(NetSpec.random(0)), Net(NetSpec.random(0)), Net(NetSpec.random(1))
    for name in ["conv1_1", "conv1_2", "conv2_1"]:
        assert torch.equal(a.layer_weights(name)[0], b.layer_weights(name)[0])
        assert not torch.equal(a.layer_weights(name)[0], c.layer_weights(name)[0])
    assert a.checksum("conv2_1") == b.checksum("conv2_1") != c.checksum("conv2_1")
    # distinct layers of one network have distinct seeds
    assert len(set(NetSpec.random(0).seeds.values())) == len(WEIGHTED)
    # changing one layer's seed changes that layer only
    spec = NetSpec.random(0)
    spec.seeds["conv1_2"] = 777
    d = Net(spec)
    assert torch.equal(d.layer_weights("conv1_1")[0], a.layer_weights("conv1_1")[0])
    assert not torch.equal(d.layer_weights("conv1_2")[0], a.layer_weights("conv1_2")[0])
    assert torch.equal(d.layer_weights("conv1_2")[0].flatten(),
                       normal_weights(777, (64 * 64 * 9,), 0.015))


def test_sigma_in_spec_scales_weights():
    a, b = Net(NetSpec.random(0)), Net(NetSpec.random(0, sigma=0.03))
    torch.testing.assert_close(b.layer_weights("conv1_1")[0], 2 * a.layer_weights("conv1_1")[0])


def test_forward_stops_at_deepest_requested_layer():
    net = Net(NetSpec.random(0))
    x = torch.rand(1, 3, 16, 16)
    out = net(x, ["relu1_1", "conv2_1"])
    assert set(out) == {"relu1_1", "conv2_1"}
    assert set(net._weights) == {"conv1_1", "conv1_2", "conv2_1"}  # nothing deeper was drawn
    net(x, "pool2")
    assert set(net._weights) == {"conv1_1", "conv1_2", "conv2_1", "conv2_2"}


def test_weights_never_require_grad():
    net = Net(NetSpec.random(0))
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    f = net(x, ["pool1"])["pool1"]
    f.sum().backward()
    assert x.grad is not None
    for name in ["conv1_1", "conv1_2"]:
        w, b = net.layer_weights(name)
        assert not w.requires_grad and not b.requires_grad and w.grad is None
    net.set_weights("conv1_1", torch.ones(64, 3, 3, 3, requires_grad=True), torch.zeros(64))
    assert not net.layer_weights("conv1_1")[0].requires_grad
    assert list(net.parameters()) == []


def test_channels_last_on_and_off_agree():
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    a = Net(NetSpec.random(0), "cpu", channels_last=True)
    b = Net(NetSpec.random(0), "cpu", channels_last=False)
    layers = ["conv1_1", "pool1", "conv2_2", "pool3"]
    with torch.no_grad():
        fa, fb = a(x, layers), b(x, layers)
    for name in layers:
        torch.testing.assert_close(fa[name], fb[name], rtol=1e-4, atol=1e-5 * float(fb[name].abs().max()))


def test_preprocessing_random_net():
    net = Net(NetSpec.random(0))
    x = torch.rand(1, 3, 4, 4)
    mean = torch.tensor(base.IMAGENET_MEAN).view(1, 3, 1, 1)
    torch.testing.assert_close(net.preprocess(x), (x - mean) * 255.0)


# -- spec JSON -----------------------------------------------------------------------------

def test_spec_round_trip_small_and_identical(tmp_path):
    spec = NetSpec.random(3, sigma=0.02, pool="max")
    spec.seeds["conv2_1"] = 123456789
    p = tmp_path / "net.json"
    spec.save(p)
    size = p.stat().st_size
    assert 100 < size < 1024  # "a few hundred bytes"
    loaded = NetSpec.load(p)
    assert loaded == spec
    assert loaded.to_dict() == spec.to_dict() == json.loads(p.read_text())
    a, b = Net(spec), Net(loaded)
    assert a.checksum("conv2_1") == b.checksum("conv2_1")
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(a(x, "pool2")["pool2"], b(x, "pool2")["pool2"])


def test_spec_pool_option_changes_forward():
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        avg = Net(NetSpec.random(0, pool="avg"))(x, "pool1")["pool1"]
        mx = Net(NetSpec.random(0, pool="max"))(x, "pool1")["pool1"]
        relu = Net(NetSpec.random(0))(x, "relu1_2")["relu1_2"]
    torch.testing.assert_close(avg, torch.nn.functional.avg_pool2d(relu, 2))
    torch.testing.assert_close(mx, torch.nn.functional.max_pool2d(relu, 2))


def _spec_dict() -> dict:
    return NetSpec.random(0).to_dict()


def _bad(**changes) -> dict:
    d = _spec_dict()
    d.update(changes)
    return d


BAD_SPECS = {
    "not json": "{not json",
    "json list": "[1, 2]",
    "no seeds": json.dumps({"format": 1, "sigma": 0.015}),
    "seeds not object": json.dumps(_bad(seeds=[1, 2, 3])),
    "missing layer seed": json.dumps(_bad(seeds={"conv1_1": 0})),
    "seed not a number": json.dumps(_bad(seeds={**_spec_dict()["seeds"], "conv1_1": "abc"})),
    "seed null": json.dumps(_bad(seeds={**_spec_dict()["seeds"], "fc8": None})),
    "negative sigma": json.dumps(_bad(sigma=-0.1)),
    "string sigma": json.dumps(_bad(sigma="big")),
    "bad pool": json.dumps(_bad(pool="min")),
    "bad arch": json.dumps(_bad(arch="resnet5")),
    "unknown format": json.dumps(_bad(format=3)),
    "no format": json.dumps({k: v for k, v in _spec_dict().items() if k != "format"}),
    "binary": b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_malformed_spec_gives_input_error(tmp_path, case):
    p = tmp_path / "spec.json"
    data = BAD_SPECS[case]
    p.write_bytes(data if isinstance(data, bytes) else data.encode())
    with pytest.raises(InputError) as e:
        NetSpec.load(p)
    msg = str(e.value)
    assert msg and "\n" not in msg
    if case == "unknown format":
        assert "formats 1, 2" in msg and "3" in msg


def test_spec_missing_file(tmp_path):
    with pytest.raises(InputError, match="not a file"):
        NetSpec.load(tmp_path / "nope.json")


# -- trained weights -----------------------------------------------------------------------

# torchvision's vgg19().features: conv at these positions, ReLU after each, max pools between.
TV_CONV_INDEX = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def _torchvision_state_dict(fc6_in: int = 512 * 7 * 7) -> dict[str, torch.Tensor]:
    """A state dict in torchvision's vgg19 layout; conv k has weights filled with k+1 and bias
    -(k+1), classifier tensors are allocated but only their first entry is set."""
    sd: dict[str, torch.Tensor] = {}
    convs = [layer for layer in LAYERS if layer.kind == "conv"]
    for k, (idx, layer) in enumerate(zip(TV_CONV_INDEX, convs, strict=True)):
        # expand: one stored element (tiny when saved); the loader copies it into place
        sd[f"features.{idx}.weight"] = torch.tensor(k + 1.0).expand(layer.c_out, layer.c_in, 3, 3)
        sd[f"features.{idx}.bias"] = torch.full((layer.c_out,), -(k + 1.0))
    for k, (idx, shape) in enumerate([(0, (4096, fc6_in)), (3, (4096, 4096)), (6, (1000, 4096))]):
        w = torch.empty(shape)  # large and never used in full: leave uninitialized
        w[0, 0] = 100.0 + k
        sd[f"classifier.{idx}.weight"] = w
        sd[f"classifier.{idx}.bias"] = torch.full((shape[0],), 200.0 + k)
    return sd


def test_trained_state_dict_lands_in_right_layers(tmp_path):
    sd = _torchvision_state_dict()
    net = net_from_state_dict(sd)
    assert net.trained
    convs = [n for n in WEIGHTED if n.startswith("conv")]
    for k, name in enumerate(convs):
        w, b = net.layer_weights(name)
        assert float(w[0, 0, 0, 0]) == k + 1.0 and float(w.std()) == 0.0, name
        assert float(b[0]) == -(k + 1.0), name
    for k, name in enumerate(["fc6", "fc7", "fc8"]):
        w, b = net.layer_weights(name)
        assert float(w[0, 0]) == 100.0 + k and float(b[0]) == 200.0 + k, name
    # preprocessing switches to torchvision's (x - mean) / std
    x = torch.rand(1, 3, 4, 4)
    mean = torch.tensor(base.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(base.IMAGENET_STD).view(1, 3, 1, 1)
    torch.testing.assert_close(net.preprocess(x), (x - mean) / std)
    # conv1_1 computes with those weights on that input
    with torch.no_grad():
        f = net(x, "conv1_1")["conv1_1"]
    expected = torch.nn.functional.conv2d((x - mean) / std, sd["features.0.weight"],
                                          sd["features.0.bias"], padding=1)
    torch.testing.assert_close(f, expected)


def test_trained_load_from_file_and_errors(tmp_path):
    sd = {k: v for k, v in _torchvision_state_dict().items() if k.startswith("features")}
    sd.update({"classifier.0.weight": torch.zeros(4096, 1)})
    p = tmp_path / "vgg.pth"
    torch.save(sd, p)
    with pytest.raises(InputError, match="classifier.0"):  # wrong fc6 input width
        load_trained(p)
    with pytest.raises(InputError, match="not a file"):
        load_trained(tmp_path / "missing.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(InputError, match="cannot read"):
        load_trained(tmp_path / "junk.pth")
    bad = _torchvision_state_dict()
    del bad["features.34.weight"]
    with pytest.raises(InputError, match="features.34"):
        net_from_state_dict(bad)
    bad = _torchvision_state_dict()
    bad["features.2.weight"] = torch.zeros(64, 3, 3, 3)
    with pytest.raises(InputError, match="features.2"):
        net_from_state_dict(bad)


# -- input errors ----------------------------------------------------------------------------

def test_unknown_layer_lists_valid_names():
    with pytest.raises(InputError) as e:
        check_layers("pool2,pool9")
    msg = str(e.value)
    assert "pool9" in msg and "\n" not in msg
    assert all(n in msg for n in EXPECTED_NAMES)
    with pytest.raises(InputError):
        check_layers("")
    assert check_layers("pool4, pool2,pool2") == ["pool2", "pool4"]


@pytest.mark.parametrize("layer,need", [("conv1_1", 1), ("pool1", 2), ("conv2_1", 2),
                                        ("pool2", 4), ("conv5_4", 16), ("pool5", 32)])
def test_too_small_image_names_the_limit(layer, need):
    check_input_size(need, need, [layer])
    if need > 1:
        with pytest.raises(InputError, match=f"at least {need} px") as e:
            check_input_size(need - 1, need + 10, ["conv1_1", layer])
        assert layer in str(e.value)


def test_too_small_image_in_forward():
    net = Net(NetSpec.random(0))
    with pytest.raises(InputError, match="at least 32 px"):
        net(torch.rand(1, 3, 31, 64), ["pool5"])
    assert net._weights == {}  # checked before any weight is drawn


@pytest.mark.parametrize("layer", ["fc6", "relu6", "fc7", "relu7", "fc8"])
@pytest.mark.parametrize("hw", [(32, 32), (224, 224), (256, 128), (512, 512)])
def test_fc_needs_256(layer, hw):
    with pytest.raises(InputError, match="256x256"):
        check_input_size(*hw, [layer])
    check_input_size(256, 256, [layer, "pool1"])


def test_fc_error_in_forward():
    net = Net(NetSpec.random(0))
    with pytest.raises(InputError, match="256"):
        net(torch.rand(1, 3, 64, 64), ["conv1_1", "fc7"])
    assert net._weights == {}
