"""Tests for the stacked ranVGG search (stacking.py), build-net and the Figure 3 experiment.

Builds are truncated (``upto``) to the first conv layers at 32 px with a few iterations.
"""
import json
import math
from dataclasses import replace

import pytest
import torch

from ranvis.cli.commands import main
from ranvis.errors import InputError
from ranvis.nets import get_arch
from ranvis.nets.build import build_net
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.tasks import stacking
from ranvis.tasks.stacking import BuildSettings, build, cache_path, candidate_seed, draw_weights

VGG19 = get_arch("vgg19")
WEIGHTED = VGG19.weighted()

TINY = BuildSettings("sample:chelsea", candidates=2, size=32, iters=4, layers="conv",
                     upto="conv1_2")


def _choices(spec: NetSpec) -> dict:
    """Everything a build decides (seeds, scores, checksums), without the timings."""
    layers = {n: {"chosen": r["chosen"], "scores": [c["score"] for c in r["candidates"]]}
              for n, r in spec.info["layers"].items()}
    return {"seeds": spec.seeds, "layers": layers, "checksum": spec.info["checksum"]}


def test_candidate_seeds_are_distinct_and_rectified_layers():
    seeds = {candidate_seed(s, i, k) for s in range(3) for i in range(len(WEIGHTED))
             for k in range(5)}
    assert len(seeds) == 3 * len(WEIGHTED) * 5
    plain = {v for s in range(10) for v in NetSpec.random(s).seeds.values()}
    assert not seeds & plain
    assert VGG19.representation("conv1_1") == "relu1_1"
    assert VGG19.representation("conv5_4") == "relu5_4"
    assert VGG19.representation("fc7") == "relu7"
    assert VGG19.representation("fc8") == "fc8"


def test_same_arguments_give_the_same_spec():
    a, b = build(TINY, progress=False), build(TINY, progress=False)
    assert _choices(a) == _choices(b)
    assert a.info["searched"] == ["conv1_1", "conv1_2"]
    # unsearched layers keep candidate 0 of their family; searched ones a recorded candidate
    assert a.seeds["conv2_1"] == candidate_seed(0, WEIGHTED.index("conv2_1"), 0)
    for name, rec in a.info["layers"].items():
        assert a.seeds[name] == rec["candidates"][rec["chosen"]]["seed"]
        assert rec["representation"] == VGG19.representation(name)
    other = build(replace(TINY, seed=1), progress=False)
    assert other.seeds["conv1_1"] != a.seeds["conv1_1"]


