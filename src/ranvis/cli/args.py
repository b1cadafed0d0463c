"""Argument types and the option groups the ``ranvis`` subcommands share (cli.py builds the
parsers). Torch-free, like cli.py: ``ranvis --help`` answers at once. Defaults come from
defaults.py and the task functions' signatures, never repeated here.
"""
from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.nets import ARCH_NAMES, check_arch_name

SEED_MAX = 2**32 - 1  # NetSpec.random gives layer i the seed 1000*s + i; PCG64 and torch take it


def subparser(sub: Any, name: str, help: str, examples: list[str]) -> argparse.ArgumentParser:
    """A subcommand's parser whose ``--help`` ends with ``examples`` (shown as written)."""
    epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples)
    description = textwrap.fill(help[0].upper() + help[1:] + ".", 78)
    return sub.add_parser(name, help=help, description=description,
                          epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)


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


def style_loss_arg(s: str) -> str:
    """A --style-loss value, checked by objectives.stylekinds (the tasks' own check)."""
    from ranvis.objectives.stylekinds import parse_style_loss

    try:
        parse_style_loss(s)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return s


def seed_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        v = -1
    if not 0 <= v <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {SEED_MAX}, got {s!r}")
    return v


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def png_path(s: str) -> Path:
    """An output image name ending in .png, .jpg or .jpeg (OUT.json and OUT-loss.png go beside
    it)."""
    p = Path(s)
    if p.suffix.lower() not in IMAGE_SUFFIXES or not p.stem:
        raise argparse.ArgumentTypeError(f"expected an output file name ending in .png, .jpg or "
                                         f".jpeg, got {s!r}")
    return p


def non_negative(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        v = -1.0
    if not 0 <= v < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {s!r}")
    return v


def init_arg(s: str) -> str:
    """noise | content | style | image:PATH (a start image, resized to the output)."""
    if s in ("noise", "content", "style") or (s.startswith("image:") and len(s) > 6):
        return s
    raise argparse.ArgumentTypeError(f"expected noise, content, style or image:PATH, got {s!r}")


def float_list(s: str) -> list[float]:
    try:
        vals = [float(v) for v in s.split(",")]
    except ValueError:
        vals = []
    if not vals or not all(0 <= v < float("inf") for v in vals):
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative numbers like "
                                         f"1,0.5, got {s!r}")
    return vals


def ratio3(s: str) -> tuple[float, float, float]:
    """'10:1:10' → (10.0, 1.0, 10.0); 'paper' → the paper's 100:1:1000 (defaults.PAPER_RATIO)."""
    if s.strip().lower() == "paper":
        return D.PAPER_RATIO
    parts = s.split(":")
    try:
        vals = tuple(float(v) for v in parts)
    except ValueError:
        vals = ()
    if len(vals) != 3 or not all(0 <= v < float("inf") for v in vals) or not any(vals):
        raise argparse.ArgumentTypeError(f"expected three non-negative numbers A:B:G, not all "
                                         f"zero, like 10:1:10, or 'paper', got {s!r}")
    return vals  # type: ignore[return-value]


def arch_name(s: str) -> str:
    """A registry architecture name (nets.ARCH_NAMES)."""
    try:
        return check_arch_name(s)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_arch(p: argparse.ArgumentParser) -> None:
    """--arch and --weight-init: which architecture a random network has, and how it is drawn."""
    p.add_argument("--arch", type=arch_name, default=None, metavar="ARCH",
                   help=f"architecture of --net random: {', '.join(ARCH_NAMES)}, or timm:NAME (default: "
                        f"{D.ARCH}, the paper's; a spec brings its own; see `ranvis layers`)")
    p.add_argument("--weight-init", choices=["paper", "he", "timm"], default=D.WEIGHT_INIT,
                   help="paper: N(0, sigma) weights; he: N(0, sqrt(2/fan_in)); timm: timm's "
                        "own initialization, seeded (timm: architectures only) "
                        "(default: %(default)s)")


THREADS_HELP = ("CPU threads the run computes with (default: every core this process may use, "
                "or OMP_NUM_THREADS when set; idle threads sleep instead of spinning, so the "
                "default holds up beside other jobs; benchmarks/README.md, Threads)")


def add_threads(p: argparse.ArgumentParser) -> None:
    """--threads N: the run's CPU threads (platform.threads; None: the command's default)."""
    p.add_argument("--threads", type=positive_int, default=None, metavar="N", help=THREADS_HELP)


