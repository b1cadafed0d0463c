"""The ``ranvis`` subcommands' parsers, one function each (cli.commands attaches the commands;
study's parser lives with its grid flags, cli.studyflags).
Torch-free: ``ranvis --help`` answers at once. Defaults come from defaults.py and the task
functions' signatures, never repeated here.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ranvis import defaults as D
from ranvis import presets as P
from ranvis.cli.args import (
    add_arch,
    add_threads,
    arch_name,
    common,
    float_list,
    init_arg,
    non_negative,
    positive_float,
    positive_int,
    ratio3,
    seed_int,
    size_wh,
    style_loss_arg,
    subparser,
)
from ranvis.nets import ARCH_NAMES


def add_invert(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "invert", "reconstruct an image from one layer's features (eq. 1-4)", [
        "ranvis invert sample:chelsea --layer pool2 -o chelsea-pool2.png",
        "ranvis invert photo.jpg --layer pool4 --preset paper --size 128 -o photo-pool4.png"])
    s.add_argument("image", help="image file or sample:NAME")
    s.add_argument("--layer", required=True,
                   help="layer(s) to invert, e.g. pool2 or pool2,pool4; fc6-fc8 need --size 256")
    s.add_argument("--param", choices=["auto", "pixel", "fourier"], default=None,
                   help="the full-size variable: pixels (the paper) or Fourier coefficients "
                        "scaled by 1/sqrt(freq), a preconditioner with the same objective; auto: "
                        "pixels up to the architecture's fourier_after preset (VGG: pool2), "
                        "Fourier deeper (default: the preset's; best: auto, paper: pixel)")
    s.add_argument("--nets", type=positive_int, default=None, metavar="K",
                   help="match the features of K independent random draws at once (default: "
                        f"best: {P.invert_recipe('best', deep=True).nets} beyond pool2, else 1; "
                        "paper: 1)")
    s.add_argument("--levels", type=positive_int, default=None, metavar="L",
                   help="coarse-to-fine: L levels, the image at 1/2^(L-1) ... 1/2 of its side "
                        "upsampled, then full size (default: best: "
                        f"{P.invert_recipe('best', deep=True).levels} beyond pool2, else 1)")
    s.add_argument("--noise-std", type=non_negative, default=None, metavar="S",
                   help="std of the white-noise start (default: best "
                        f"{P.invert_recipe('best', deep=True).noise_std:g} beyond pool2, else "
                        f"{P.invert_recipe('paper', deep=True).noise_std:g})")
    s.add_argument("--level-plateau", action=argparse.BooleanOptionalAction, default=None,
                   help="end a coarse-to-fine level once its loss is flat (no 0.1 %% gain in "
                        "40 evaluations) instead of spending its whole share; the evaluations "
                        "it leaves are not spent (default: best: on beyond pool2; paper: "
                        "off)")
    s.add_argument("--tv-weight", type=non_negative, default=0.0, metavar="W",
                   help="total-variation prior (beta=2), relative to the normalized feature "
                        "terms; off in both presets (default: 0)")
    s.add_argument("--alpha-weight", type=non_negative, default=0.0, metavar="W",
                   help="alpha-norm prior (alpha=6, a soft [0,1] box); off in both presets "
                        "(default: 0)")
    deep = P.invert_recipe("best", deep=True)
    common(s, iters=f"{D.ITERS}; with --preset best beyond the architecture's fourier_after "
                    f"tap (VGG: pool2): {deep.iters}, at stride 32 (VGG: pool5) "
                    f"{P.invert_recipe('best', True, 32).iters}")
    return s


def add_texture(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "texture", "synthesize a texture by matching Gram matrices (eq. 5-8)", [
        "ranvis texture sample:gravel -o gravel.png",
        "ranvis texture bark.jpg --out-size 256x128 --iters 500 -o bark-wide.png"])
    s.add_argument("image", help="source texture file or sample:NAME")
    s.add_argument("--layers", default=None,
                   help="layers whose Gram matrices are matched (default: the architecture's "
                        "texture preset; VGG: conv1_1..conv4_1, the conv outputs before their "
                        "ReLU as the paper names them; reluK_1 is the rectified map)")
    s.add_argument("--out-size", type=size_wh, default=None, metavar="WxH",
                   help="output size, independent of the source (default: the source's)")
    s.add_argument("--weights", choices=["auto", "equal"], default="auto",
                   help="auto: per-layer factors mu_l (eq. 8, from the source); "
                        "equal: all 1 (Gatys et al.'s weighting, the ablation) (default: auto)")
    s.add_argument("--start", choices=["grey", "mean"], default=None,
                   help="centre of the white-noise start: grey 0.5 (paper) or the source's mean "
                        "colour (best) (default: the preset's)")
    _style_loss(s, "gram (eq. 5, both presets)")
    common(s, size=D.TEXTURE_SIZE)
    return s


def add_style(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "style", "transfer the style of STYLE onto CONTENT (eq. 9)", [
        "ranvis style sample:chelsea sample:hubble_deep_field -o chelsea-hubble.png",
        "ranvis style photo.jpg a.jpg b.jpg --style-weights 1,2 --preset paper -o out.jpg"])
    s.add_argument("content", help="content image file or sample:NAME")
    s.add_argument("styles", nargs="+", metavar="STYLE", help="one or more style images")
    s.add_argument("--content-layer", default=None,
                   help="layer whose features are matched (default: paper: the architecture's "
                        "content preset, VGG conv2_2 (paper §3); best: one scale deeper, VGG "
                        "conv3_1; `ranvis layers` lists the presets)")
    s.add_argument("--style-layers", default=None,
                   help="layers whose Gram matrices are matched (default: the architecture's "
                        "style preset; VGG: conv1_1..conv5_1)")
    s.add_argument("--ratio", type=ratio3, default=None, metavar="A:B:G",
                   help="alpha:beta:gamma = content:style:TV weights after the automatic "
                        "factors; 'paper' = 100:1:1000 (default: the preset's; best "
                        f"{':'.join(f'{v:g}' for v in P.style_recipe('best').ratio)}, alpha "
                        "then scaled by the style's contrast (3-200), gamma by its smoothness; "
                        "paper 100:1:1000)")
    for name, what in (("content", "content term alpha"), ("style", "style terms beta"),
                       ("tv", "TV term gamma")):
        s.add_argument(f"--{name}-weight", type=non_negative, default=1.0, metavar="W",
                       help=f"multiplies the {what} of the automatic balance (default: 1)")
    s.add_argument("--style-weights", type=float_list, default=None, metavar="W1,W2",
                   help="blend weights of several style images (default: equal)")
    s.add_argument("--style-scale", type=positive_float, default=1.0, metavar="F",
                   help="the style fitted to F x the output's size: a small seamless pattern "
                        "repeated at its own scale, any other image resized to that longer side "
                        "(default: 1)")
    s.add_argument("--init", type=init_arg, default=None, metavar="START",
                   help="noise (the paper's), content, style (the first) or image:PATH "
                        "(default: best: the colour-matched content plus noise; paper: noise)")
    s.add_argument("--color-match", action=argparse.BooleanOptionalAction, default=None,
                   help="give the content the style's colours first (default: best yes, "
                        "luminance by mean and std, chroma by covariance; paper no)")
    s.add_argument("--nets", type=positive_int, default=None, metavar="K",
                   help=f"random draws matched at once (default: best "
                        f"{P.style_recipe('best').nets}, paper {P.style_recipe('paper').nets})")
    s.add_argument("--original-colors", action="store_true",
                   help="keep the content's colours: transfer luminance only")
    s.add_argument("--scales", type=positive_int, default=None, metavar="K",
                   help="coarse-to-fine over K scales halving the size, each starting from the "
                        "upsampled result of the one before; --iters is split between them, "
                        "halving per finer scale (default: best: 2 from 512 px, 3 from 1024 px, "
                        "else 1; paper: 1)")
    _style_loss(s, f"best: {P.style_recipe('best').style_loss}; paper: gram (eq. 5)")
    common(s)
    return s


def _style_loss(s: argparse.ArgumentParser, default: str) -> None:
    s.add_argument("--style-loss", type=style_loss_arg, default=None, metavar="LOSS",
                   help="what the style terms match: gram (eq. 5), sw (sliced Wasserstein), "
                        "meanstd (channel means and stds), cov (centred Gram), mean, hist "
                        "(feature histograms); NAME-softmax on softmax-smoothed features; a+b "
                        f"for a term of each (default: {default})")


def add_demo(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "demo", "the gallery: inversion, texture and style transfer on bundled "
                "samples, with index.html (demo-sized: a few minutes on an idle 2-core CPU)", [
                    "ranvis demo -o gallery   # then open gallery/index.html",
                    "ranvis demo --size 64 --iters 50 -o quick-gallery"])
    s.add_argument("-o", "--output", type=Path, default=Path("gallery"),
                   help="output directory (default: %(default)s)")
    s.add_argument("--size", type=positive_int, default=D.DEMO_SIZE,
                   help="longer side of every input in px (default: %(default)s)")
    s.add_argument("--iters", type=positive_int, default=None,
                   help="iterations of every item (default: each item's own, shown on the page)")
    s.add_argument("--net", default="random",
                   help="random, stacked or a spec JSON from build-net (default: %(default)s)")
    s.add_argument("--device", default="auto", help="auto|cpu|cuda (default: auto)")
    add_threads(s)
    return s


def add_reproduce(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "reproduce", "regenerate every paper figure with its numbers: "
                "REPORT_DIR/index.html, results.json and the PNGs", [
                    "ranvis reproduce --quick -o report   # <= 10 min on 2 CPU cores",
                    "ranvis reproduce -o report-full      # the paper's sizes: hours on a CPU"])
    s.add_argument("-o", "--output", type=Path, required=True, metavar="REPORT_DIR",
                   help="directory for index.html, results.json and the figures")
    s.add_argument("--quick", action="store_true",
                   help="smaller images, fewer iterations and samples: <= 10 min on 2 CPU cores "
                        "(default: the paper's sizes, hours on a CPU)")
    s.add_argument("--trained-weights", type=Path, default=None, metavar="FILE",
                   help="a local torchvision VGG-19 state dict (.pth) to add the trained-VGG "
                        "rows; never downloaded")
    # expert overrides (tests use tiny values): image side and iterations for every figure
    s.add_argument("--size", type=positive_int, default=None, help=argparse.SUPPRESS)
    s.add_argument("--iters", type=positive_int, default=None, help=argparse.SUPPRESS)
    s.add_argument("--device", default="auto", help="auto|cpu|cuda (default: auto)")
    return s


def add_layers(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "layers", "list an architecture's layers (taps) with channels, stride, "
                "receptive field and the smallest input each needs", [
                    "ranvis layers", "ranvis layers --arch resnet18 --all"])
    s.add_argument("--arch", type=arch_name, default=None, metavar="ARCH",
                   help=f"one of {', '.join(ARCH_NAMES)}, or timm:NAME (default: {D.ARCH})")
    s.add_argument("--all", action="store_true",
                   help="every node the feature extractor knows, not only the readable list")
    return s


def add_build_net(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "build-net", "build a stacked random net (the paper's ranVGG): greedy "
                "layer-wise choice of random weights (paper section 2); writes a spec for --net", [
                    "ranvis build-net --reference sample:chelsea --layers conv --upto conv3_1 "
                    "-o mynet.json",
                    "ranvis invert sample:coffee --layer pool4 --net mynet.json -o coffee.png",
                    "ranvis build-net --reference sample:chelsea -o full.json   # every layer: "
                    "tens of minutes"])
    s.add_argument("--reference", required=True,
                   help=f"reference image file or sample:NAME (the shipped net: {D.STACK_REFERENCE})")
    s.add_argument("-o", "--output", required=True, type=Path,
                   help="spec JSON to write; an interrupted build resumes from "
                        "NAME.ranvis-cache.json beside it when rerun with the same arguments")
    s.add_argument("--candidates", type=positive_int, default=D.STACK_CANDIDATES, metavar="K",
                   help="random draws tried per layer (default: %(default)s)")
    s.add_argument("--size", type=positive_int, default=D.STACK_SIZE,
                   help="reference longer side in px; layers that need a fixed input (VGG's "
                        "fc6-fc8) use its central square at that size (default: %(default)s)")
    s.add_argument("--iters", type=positive_int, default=D.STACK_ITERS,
                   help="L-BFGS iterations per candidate reconstruction (default: %(default)s)")
    s.add_argument("--layers", choices=["all", "conv"], default=D.STACK_LAYERS,
                   help="all: every weighted layer (VGG: conv1_1..fc8); conv: the layers "
                        "with spatial outputs, fc layers plain (default: %(default)s)")
    s.add_argument("--upto", default=None, metavar="LAYER",
                   help="stop the search after this weighted layer (later layers plain)")
    s.add_argument("--seed", type=seed_int, default=0,
                   help="picks the family of candidate seeds and the noise start (default: 0)")
    s.add_argument("--device", default="cpu",
                   help="cpu|cuda|auto; the shipped net was built on cpu (default: cpu)")
    add_threads(s)
    add_arch(s)
    return s


def add_serve(sub: Any) -> argparse.ArgumentParser:
    s = subparser(sub, "serve", "a local web page to invert, synthesize textures and restyle, "
                "watching the picture form (needs pip install 'ranvis[serve]')", [
                    "ranvis serve                 # then open http://127.0.0.1:7860/",
                    "ranvis serve --port 8000"])
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; another than 127.0.0.1 lets other machines "
                        "use the page and this machine's CPU (default: %(default)s)")
    s.add_argument("--port", type=positive_int, default=7860, help="(default: %(default)s)")
    return s
