"""The leaderboards as Markdown (``DIR/leaderboard.md``, ready for a README)."""
from __future__ import annotations

import math
from typing import Any

from ranvis.study.model import Plan


def _f(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.{digits}f}"
    return str(v)


def _name(e: dict[str, Any], size: int) -> str:
    """A board entry's network, marked "(N px)" where its cells ran at another size than the
    study's (a grown tap, study.taps)."""
    other = e.get("size") is not None and e["size"] != size
    return f"{e['arch']} ({e['size']} px)" if other else str(e["arch"])


def _grown_note(board: list[dict[str, Any]], size: int) -> list[str]:
    entries = [e for d in board for e in d.get("ranking", [d])]
    if not any(_name(e, size) != e["arch"] for e in entries):
        return []
    return [f"- a network marked (N px) ran at N px: its taps need more than the study's {size} "
            "px (study.grow)"]


def _invert(board: list[dict[str, Any]], by: str, size: int) -> list[str]:
    lines = [f"| {by} | rank | network | tap | n | PSNR dB (mean ± std) | seed std | image std "
             "| SSIM | M&V error | s/cell |", "|" + "---|" * 11]
    notes = []
    for depth in board:
        for i, e in enumerate(depth["ranking"], 1):
            lines.append(f"| {depth[by]} | {i} | {_name(e, size)} | {e['tap']} | {e['n']} | "
                         f"{_f(e['psnr_mean'])} ± {_f(e['psnr_std'])} | {_f(e['seed_std'])} | "
                         f"{_f(e['image_std'])} | {_f(e['ssim'], 3)} | {_f(e['mv_error'], 3)} | "
                         f"{_f(e['seconds'], 1)} |")
        win = depth["first_beats_second"]
        notes.append(f"- {by} {depth[by]}: first {depth['first']}, "
                     f"{_f(depth['gap_to_second'])} dB ahead of the second"
                     + (f" (better on {100 * win:.0f}% of paired images and seeds)"
                        if win is not None else "")
                     + f"; the means span {_f(depth['arch_range'])} dB; median seed std "
                       f"{_f(depth['seed_std_median'])} dB")
    return [*lines, "", *notes, *_grown_note(board, size)]


def _texture(board: list[dict[str, Any]]) -> list[str]:
    lines = ["| rank | network | n | judge distance (mean ± std) | noise start | own Gram error "
             "| diversity | s/cell |", "|" + "---|" * 8]
    for i, e in enumerate(board, 1):
        lines.append(f"| {i} | {e['arch']} | {e['n']} | {_f(e['judge_mean'], 3)} ± "
                     f"{_f(e['judge_std'], 3)} | {_f(e['noise_distance'], 3)} | "
                     f"{_f(e['own_gram_error'], 3)} | {_f(e['diversity'], 3)} | "
                     f"{_f(e['seconds'], 1)} |")
    return lines


def _style(board: list[dict[str, Any]]) -> list[str]:
    lines = ["| rank | network | n | style distance d (mean ± std) | content SSIM (mean ± std) "
             "| d of the content | SSIM of the style | s/cell |", "|" + "---|" * 8]
    for i, e in enumerate(board, 1):
        lines.append(f"| {i} | {e['arch']} | {e['n']} | {_f(e['d_mean'], 3)} ± "
                     f"{_f(e['d_std'], 3)} | {_f(e['ssim_mean'], 3)} ± {_f(e['ssim_std'], 3)} "
                     f"| {_f(e['d_content'], 3)} | {_f(e['ssim_style'], 3)} | "
                     f"{_f(e['seconds'], 1)} |")
    return lines


def _zerocost(board: list[dict[str, Any]], size: int) -> list[str]:
    lines = ["| rank | network | n | tap | NASWOT (seed std) | log10 synflow | params (M) | "
             "GFLOPs (224 px) | s/cell |", "|" + "---|" * 9]
    for i, e in enumerate(board, 1):
        lines.append(f"| {i} | {_name(e, size)} | {e['n']} | {e['tap']} | {_f(e['naswot'], 1)} "
                     f"({_f(e['naswot_seed_std'], 1)}) | {_f(e['log10_synflow'], 1)} | "
                     f"{_f(e['params_m'], 1)} | {_f(e['gflops'], 2)} | {_f(e['seconds'], 1)} |")
    grown = _grown_note(board, size)
    return [*lines, "", *grown] if grown else lines


def markdown(plan: Plan, boards: dict[str, list[dict[str, Any]]]) -> str:
    """Every task's leaderboard as Markdown tables with one-line notes."""
    out = [f"# Study {plan.name}: {plan.size} px, {plan.iters} iterations, seeds "
           f"{list(plan.seeds)}", ""]
    for task in plan.tasks:
        b = boards.get(task.name) or []
        out += [f"## {task.name} ({task.kind})", ""]
        if not b:
            out += ["no cell stored yet", ""]
            continue
        if task.kind == "invert":
            out += _invert(b, "tap" if task.taps else "stride", plan.size)
        elif task.kind == "texture":
            out += _texture(b)
        elif task.kind == "zerocost":
            out += _zerocost(b, plan.size)
        else:
            out += _style(b)
        out.append("")
    return "\n".join(out)
