"""The ``ranvis`` command. ``main(argv) -> int`` returns the exit status: 0 done, 2 bad input
or usage, 3 stopped by a numerical fault, 130/143 interrupted by SIGINT/SIGTERM (runtime.py).

Every subcommand inherits from :func:`main` (runtime.guarded) the signal handling, the check
that every output location (``-o``, ``--checkpoint``) is writable before any work starts, and
the one-line error for any InputError; optimization subcommands built with :func:`_common` also
get ``--checkpoint``, and load images with ``_load`` (size and memory checks before resizing).
torch is imported only inside the subcommands, so ``ranvis --help`` answers at once. Defaults come
from the task functions' signatures (tasks.py) and defaults.py, never repeated here.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from ranvis import defaults as D
from ranvis._version import __version__
from ranvis.cliargs import (
    add_arch,
    arch_name,
    common,
    float_list,
    positive_float,
    positive_int,
    ratio3,
    seed_int,
    size_wh,
)
from ranvis.nets import ARCH_NAMES
from ranvis.runtime import (  # noqa: F401
    EXIT_FAULT,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    check_outputs,
    guarded,
)
from ranvis.runtime import callbacks as _callbacks
from ranvis.runtime import finish as _finish
from ranvis.runtime import load_image as _load
from ranvis.runtime import resume as _resume

EXIT_FIGURE_FAILED = 1  # reproduce: the report was written but a figure module failed (a bug)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _net_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    return {"net": a.net, "arch": a.arch, "net_seed": a.net_seed, "sigma": a.sigma,
            "pool": a.pool, "weight_init": a.weight_init, "iters": a.iters, "seed": a.seed,
            "optimizer": a.optimizer, "device": a.device, "precision": a.precision,
            "keep_freed": True}  # a one-run command keeps glibc's freed memory (heap.py)


def _arch(a: argparse.Namespace) -> Any:
    """The run's architecture: the spec's (``--net FILE``) or ``--arch``'s (default VGG-19)."""
    from ranvis.tasks import resolve_arch

    return resolve_arch(a.net, a.arch)


def cmd_invert(a: argparse.Namespace) -> int:
    from ranvis.tasks import invert

    arch = _arch(a)
    img = _load(a.image, a.size, arch.check_taps(a.layer), optimizer=a.optimizer, arch=arch.name)
    resume = _resume(a)
    cbs = _callbacks(a, f"invert {a.layer}", resume)
    run = invert(img, a.layer, callbacks=cbs, resume=resume, param=a.param, **_net_kwargs(a))
    return _finish(a, run, cbs, {"input": str(a.image), "net_arg": a.net,
                                 "size_arg": a.size, "save_every": a.save_every,
                                 "output": str(a.output), "device_arg": a.device})


def cmd_texture(a: argparse.Namespace) -> int:
    from ranvis.tasks import synthesize_texture

    arch = _arch(a)
    layers = arch.check_taps(a.layers or list(arch.presets.texture))
    src = _load(a.image, a.size, gram_layers=layers, arch=arch.name)
    resume = _resume(a)
    cbs = _callbacks(a, "texture", resume)
    run = synthesize_texture(src, layers, out_size=a.out_size, weights=a.weights,
                             callbacks=cbs, resume=resume, **_net_kwargs(a))
    return _finish(a, run, cbs, {"input": str(a.image), "net_arg": a.net})


def cmd_style(a: argparse.Namespace) -> int:
    from ranvis.tasks import transfer_style

    arch = _arch(a)
    style_layers = arch.check_taps(a.style_layers or list(arch.presets.style))
    content_layer = arch.check_taps([a.content_layer or arch.presets.content])[0]
    content = _load(a.content, a.size, [content_layer], style_layers, optimizer=a.optimizer,
                    arch=arch.name)
    # styles at --style-scale x the output's longer side (checked for memory first);
    # transfer_style resizes them again for each coarser scale
    side = max(1, round(max(content.shape[-2:]) * a.style_scale))
    styles = [_load(s, side, gram_layers=style_layers, fix="use a smaller --style-scale",
                    arch=arch.name) for s in a.styles]
    resume = _resume(a)
    cbs = _callbacks(a, "style", resume)
    run = transfer_style(content, styles, style_weights=a.style_weights,
                         content_layer=content_layer, style_layers=style_layers,
                         ratio=a.ratio, init=a.init, scales=a.scales, style_scale=a.style_scale,
                         original_colors=a.original_colors, callbacks=cbs, resume=resume,
                         **_net_kwargs(a))
    return _finish(a, run, cbs, {"content": str(a.content), "styles": [str(s) for s in a.styles],
                                 "net_arg": a.net})


