"""The zoo: one :class:`~ranvis.nets.arch.Arch` per architecture, with its presets.

Presets say which taps a task reads by default. VGG's are the paper's (§3): content conv2_2,
style conv1_1 … conv5_1, texture conv1_1 … conv4_1, and pixel-space inversion up to pool2
(tasks.auto_param has the measurements). The other architectures' are **our choice by analogy,
not measured**: style = one tap per scale from the first to stride 16, texture = those up to
stride 8, content = a shallow tap, ``fourier_after`` = the first tap at stride 4 (VGG's pool2),
``invert`` = one tap per stride (VGG's pool1 … pool5), ``judge`` = the rectified taps per scale.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from ranvis.nets import vgglayout as vgg
from ranvis.nets.arch import Arch, Layout, Presets
from ranvis.nets.graph import GraphLayout, torchvision_model

PAPER = "He, Wang, Hopcroft 2016, §3 (texture up to conv4_1; style conv1_1..conv5_1, content conv2_2)"
ANALOGY = "ranvis's choice by analogy with VGG-19's (nets.catalog docstring); not measured"


def _vgg_presets(name: str) -> Presets:
    """The paper's taps, named in any VGG: the first conv of each block (style, texture up to
    block 4), the last conv of block 2 (content), the pools (inversion)."""
    layers = vgg.layers_of(name)
    convs = [la.name for la in layers if la.kind == "conv"]
    firsts = tuple(n for n in convs if n.endswith("_1"))
    block2 = [n for n in convs if n.startswith("conv2_")]
    return Presets(content=block2[-1], style=firsts, texture=firsts[:4], fourier_after="pool2",
                   invert=("pool1", "pool2", "pool3", "pool4", "pool5"),
                   judge=tuple(n.replace("conv", "relu") for n in firsts),
                   deep=("conv5_1", "fc6", "fc7", "fc8"), source=PAPER)


def _vgg_arch(name: str) -> Arch:
    layout = lru_cache(maxsize=1)(lambda: vgg.VGGLayout(name))
    taps = tuple(la.name for la in vgg.layers_of(name))
    return Arch(name, "vgg", f"{name.upper()} (Simonyan & Zisserman 2015) as in the paper: 3x3 "
                "convs, 2x2 pools, fc6-fc8 at 256x256", layout, lambda: taps,
                _vgg_presets(name), fixed_input=vgg.FC_INPUT_SIZE)


def _graph_arch(name: str, make_model: Callable, description: str, taps: tuple[str, ...],
                presets: Presets, has_pool: bool) -> Arch:
    layout: Callable[[], Layout] = lru_cache(maxsize=1)(lambda: GraphLayout(make_model))
    return Arch(name, "graph", description, layout, lambda: taps, presets,
                has_pool=has_pool, extra={"make_model": make_model})


def _blocks(stage: str, n: int) -> tuple[str, ...]:
    return tuple(f"{stage}.{i}" for i in range(n))


def _resnet(name: str, blocks: tuple[int, int, int, int]) -> Arch:
    stages = tuple(t for k, n in enumerate(blocks, 1) for t in _blocks(f"layer{k}", n))
    presets = Presets(content="layer1", style=("conv1", "layer1", "layer2", "layer3"),
                      texture=("conv1", "layer1", "layer2"), fourier_after="maxpool",
                      invert=("relu", "layer1", "layer2", "layer3", "layer4"),
                      judge=("relu", "layer1", "layer2", "layer3", "layer4"), source=ANALOGY)
    return _graph_arch(name, torchvision_model(name), f"torchvision's {name} (He et al. "
                       "2016), BatchNorm as identity", ("conv1", "relu", "maxpool", *stages,
                                                        "avgpool", "fc"), presets, True)


def _alexnet() -> Arch:
    feats = tuple(f"features.{i}" for i in range(13))
    presets = Presets(content="features.3", style=("features.0", "features.3", "features.6",
                                                   "features.8", "features.10"),
                      texture=("features.0", "features.3"), fourier_after="features.0",
                      invert=("features.1", "features.2", "features.5", "features.12"),
                      judge=("features.1", "features.4", "features.7", "features.9",
                             "features.11"), source=ANALOGY)
    return _graph_arch("alexnet", torchvision_model("alexnet"), "torchvision's AlexNet "
                       "(Krizhevsky et al. 2012)", (*feats, "avgpool", "classifier.1",
                                                    "classifier.2", "classifier.4",
                                                    "classifier.5", "classifier.6"),
                       presets, True)


def _convnext() -> Arch:
    taps = ("features.0", *_blocks("features.1", 3), "features.2", *_blocks("features.3", 3),
            "features.4", *_blocks("features.5", 9), "features.6", *_blocks("features.7", 3),
            "avgpool", "classifier.2")
    stages = ("features.1", "features.3", "features.5", "features.7")
    presets = Presets(content="features.1", style=("features.0", *stages[:3]),
                      texture=("features.0", "features.1", "features.3"),
                      fourier_after="features.0", invert=stages, judge=stages, source=ANALOGY)
    return _graph_arch("convnext_tiny", torchvision_model("convnext_tiny"),
                       "torchvision's ConvNeXt-T (Liu et al. 2022), layer scale 1", taps,
                       presets, False)


def _multiscale() -> Arch:
    from ranvis.nets.multiscale import MultiScaleNet

    presets = Presets(content="relu", style=("relu",), texture=("relu",), fourier_after="relu",
                      invert=("relu",), judge=("relu",),
                      source="Ustyuzhaninov et al. 2017: Gram matrices of the rectified maps")
    return _graph_arch("multiscale", MultiScaleNet, "one conv layer, filters 3-55 px, 128 maps "
                       "each, ReLU (Ustyuzhaninov et al. 2017)", ("conv", "relu"), presets, False)


def _catalog() -> dict[str, Arch]:
    archs = {n: _vgg_arch(n) for n in vgg.CONFIGS}
    archs["alexnet"] = _alexnet()
    archs["resnet18"] = _resnet("resnet18", (2, 2, 2, 2))
    archs["resnet50"] = _resnet("resnet50", (3, 4, 6, 3))
    archs["convnext_tiny"] = _convnext()
    archs["multiscale"] = _multiscale()
    return archs


ARCHS: dict[str, Arch] = _catalog()
