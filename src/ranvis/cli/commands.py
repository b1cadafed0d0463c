"""The ``ranvis`` command. ``main(argv) -> int`` returns the exit status: 0 done, 2 bad input
or usage, 3 stopped by a numerical fault, 130/143 interrupted by SIGINT/SIGTERM (runtime.py).

Every subcommand inherits from :func:`main` (runtime.guarded) the signal handling, the check
that every output location (``-o``, ``--checkpoint``) is writable before any work starts, and
the one-line error for any InputError; optimization subcommands (their parsers: cliparsers.py,
with cliargs.common) also get ``--checkpoint``, and load images with ``_load`` (size and memory
checks before resizing). torch is imported only inside the subcommands, so ``ranvis --help``
answers at once. Defaults come from the task functions' signatures (tasks/) and defaults.py.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from ranvis import defaults as D
from ranvis._version import __version__
from ranvis.cli import parsers as P
from ranvis.cli.args import peer_flag_error
from ranvis.cli.runtime import (  # noqa: F401
    EXIT_FAULT,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    check_outputs,
    guarded,
)
from ranvis.cli.runtime import callbacks as _callbacks
from ranvis.cli.runtime import finish as _finish
from ranvis.cli.runtime import load_image as _load
from ranvis.cli.runtime import resume as _resume
from ranvis.cli.studyflags import add_study
from ranvis.platform.threads import prefer_passive_waits

EXIT_FIGURE_FAILED = 1  # reproduce: the report was written but a figure module failed (a bug)


class _Parser(argparse.ArgumentParser):
    """argparse without prefix matching (``--style-weight`` must never be taken for
    ``--style-weights``) whose errors are one line (runtime.UsageError)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")  # printed as "ranvis: error: ..."


def _net_kwargs(a: argparse.Namespace) -> dict[str, Any]:
    iters = {"iters": a.iters} if a.iters is not None else {}  # None: the task's default
    return {"net": a.net, "arch": a.arch, "net_seed": a.net_seed, "sigma": a.sigma,
            "pool": a.pool, "weight_init": a.weight_init, **iters, "seed": a.seed,
            "optimizer": a.optimizer, "device": a.device, "precision": a.precision,
            "preset": a.preset, "padding": a.padding, "threads": _threads(a),
            "keep_freed": True}  # a one-run command keeps glibc's freed memory (heap.py)


def _threads(a: argparse.Namespace) -> int:
    """``--threads``, else the command's default (platform.threads.default_threads)."""
    from ranvis.platform.threads import default_threads

    return a.threads if a.threads is not None else default_threads()


def _arch(a: argparse.Namespace) -> Any:
    """The run's architecture: the spec's (``--net FILE``) or ``--arch``'s (default VGG-19)."""
    from ranvis.tasks import resolve_arch

    return resolve_arch(a.net, a.arch)


def cmd_invert(a: argparse.Namespace) -> int:
    from ranvis.tasks import invert
    from ranvis.tasks.inversion import Priors, default_iters

    arch = _arch(a)
    layers = arch.check_taps(a.layer)
    if a.iters is None:  # the preset's budget (the progress bar needs it before the run)
        a.iters = default_iters(a.preset, arch, layers)
    img = _load(a.image, a.size, layers, optimizer=a.optimizer, arch=arch.name)
    resume = _resume(a)
    cbs = _callbacks(a, f"invert {a.layer}", resume)
    run = invert(img, a.layer, callbacks=cbs, resume=resume, param=a.param, nets=a.nets,
                 levels=a.levels, noise_std=a.noise_std, level_plateau=a.level_plateau,
                 priors=Priors(tv=a.tv_weight, alpha=a.alpha_weight), **_net_kwargs(a))
    return _finish(a, run, cbs, {"input": str(a.image), "net_arg": a.net,
                                 "size_arg": a.size, "save_every": a.save_every,
                                 "output": str(a.output), "device_arg": a.device})


def cmd_texture(a: argparse.Namespace) -> int:
    from ranvis.tasks import synthesize_texture

    arch = _arch(a)
    a.iters = a.iters or D.ITERS
    layers = arch.check_taps(a.layers or list(arch.presets.texture))
    src = _load(a.image, a.size, gram_layers=layers, arch=arch.name)
    resume = _resume(a)
    cbs = _callbacks(a, "texture", resume)
    run = synthesize_texture(src, layers, out_size=a.out_size, weights=a.weights,
                             start=a.start, callbacks=cbs, resume=resume,
                             style_loss=a.style_loss or "gram", **_net_kwargs(a))
    return _finish(a, run, cbs, {"input": str(a.image), "net_arg": a.net})


def _fit_style(path: str, content: Any, scale: float, layers: list[str], arch: str) -> Any:
    """A style image fitted to ``scale`` × the content's size (tasks.stylefit.fit_style)."""
    from ranvis.platform.memory import check_memory
    from ranvis.tasks.stylefit import fit_style, fitted_size

    h, w = (max(1, round(v * scale)) for v in content.shape[-2:])
    img = _load(path, None, gram_layers=layers, arch=arch)
    check_memory(*fitted_size(img, w, h), gram_layers=layers, optimizer="none",
                 fix="use a smaller --style-scale", arch=arch)  # before making it
    return fit_style(img, w, h)