def cmd_layers(a: argparse.Namespace) -> int:
    from ranvis.nets import get_arch
    from ranvis.nets.table import tap_table

    print(tap_table(get_arch(a.arch or D.ARCH), every=a.all))
    return EXIT_OK


def cmd_demo(a: argparse.Namespace) -> int:
    from ranvis import demo

    index = demo.run(a.output, size=a.size, iters=a.iters, net=a.net, device=a.device)
    print(f"wrote {index}", file=sys.stderr)
    return EXIT_OK


def cmd_reproduce(a: argparse.Namespace) -> int:
    from ranvis.experiments import report

    argv = ["ranvis", "reproduce"] + (["--quick"] if a.quick else [])
    argv += ["--trained-weights", str(a.trained_weights)] if a.trained_weights else []
    argv += [f"--size {a.size}"] if a.size else []
    argv += [f"--iters {a.iters}"] if a.iters else []
    argv += [f"--device {a.device}"] if a.device != "auto" else []
    index = report.reproduce(a.output, a.quick, a.trained_weights, a.size, iters=a.iters,
                             device=a.device, command=" ".join([*argv, "-o", str(a.output)]))
    bad = report.failed(index.with_name("results.json"))
    print(f"wrote {index}" + (f"; failed: {', '.join(bad)}" if bad else ""), file=sys.stderr)
    return EXIT_FIGURE_FAILED if bad else EXIT_OK


def cmd_build_net(a: argparse.Namespace) -> int:
    from ranvis.stacking import BuildSettings, build

    s = BuildSettings(reference=str(a.reference), candidates=a.candidates, size=a.size,
                      iters=a.iters, layers=a.layers, seed=a.seed, upto=a.upto,
                      arch=a.arch or D.ARCH, init=a.weight_init)
    command = ("ranvis build-net --reference " + s.reference +
               (f" --arch {s.arch}" if s.arch != D.ARCH else "") +
               (f" --weight-init {s.init}" if s.init != D.WEIGHT_INIT else "") +
               f" --candidates {s.candidates} --size {s.size} --iters {s.iters}"
               f" --layers {s.layers} --seed {s.seed}" + (f" --upto {s.upto}" if s.upto else ""))
    try:
        spec = build(s, a.output, device=a.device, command=command)
    except KeyboardInterrupt:
        from ranvis.stacking import cache_path

        print(f"ranvis: build interrupted; rerun the same command to resume from "
              f"{cache_path(a.output)}", file=sys.stderr)
        raise
    print(f"wrote {a.output} ({len(spec.info['searched'])} layers searched, "
          f"{spec.info['seconds']:.0f} s)", file=sys.stderr)
    return EXIT_OK