def common(p: argparse.ArgumentParser, size: int = D.SIZE, iters: str = f"{D.ITERS}") -> None:
    """Options every optimization task takes; ``iters`` says the task's default budget."""
    p.add_argument("-o", "--output", required=True, type=png_path,
                   help="output image, .png or .jpg; OUT.json (run record) and OUT-loss.png are "
                        "written beside it")
    p.add_argument("--size", type=positive_int, default=size,
                   help="resize the input so its longer side is N px (default: %(default)s)")
    p.add_argument("--iters", type=positive_int, default=None,
                   help=f"iterations = objective evaluations (default: {iters})")
    p.add_argument("--seed", type=seed_int, default=0,
                   help="seed of the white-noise start (default: %(default)s)")
    p.add_argument("--net", default="random",
                   help="random (a plain random --arch network from --net-seed), stacked (the "
                        "shipped ranVGG), or a spec JSON from build-net (default: %(default)s)")
    p.add_argument("--net-seed", type=seed_int, default=0,
                   help="seed of --net random (default: 0)")
    p.add_argument("--sigma", type=positive_float, default=D.SIGMA,
                   help="std of the random weights, --net random (default: %(default)s)")
    p.add_argument("--pool", choices=["avg", "max", "blur"], default=D.POOL,
                   help="pooling of --net random: avg swaps every max pooling of the "
                        "architecture for an average; blur (VGG) a binomial 3x3 blur, stride 2, "
                        "an ablation (default: avg)")
    add_arch(p)
    p.add_argument("--preset", choices=["best", "paper"], default="best",
                   help="best: what measured best here (the default); paper: what He, Wang & "
                        "Hopcroft did. Explicit options win; the run record says what ran "
                        "(ranvis.presets)")
    p.add_argument("--padding", choices=["zeros", "reflect", "circular"], default=None,
                   help="the convolutions' border padding; circular wraps around (VGG) "
                        "(default: the preset's)")
    engine(p)
    p.add_argument("--save-every", type=positive_int, default=None, metavar="N",
                   help="also write OUT-iterNNNNN.png every N iterations")
    p.add_argument("--checkpoint", type=Path, default=None, metavar="PATH",
                   help="save the run's state to PATH every --checkpoint-every iterations and "
                        "when interrupted; the same command with the same PATH continues from it "
                        "(iterations count in total; the optimizer's own state restarts)")
    p.add_argument("--checkpoint-every", type=positive_int, default=D.CHECKPOINT_EVERY,
                   metavar="N", help="iterations between checkpoints (default: %(default)s)")


def engine(p: argparse.ArgumentParser) -> None:
    """Where and how a task computes: optimizer, device, threads, precision."""
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs",
                   help="L-BFGS (the paper's) or Adam (default: %(default)s)")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda (default: auto)")
    add_threads(p)
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "mixed"],
                   default=D.PRECISION,
                   help="dtype the network layers compute in: auto = fp32; bf16 is "
                        f"{D.BF16_SPEEDUP} faster per iteration on a GPU or a CPU with AMX/AVX512-BF16, and ends at "
                        "a slightly higher loss; mixed (invert with --levels > 1): bf16 for the "
                        "coarse levels and the bulk, fp32 for the last 20%% of the evaluations "
                        "(measured at pool5: under half the time, 1.2-1.7 dB lower; "
                        "benchmarks/README.md) "
                        "(default: %(default)s)")


# Flags of the tools people come from (jcjohnson/neural-style's Lua flags, the PyTorch
# tutorials' and neural-style-pt's spellings) → ranvis's equivalent, named in the one-line error.
PEER_FLAGS = {
    "content_weight": "--content-weight (a multiplier of the automatic balance; 1 = default)",
    "style_weight": "--style-weight (a multiplier of the automatic balance; 1 = default)",
    "tv_weight": "--tv-weight (a multiplier of the automatic balance; 1 = default)",
    "num_iterations": "--iters", "num-iterations": "--iters", "iterations": "--iters",
    "steps": "--iters", "num_steps": "--iters", "num-steps": "--iters", "niter": "--iters",
    "image_size": "--size", "image-size": "--size", "max_size": "--size", "max-size": "--size",
    "content_image": "the first argument (CONTENT)", "style_image": "the STYLE arguments",
    "output_image": "-o/--output", "style_blend_weights": "--style-weights",
    "style_scale": "--style-scale", "original_colors": "--original-colors",
    "content_layers": "--content-layer", "style_layers": "--style-layers",
    "init_image": "--init image:PATH", "gpu": "--device", "save_iter": "--save-every",
    "print_iter": "(the progress line prints every iteration)", "learning_rate": "--optimizer",
}


def peer_flag_error(argv: list[str], ours: frozenset[str] = frozenset()) -> str | None:
    """The one-line message for the first token of ``argv`` that is a peer tool's flag
    (``-content_weight``, ``--num-iterations``, ...) or one of ranvis's long flags ``ours``
    (``"--init"``, ...) written with one dash as neural-style's Lua flags are (``-init``,
    ``-seed``), or None. No ranvis flag is a key of PEER_FLAGS (tests/test_cli_flags.py checks
    it)."""
    for tok in argv:
        if not tok.startswith("-") or tok == "--":
            continue
        flag = tok.split("=", 1)[0]
        name = flag.lstrip("-")
        hit = PEER_FLAGS.get(name)
        if hit is not None:
            return f"{flag} is another tool's flag; ranvis's is {hit}"
        if not flag.startswith("--") and len(name) > 1 and f"--{name}" in ours:
            return f"{flag} is another tool's spelling; ranvis's flag is --{name}"
    return None
