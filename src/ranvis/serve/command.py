"""A page run as the ``ranvis`` command that reproduces it (torch-free, pure).

The page never calls the tasks with options of its own: it turns the form into a
:class:`RunSpec`, the spec into the argument list of the ``ranvis`` command
(:func:`argv`), and runs that list through the CLI's own parser and subcommand
(serve.execute). So the command shown on the page (:func:`command_line`) is the run, by
construction: the same list with each input's server path replaced by the name the user knows
(``sample:NAME``, or the uploaded file's name) and the output called ``out.png``.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from ranvis import defaults as D

TASKS = ("invert", "texture", "style")
SHOWN_OUTPUT = "out.png"  # what the shown command writes (the page's own output has this name)


@dataclass(frozen=True)
class Source:
    """One input image: ``name`` is what the command and the run record call it
    (``sample:NAME`` or the upload's file name); ``path`` is what the run reads (the sample
    name, or the checked upload's copy in the job's folder)."""

    name: str
    path: str


@dataclass(frozen=True)
class RunSpec:
    """Every choice the page offers (None or the CLI's default: the flag is left out).

    ``sources``: one image for invert and texture; content then style for style.
    ``out_size``: texture's (W, H). The style weights multiply the preset's balance."""

    task: str
    sources: tuple[Source, ...]
    preset: str = "best"
    arch: str = D.ARCH
    layer: str = "pool2"
    size: int = D.DEMO_SIZE
    iters: int | None = None
    seed: int = 0
    net: str = "random"
    net_seed: int = 0
    out_size: tuple[int, int] | None = None
    content_weight: float = 1.0
    style_weight: float = 1.0
    tv_weight: float = 1.0
    original_colors: bool = False
    init: str | None = None
    scales: int | None = None
    padding: str | None = None
    optimizer: str = "lbfgs"


def _num(v: float) -> str:
    """A weight as the shortest text that parses back to it (2.0 -> '2')."""
    return f"{v:g}" if float(f"{v:g}") == v else repr(v)


def _task_flags(s: RunSpec) -> list[str]:
    if s.task == "invert":
        return ["--layer", s.layer]
    if s.task == "texture":
        return ["--out-size", f"{s.out_size[0]}x{s.out_size[1]}"] if s.out_size else []
    flags: list[str] = []
    for name, v in (("content", s.content_weight), ("style", s.style_weight),
                    ("tv", s.tv_weight)):
        flags += [f"--{name}-weight", _num(v)] if v != 1.0 else []
    flags += ["--original-colors"] if s.original_colors else []
    flags += ["--init", s.init] if s.init else []
    flags += ["--scales", str(s.scales)] if s.scales else []
    return flags


def argv(spec: RunSpec, output: str, shown: bool = False) -> list[str]:
    """The ``ranvis`` arguments (without ``ranvis``) of ``spec`` writing ``output``; inputs
    by ``Source.name`` when ``shown``, else by ``Source.path``. Default values are left out."""
    if spec.task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {spec.task!r}")
    args = [spec.task, *((s.name if shown else s.path) for s in spec.sources)]
    args += _task_flags(spec)
    args += ["--size", str(spec.size)]
    args += ["--iters", str(spec.iters)] if spec.iters else []
    args += ["--seed", str(spec.seed)] if spec.seed else []
    args += ["--preset", spec.preset]
    args += ["--arch", spec.arch] if spec.arch != D.ARCH else []
    args += ["--net", spec.net] if spec.net != "random" else []
    args += ["--net-seed", str(spec.net_seed)] if spec.net_seed else []
    args += ["--padding", spec.padding] if spec.padding else []
    args += ["--optimizer", spec.optimizer] if spec.optimizer != "lbfgs" else []
    return [*args, "-o", output]


def command_line(spec: RunSpec) -> str:
    """The shell command that reproduces ``spec``'s run (inputs by the names the user knows;
    each argument quoted for a POSIX shell where needed)."""
    return shlex.join(["ranvis", *argv(spec, SHOWN_OUTPUT, shown=True)])
