"""The run record every task writes: OUT.png, OUT.json and OUT-loss.png, all atomically."""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ranvis.errors import InputError


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    Creates missing parent directories. Raises InputError (one line) if the parent is a file or
    not writable; on any failure no file is left behind.
    """
    path = Path(path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot write {path}: {parent} is not a directory") from None
    except PermissionError:
        raise InputError(f"cannot write {path}: {parent} is not writable") from None
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; outputs are ordinary files (as images.save)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(path: str | Path) -> None:
    """Raise InputError (one line) unless a file could be written at ``path``; writes nothing.

    For checking an output location *before* a long run. An existing directory is accepted as
    an output *directory* (``reproduce -o DIR``) unless its name has a file suffix (``x.png``).
    Otherwise the nearest existing ancestor must be a directory (missing ones are created at
    write time) in which a file can really be created (tried with a temporary file, removed at
    once; this also catches read-only file systems, where permission bits say nothing to root).
    """
    p = Path(path)
    if p.is_dir() and p.suffix:
        raise InputError(f"output {p} is a directory; give a file name")
    parent = p if p.is_dir() else p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write {p}: {parent} is a file, not a directory; "
                         "choose another output location")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".ranvis-check-")
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise InputError(f"cannot write {p}: {parent} is not writable ({err.strerror}); "
                         "choose a writable output location") from None


def _clean(v: Any) -> Any:
    """JSON has no inf/nan: write them as strings so the file stays standard JSON."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented, standard JSON, atomically."""
    text = json.dumps(_clean(data), indent=1, sort_keys=False) + "\n"
    atomic_write(path, lambda p: p.write_text(text))


def plot_losses(path: str | Path, losses: list[float], terms: dict[str, list[float]] | None = None,
                title: str = "", accepted: list[int] | None = None) -> None:
    """Loss against evaluation, log scale. With ``accepted`` (the evaluations the optimizer's
    iterate rested on, Result.accepted), the line joins the accepted steps and every other
    evaluation, a line-search trial, is a faint dot; without it, one line through every
    evaluation. Several terms: one curve per term on the same evaluations. Draws on a standalone
    matplotlib Figure: pyplot's backend and state (a notebook's) stay untouched."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=110)
    ax = fig.subplots()
    xs = list(range(1, len(losses) + 1))
    keep = [i for i in (accepted or []) if 0 <= i < len(losses)]
    if keep:
        trials = sorted(set(range(len(losses))) - set(keep))
        ax.semilogy([i + 1 for i in trials], [losses[i] for i in trials], ".", ms=2.5,
                    color="0.6", label=f"line-search trials ({len(trials)})")
        ax.semilogy([i + 1 for i in keep], [losses[i] for i in keep], "-", lw=1.8, color="C0",
                    label=f"total, accepted steps ({len(keep)})")
    else:
        ax.semilogy(xs, losses, label="total", lw=1.6)
    if terms and len(terms) > 1:
        for k, (name, values) in enumerate(terms.items(), 1):
            idx = [i for i in keep if i < len(values)] or list(range(len(values)))
            ax.semilogy([i + 1 for i in idx], [values[i] for i in idx], label=name, lw=0.9,
                        alpha=0.8, color=f"C{k % 10}")
    ax.legend(fontsize=8, ncol=2)
    ax.set_xlabel("objective evaluation")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both", lw=0.4)
    fig.tight_layout()
    atomic_write(path, lambda p: fig.savefig(p, format="png"))


def metric_summary(metrics: dict[str, Any]) -> list[str]:
    """Readable metrics: 'psnr 23.1' for a number, 'gram_error mean 0.012' for a per-layer dict
    of numbers (the texture's and style's Gram errors, the inversion's feature errors)."""
    out = []
    for k, v in metrics.items():
        if isinstance(v, dict) and v and all(isinstance(x, float) for x in v.values()):
            k, v = f"{k} mean", sum(v.values()) / len(v)
        if isinstance(v, float) and math.isfinite(v):
            out.append(f"{k} {v:.4g}")
    return out


def output_paths(out: str | Path) -> tuple[Path, Path, Path]:
    """OUT.png → (OUT.png, OUT.json, OUT-loss.png)."""
    out = Path(out)
    return out, out.with_suffix(".json"), out.with_name(out.stem + "-loss.png")


def save_run(out: str | Path, image: Any, record: dict[str, Any]) -> None:
    """Write the image, its run record and its loss plot. The JSON is written last."""
    from ranvis.io.images import save

    png, js, lossplot = output_paths(out)
    save(image, png)
    if record.get("loss"):
        plot_losses(lossplot, record["loss"], record.get("terms"),
                    title=f"{record['task']}: {png.name}", accepted=record.get("accepted"))
    write_json(js, record)


def environment(threads: int | None = None) -> dict[str, Any]:
    """What a byte-identical rerun needs to match (README: determinism): the torch version, its
    thread count (``threads``: the run's own, from its record; else torch's current setting),
    the machine and Python."""
    import platform

    import torch

    return {"torch": torch.__version__, "threads": threads or torch.get_num_threads(),
            "machine": platform.machine(), "python": platform.python_version()}