def test_planted_bad_candidates_are_never_chosen():
    draw = draw_weights(VGG19, TINY.init, TINY.sigma)

    def planted(name: str, k: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        w, b = draw(name, k, seed)
        if k == 0 and name == "conv1_1":  # every filter the same: one channel of information
            w = w[:1].expand_as(w).clone()
        if k == 0 and name == "conv1_2":  # all zero: the layer passes nothing on
            w = torch.zeros_like(w)
        return w, b

    spec = build(TINY, progress=False, weights=planted)
    for name in ("conv1_1", "conv1_2"):
        rec = spec.info["layers"][name]
        assert rec["chosen"] == 1, rec
        bad, good = rec["candidates"]
        assert bad["score"] > good["score"]
    assert math.isinf(spec.info["layers"]["conv1_2"]["candidates"][0]["score"])
    assert "gradient" in spec.info["layers"]["conv1_2"]["candidates"][0]["error"]


def test_resume_after_interruption_gives_the_uninterrupted_result(tmp_path, capsys):
    out = tmp_path / "net.json"
    whole = build(TINY, progress=False)

    class Stop(Exception):
        pass

    def stop_after_first(name: str, rec: dict) -> None:
        raise Stop(name)

    with pytest.raises(Stop):
        build(TINY, out, progress=False, on_layer=stop_after_first)
    assert cache_path(out).is_file() and not out.exists()
    cached = json.loads(cache_path(out).read_text())
    assert [r["layer"] for r in cached["layers"]] == ["conv1_1"]

    calls = []
    resumed = build(TINY, out, progress=False, on_layer=lambda n, r: calls.append(n))
    assert calls == ["conv1_2"]  # conv1_1 came from the cache
    assert "resuming" in capsys.readouterr().err
    assert _choices(resumed) == _choices(whole)
    assert not cache_path(out).exists()
    assert _choices(NetSpec.load(out)) == _choices(whole)


def test_ties_go_to_the_lowest_candidate():
    draw = draw_weights(VGG19, TINY.init, TINY.sigma)
    spec = build(TINY, progress=False, weights=lambda name, k, seed: draw(name, 0, 7))
    for rec in spec.info["layers"].values():
        assert rec["chosen"] == 0
        assert len({c["score"] for c in rec["candidates"]}) == 1


def test_ctrl_c_during_a_reconstruction_stops_the_build(tmp_path, monkeypatch):
    real = stacking.invert
    calls = []

    def interrupted_second_time(*args, callbacks=(), **kw):
        calls.append(1)

        def press_ctrl_c(step):
            if len(calls) == 3 and step.i == 1:  # during conv1_2's first candidate
                raise KeyboardInterrupt
        return real(*args, callbacks=[*callbacks, press_ctrl_c], **kw)

    monkeypatch.setattr(stacking, "invert", interrupted_second_time)
    out = tmp_path / "net.json"
    with pytest.raises(KeyboardInterrupt):
        build(TINY, out, progress=False)
    cached = json.loads(cache_path(out).read_text())
    assert [r["layer"] for r in cached["layers"]] == ["conv1_1"]


def test_cache_from_other_arguments_is_ignored(tmp_path, capsys):
    out = tmp_path / "net.json"
    cache_path(out).write_text(json.dumps({"key": {"other": 1}, "layers": [{"layer": "x"}]}))
    spec = build(replace(TINY, upto="conv1_1"), out, progress=False)
    assert "other arguments" in capsys.readouterr().err
    assert spec.info["searched"] == ["conv1_1"]


def test_bad_settings_are_input_errors():
    for bad in ({"layers": "fc"}, {"candidates": 0}, {"iters": 0}, {"seed": -1},
                {"upto": "fc6"}, {"upto": "pool1"}):
        with pytest.raises(InputError):
            build(replace(TINY, **bad), progress=False)
    with pytest.raises(InputError):  # too small for relu5_4
        build(replace(TINY, size=8, upto=None), progress=False)


def test_shipped_spec_loads_and_matches_its_checksum():
    spec = NetSpec.load("stacked")
    info = spec.info
    assert info["settings"]["reference"].startswith("sample:")
    assert Net(spec).checksum("conv5_4") == info["checksum"]["conv5_4"]
    for name, rec in info["layers"].items():
        assert len(rec["candidates"]) == info["settings"]["candidates"]
        assert spec.seeds[name] == rec["candidates"][rec["chosen"]]["seed"]
        scores = [c["score"] for c in rec["candidates"]]
        low = min(v for v in scores if isinstance(v, float))
        assert rec["chosen"] == min(k for k, v in enumerate(scores)
                                    if isinstance(v, float) and v <= low + info["tie_rmse"])


def test_shipped_spec_first_layers_rebuild_from_its_settings():
    info = NetSpec.load("stacked").info
    settings = BuildSettings(**{**info["settings"], "upto": "conv1_2"})
    again = build(settings, progress=False).info["layers"]
    for name in ("conv1_1", "conv1_2"):
        assert again[name]["seed"] == info["layers"][name]["seed"]
        for a, b in zip(again[name]["candidates"], info["layers"][name]["candidates"], strict=True):
            assert a["seed"] == b["seed"] and a["score"] == pytest.approx(b["score"], abs=1e-6)


def test_cli_build_net_end_to_end(tmp_path, capsys):
    out = tmp_path / "net.json"
    rc = main(["build-net", "--reference", "sample:chelsea", "--candidates", "2", "--size", "32",
               "--iters", "3", "--layers", "conv", "--upto", "conv1_1", "-o", str(out)])
    assert rc == 0
    spec = NetSpec.load(out)
    assert spec.info["searched"] == ["conv1_1"]
    assert spec.info["built_by"].startswith("ranvis build-net --reference sample:chelsea")
    assert Net(spec).checksum("conv1_1") == spec.info["checksum"]["conv1_1"]
    img = tmp_path / "inv.png"
    assert main(["invert", "sample:coffee", "--layer", "pool1", "--size", "32", "--iters", "2",
                 "--net", str(out), "-o", str(img), "--device", "cpu"]) == 0
    capsys.readouterr()
    for argv in (["--layers", "fc"], ["--upto", "fc6", "--layers", "conv"],
                 ["--candidates", "0"], ["--reference", str(tmp_path / "missing.png")]):
        base = ["build-net", "--reference", "sample:chelsea", "-o", str(tmp_path / "x.json")]
        assert main(base + argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("ranvis") and err.count("\n") == 1


def test_fig3_tiny_writes_png_and_numbers(tmp_path):
    from ranvis.experiments import fig3

    res = fig3.run(tmp_path, size=32, iters=2, images=("astronaut", "coffee"),
                   layers=("pool1", "pool2"), inits=(0,), plain_seeds=(1, 2),
                   stacked=["stacked", NetSpec.random(9)])
    assert (tmp_path / "fig3.png").stat().st_size > 0
    assert res["figures"] == ["fig3.png"]
    table = res["numbers"]["table"]
    assert set(table) == {"pool1", "pool2"}
    for layer in table:
        for g in ("stacked", "plain"):
            s = table[layer][g]["l2"]
            assert s["min"] <= s["q1"] <= s["median"] <= s["q3"] <= s["max"]
            assert math.isfinite(s["mean"]) and s["mean"] > 0
        assert 0 <= table[layer]["stacked_beats_plain"] <= 1
    assert table["pool1"]["plain"]["l2"]["n"] == 2 * 2  # images x nets x inits
    assert table["pool1"]["stacked"]["l2"]["n"] == 2 * 2
    assert table["pool1"]["stacked"]["l2_init_std"] == 0.0  # one start per image and net
    assert "| pool2 | plain |" in fig3.markdown(res)
    assert res["settings"]["stacked_reference_excluded"] == "sample:chelsea"
    json.dumps(res)
    assert res["verdict"]


@pytest.mark.parametrize("arch,upto", [("resnet18", "layer1.0.conv1"),
                                       ("convnext_tiny", "features.0.0")])
def test_build_on_another_architecture(arch, upto):
    """build-net on a torchvision architecture: weighted layers in forward order, each judged
    by its own node (or the leaf module holding it), the spec of that architecture."""
    s = replace(TINY, arch=arch, upto=upto, iters=2)
    spec = build(s, progress=False)
    a = get_arch(arch)
    names = a.weighted()[: a.weighted().index(upto) + 1]
    assert spec.arch == arch and spec.info["searched"] == names
    for i, name in enumerate(names):
        rec = spec.info["layers"][name]
        assert rec["representation"] == a.representation(name)
        assert spec.seeds[name] == candidate_seed(0, i, rec["chosen"])
    assert a.representation("features.0.0") == "features.0" if arch == "convnext_tiny" else True
    net = build_net(spec)
    assert torch.equal(net.layer_weights(names[0])[0],
                       draw_weights(a, "paper", s.sigma)(names[0], 0, spec.seeds[names[0]])[0])