def _build_net_parser(sub: Any) -> None:
    s = sub.add_parser("build-net", help="build a stacked random net (the paper's ranVGG): "
                       "greedy layer-wise choice of random weights (paper section 2); writes a "
                       "spec for --net")
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
    add_arch(s)
    s.set_defaults(func=cmd_build_net)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ranvis", description="Deep visualization with untrained, random-weight "
                "VGG-19 networks (He, Wang, Hopcroft, NIPS 2016). Images may be files or "
                "bundled samples written sample:NAME (astronaut, coffee, chelsea, brick, ...).")
    p.add_argument("--version", action="version", version=f"ranvis {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = sub.add_parser("invert", help="reconstruct an image from one layer's features (eq. 1-4)")
    s.add_argument("image", help="image file or sample:NAME")
    s.add_argument("--layer", required=True,
                   help="layer(s) to invert, e.g. pool2 or pool2,pool4; fc6-fc8 need --size 256")
    s.add_argument("--param", choices=["auto", "pixel", "fourier"], default=D.INVERT_PARAM,
                   help="optimize pixels (the paper) or Fourier coefficients scaled by "
                        "1/sqrt(freq), a preconditioner with the same objective; auto: pixels "
                        "up to pool2, Fourier deeper (default: %(default)s)")
    common(s)
    s.set_defaults(func=cmd_invert)

    s = sub.add_parser("texture", help="synthesize a texture by matching Gram matrices (eq. 5-8)")
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
    common(s, size=D.TEXTURE_SIZE)
    s.set_defaults(func=cmd_texture)

    s = sub.add_parser("style", help="transfer the style of STYLE onto CONTENT (eq. 9)")
    s.add_argument("content", help="content image file or sample:NAME")
    s.add_argument("styles", nargs="+", metavar="STYLE", help="one or more style images")
    s.add_argument("--content-layer", default=None,
                   help="layer whose features are matched (default: the architecture's "
                        "content preset; VGG: conv2_2, paper §3)")
    s.add_argument("--style-layers", default=None,
                   help="layers whose Gram matrices are matched (default: the architecture's "
                        "style preset; VGG: conv1_1..conv5_1)")
    r = D.RATIO
    s.add_argument("--ratio", type=ratio3, default=r, metavar="A:B:G",
                   help=f"alpha:beta:gamma = content:style:TV weights after the automatic "
                        f"factors; 'paper' = 100:1:1000, which here gives a blurred content (default: "
                        f"{':'.join(f'{v:g}' for v in r)}; why: defaults.RATIO)")
    s.add_argument("--style-weights", type=float_list, default=None, metavar="W1,W2",
                   help="blend weights of several style images (default: equal)")
    s.add_argument("--style-scale", type=positive_float, default=1.0, metavar="F",
                   help="style image longer side relative to the output's (default: 1)")
    s.add_argument("--init", choices=["noise", "content", "style"], default="noise",
                   help="start image: white noise (the paper), the content or the first style")
    s.add_argument("--original-colors", action="store_true",
                   help="keep the content's colours: transfer luminance only")
    s.add_argument("--scales", type=positive_int, default=1, metavar="K",
                   help="coarse-to-fine over K scales halving the size, each starting from the "
                        "upsampled result of the one before; --iters is split between them, "
                        "halving per finer scale (default: 1)")
    common(s)
    s.set_defaults(func=cmd_style)

    s = sub.add_parser("demo", help="the gallery: inversion, texture and style transfer on "
                       "bundled samples, with index.html")
    s.add_argument("-o", "--output", type=Path, default=Path("gallery"),
                   help="output directory (default: %(default)s)")
    s.add_argument("--size", type=positive_int, default=128)
    s.add_argument("--iters", type=positive_int, default=200)
    s.add_argument("--net", default="random")
    s.add_argument("--device", default="auto")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("reproduce", help="regenerate every paper figure with its numbers: "
                       "REPORT_DIR/index.html, results.json and the PNGs")
    s.add_argument("-o", "--output", type=Path, required=True, metavar="REPORT_DIR")
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
    s.set_defaults(func=cmd_reproduce)
    _build_net_parser(sub)
    s = sub.add_parser("layers", help="list an architecture's layers (taps) with channels, "
                       "stride, receptive field and the smallest input each needs")
    s.add_argument("--arch", type=arch_name, default=None, metavar="ARCH",
                   help=f"one of {', '.join(ARCH_NAMES)} (default: {D.ARCH})")
    s.add_argument("--all", action="store_true",
                   help="every node the feature extractor knows, not only the readable list")
    s.set_defaults(func=cmd_layers)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (runtime.py lists them). Never raises for bad input:
    every subcommand runs under runtime.guarded, after its output locations are checked."""

    def command() -> int:
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            build_parser().print_help()
            return EXIT_INPUT
        check_outputs(args)
        return args.func(args)

    return guarded(command)


if __name__ == "__main__":
    sys.exit(main())