def cmd_style(a: argparse.Namespace) -> int:
    from ranvis.tasks import transfer_style
    from ranvis.tasks.transfer import Weights

    arch = _arch(a)
    a.iters = a.iters or D.ITERS
    style_layers = arch.check_taps(a.style_layers or list(arch.presets.style))
    content_layer = arch.check_taps([a.content_layer or arch.presets.content])[0]
    content = _load(a.content, a.size, [content_layer], style_layers, optimizer=a.optimizer,
                    arch=arch.name)
    # styles fitted to --style-scale x the output (tasks.stylefit: a small seamless pattern
    # tiled at its own scale, else resized; checked for memory); transfer_style resizes them
    # again for each coarser scale
    styles = [_fit_style(s, content, a.style_scale, style_layers, arch.name) for s in a.styles]
    init = a.init
    if init is not None and init.startswith("image:"):
        init = _load(init[len("image:"):], max(content.shape[-2:]), [content_layer],
                     arch=arch.name)
    resume = _resume(a)
    cbs = _callbacks(a, "style", resume)
    run = transfer_style(content, styles, style_weights=a.style_weights,
                         content_layer=a.content_layer, style_layers=style_layers,
                         ratio=a.ratio, init=init, scales=a.scales, style_scale=a.style_scale,
                         original_colors=a.original_colors, callbacks=cbs, resume=resume,
                         weights=Weights(a.content_weight, a.style_weight, a.tv_weight),
                         color_match=a.color_match, nets=a.nets, style_loss=a.style_loss,
                         **_net_kwargs(a))
    return _finish(a, run, cbs, {"content": str(a.content), "styles": [str(s) for s in a.styles],
                                 "net_arg": a.net})


def cmd_layers(a: argparse.Namespace) -> int:
    from ranvis.nets import get_arch
    from ranvis.nets.table import tap_table

    print(tap_table(get_arch(a.arch or D.ARCH), every=a.all))
    return EXIT_OK


def cmd_demo(a: argparse.Namespace) -> int:
    from ranvis.cli import demo, runtime

    try:
        index = demo.run(a.output, size=a.size, iters=a.iters, net=a.net, device=a.device,
                         threads=_threads(a))
    except demo.Interrupted as e:
        print(f"ranvis: {e}", file=sys.stderr)
        return runtime.signals.status
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
    from ranvis.tasks.stacking import BuildSettings, build

    s = BuildSettings(reference=str(a.reference), candidates=a.candidates, size=a.size,
                      iters=a.iters, layers=a.layers, seed=a.seed, upto=a.upto,
                      arch=a.arch or D.ARCH, init=a.weight_init)
    command = ("ranvis build-net --reference " + s.reference +
               (f" --arch {s.arch}" if s.arch != D.ARCH else "") +
               (f" --weight-init {s.init}" if s.init != D.WEIGHT_INIT else "") +
               f" --candidates {s.candidates} --size {s.size} --iters {s.iters}"
               f" --layers {s.layers} --seed {s.seed}" + (f" --upto {s.upto}" if s.upto else ""))
    try:
        spec = build(s, a.output, device=a.device, command=command, threads=_threads(a))
    except KeyboardInterrupt:
        from ranvis.tasks.stacking import cache_path

        print(f"ranvis: build interrupted; rerun the same command to resume from "
              f"{cache_path(a.output)}", file=sys.stderr)
        raise
    print(f"wrote {a.output} ({len(spec.info['searched'])} layers searched, "
          f"{spec.info['seconds']:.0f} s)", file=sys.stderr)
    return EXIT_OK


def cmd_study(a: argparse.Namespace) -> int:
    from ranvis.cli.study import cmd_study as run

    return run(a)


def cmd_serve(a: argparse.Namespace) -> int:
    from ranvis.serve import serve

    return serve(build_parser, a.host, a.port)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="ranvis", description="Deep visualization with untrained, random-weight "
                "networks (He, Wang, Hopcroft, NIPS 2016; the paper's VGG-19 by default, any "
                "architecture of `ranvis layers` with --arch). Images may be files or bundled "
                "samples written sample:NAME (astronaut, coffee, chelsea, brick, ...).")
    p.add_argument("--version", action="version", version=f"ranvis {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = [(P.add_invert, cmd_invert), (P.add_texture, cmd_texture),
                (P.add_style, cmd_style), (P.add_demo, cmd_demo),
                (P.add_reproduce, cmd_reproduce), (P.add_build_net, cmd_build_net),
                (P.add_layers, cmd_layers), (add_study, cmd_study), (P.add_serve, cmd_serve)]
    for add, func in commands:
        add(sub).set_defaults(func=func)
    return p


def _long_flags(parser: argparse.ArgumentParser) -> frozenset[str]:
    """Every ``--flag`` of ``parser`` and its subcommands."""
    out: set[str] = set()
    for action in parser._actions:  # argparse keeps no public list of its actions
        out.update(o for o in action.option_strings if o.startswith("--"))
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out |= _long_flags(sub)
    return frozenset(out)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (runtime.py lists them). Never raises for bad input:
    every subcommand runs under runtime.guarded, after its output locations are checked."""

    def command() -> int:
        prefer_passive_waits()  # before torch is imported (platform.threads)
        parser = build_parser()
        peer = peer_flag_error(sys.argv[1:] if argv is None else argv, _long_flags(parser))
        if peer:
            raise UsageError(peer)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            build_parser().print_help()
            return EXIT_INPUT
        check_outputs(args)
        return args.func(args)

    return guarded(command)


if __name__ == "__main__":
    sys.exit(main())
