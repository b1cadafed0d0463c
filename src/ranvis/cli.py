"""The ``ranvis`` command. ``main(argv) -> int``: 0 success, 2 bad input or usage, 130 interrupted.

torch is imported only inside the subcommands, so ``ranvis --help`` answers at once. Defaults come
from the task functions' signatures (tasks.py), never repeated here.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ranvis import defaults as D
from ranvis._version import __version__

EXIT_OK, EXIT_INPUT, EXIT_INTERRUPTED = 0, 2, 130


class UsageError(Exception):
    """argparse's complaint, carried to main() so it prints as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {s!r}")
    return v


def positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {s!r}")
    return v


def size_wh(s: str) -> tuple[int, int]:
    """'512x256' → (512, 256)."""
    parts = s.lower().split("x")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected WxH like 512x256, got {s!r}")
    w, h = (positive_int(p) for p in parts)
    return w, h


def float_list(s: str) -> list[float]:
    try:
        return [float(v) for v in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {s!r}") from None


def ratio3(s: str) -> tuple[float, float, float]:
    """'10:1:10' → (10.0, 1.0, 10.0); 'paper' → the paper's 100:1:1000 (defaults.PAPER_RATIO)."""
    if s.strip().lower() == "paper":
        return D.PAPER_RATIO
    parts = s.split(":")
    try:
        vals = tuple(float(v) for v in parts)
    except ValueError:
        vals = ()
    if len(vals) != 3 or any(not 0 <= v < float("inf") for v in vals):
        raise argparse.ArgumentTypeError(f"expected three non-negative numbers A:B:G like "
                                         f"10:1:10, or 'paper', got {s!r}")
    return vals  # type: ignore[return-value]


def _common(p: argparse.ArgumentParser, size: int = D.SIZE) -> None:
    """Options every optimization task takes."""
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="output PNG; OUT.json (run record) and OUT-loss.png are written beside it")
    p.add_argument("--size", type=positive_int, default=size,
                   help="resize the input so its longer side is N px (default: %(default)s)")
    p.add_argument("--iters", type=positive_int, default=D.ITERS,
                   help="iterations = objective evaluations (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the white-noise start (default: %(default)s)")
    p.add_argument("--net", default="random",
                   help="random (plain VGG-19 from --net-seed), stacked (the shipped ranVGG), "
                        "or a spec JSON from build-net (default: %(default)s)")
    p.add_argument("--net-seed", type=int, default=0, help="seed of --net random (default: 0)")
    p.add_argument("--sigma", type=positive_float, default=D.SIGMA,
                   help="std of the random weights, --net random (default: %(default)s)")
    p.add_argument("--pool", choices=["avg", "max"], default=D.POOL,
                   help="pooling of --net random (default: avg)")
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda (default: auto)")
    p.add_argument("--save-every", type=positive_int, default=None, metavar="N",
                   help="also write OUT-iterNNNNN.png every N iterations")


def _net_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    return {"net": a.net, "net_seed": a.net_seed, "sigma": a.sigma, "pool": a.pool,
            "iters": a.iters, "seed": a.seed, "optimizer": a.optimizer, "device": a.device}


def _callbacks(a: argparse.Namespace, desc: str) -> list[Callable[[Any], None]]:
    from ranvis.callbacks import Progress, Snapshots

    cbs: list[Callable[[Any], None]] = [Progress(a.iters, desc)]
    if a.save_every:
        cbs.append(Snapshots(a.output, a.save_every))
    return cbs


def _finish(a: argparse.Namespace, run: Any, cbs: list[Any], extra: dict[str, Any]) -> int:
    from ranvis.record import save_run

    for cb in cbs:
        getattr(cb, "close", lambda: None)()
    run.record["settings"].update(extra)
    save_run(a.output, run.image, run.record)
    m = run.record.get("metrics", {})
    shown = ", ".join(f"{k} {v:.3f}" for k, v in m.items() if isinstance(v, float))
    print(f"wrote {a.output} ({run.record['iterations']} iterations, "
          f"{run.record['seconds']:.1f} s{', ' + shown if shown else ''})", file=sys.stderr)
    return EXIT_INTERRUPTED if run.record["interrupted"] else EXIT_OK


def cmd_invert(a: argparse.Namespace) -> int:
    from ranvis.images import load
    from ranvis.tasks import invert

    img = load(a.image, a.size)
    cbs = _callbacks(a, f"invert {a.layer}")
    run = invert(img, a.layer, callbacks=cbs, **_net_kwargs(a))
    return _finish(a, run, cbs, {"input": str(a.image), "net_arg": a.net})


def cmd_texture(a: argparse.Namespace) -> int:
    from ranvis.images import load
    from ranvis.tasks import synthesize_texture

    src = load(a.image, a.size)
    cbs = _callbacks(a, "texture")
    run = synthesize_texture(src, a.layers.split(","), out_size=a.out_size, weights=a.weights,
                             callbacks=cbs, **_net_kwargs(a))
    return _finish(a, run, cbs, {"input": str(a.image), "net_arg": a.net})


def cmd_style(a: argparse.Namespace) -> int:
    from ranvis.images import load
    from ranvis.tasks import transfer_style

    content = load(a.content, a.size)
    styles = [load(s) for s in a.styles]  # full size: resized per scale to --style-scale
    cbs = _callbacks(a, "style")
    run = transfer_style(content, styles, style_weights=a.style_weights,
                         content_layer=a.content_layer, style_layers=a.style_layers.split(","),
                         ratio=a.ratio, init=a.init, scales=a.scales, style_scale=a.style_scale,
                         original_colors=a.original_colors, callbacks=cbs, **_net_kwargs(a))
    return _finish(a, run, cbs, {"content": str(a.content), "styles": [str(s) for s in a.styles],
                                 "net_arg": a.net})


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
    _common(s)
    s.set_defaults(func=cmd_invert)

    s = sub.add_parser("texture", help="synthesize a texture by matching Gram matrices (eq. 5-8)")
    s.add_argument("image", help="source texture file or sample:NAME")
    s.add_argument("--layers", default=",".join(D.TEXTURE_LAYERS),
                   help="layers whose Gram matrices are matched: conv outputs before ReLU "
                        "(default: %(default)s)")
    s.add_argument("--out-size", type=size_wh, default=None, metavar="WxH",
                   help="output size, independent of the source (default: the source's)")
    s.add_argument("--weights", choices=["auto", "equal"], default="auto",
                   help="auto: per-layer factors mu_l (eq. 8); equal: all 1 (Gatys et al.)")
    _common(s, size=D.TEXTURE_SIZE)
    s.set_defaults(func=cmd_texture)

    s = sub.add_parser("style", help="transfer the style of STYLE onto CONTENT (eq. 9)")
    s.add_argument("content", help="content image file or sample:NAME")
    s.add_argument("styles", nargs="+", metavar="STYLE", help="one or more style images")
    s.add_argument("--content-layer", default=D.CONTENT_LAYER,
                   help="layer whose features are matched (default: %(default)s, paper §3)")
    s.add_argument("--style-layers", default=",".join(D.STYLE_LAYERS),
                   help="layers whose Gram matrices are matched (default: %(default)s)")
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
    _common(s)
    s.set_defaults(func=cmd_style)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (never raises for bad input)."""
    from ranvis.errors import InputError

    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            build_parser().print_help()
            return EXIT_INPUT
        return args.func(args)
    except (UsageError, InputError) as e:
        print(f"ranvis: error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("ranvis: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
