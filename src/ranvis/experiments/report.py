"""``ranvis reproduce``: run every figure module in order and write a static HTML report.

Writes into ``out_dir``: one subfolder per figure (its PNGs), ``results.json`` (every figure's
dict: numbers, settings, seconds, verdict; plus the environment) and ``index.html``, a page that
opens from disk. Both files are rewritten atomically after each figure, so a long run can be
watched and an interrupted one keeps what was finished. Every number is computed in this run.
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ranvis._version import __version__
from ranvis.experiments import report_html

#: (module name under ranvis.experiments, what it reproduces), in the order they run.
FIGURES = (("fig12", "Figures 1-2"), ("fig3", "Figure 3"), ("fig4", "Figure 4"),
           ("fig5", "Figure 5"), ("fig6", "Figures 6-7"))
REQUIRED = ("title", "figures", "numbers", "settings", "seconds", "verdict")
NOT_AVAILABLE = "not available in this build"


def load_module(name: str) -> tuple[Any, str]:
    """(module, "") or (None, why): a module absent from this build is "not available"; one
    that exists but fails to import is reported with its error."""
    full = f"ranvis.experiments.{name}"
    try:
        return importlib.import_module(full), ""
    except ModuleNotFoundError as e:
        if e.name == full:
            return None, NOT_AVAILABLE
        raise


def _call_kwargs(fn: Any, offered: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The offered keyword arguments ``fn`` accepts, and the names of those it does not."""
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return offered, []
    taken = {k: v for k, v in offered.items() if k in params}
    return taken, [k for k in offered if k not in params]


def _check(result: Any, folder: Path) -> str:
    """'' if ``result`` keeps the experiment contract (see BRIEF), else what is wrong."""
    if not isinstance(result, dict):
        return f"run() returned {type(result).__name__}, not a dict"
    missing = [k for k in REQUIRED if k not in result]
    if missing:
        return f"run() result lacks {', '.join(missing)}"
    absent = [f for f in result["figures"] if not (folder / f).is_file()]
    if absent:
        return f"figure files not written: {', '.join(absent)}"
    try:
        json.dumps(result)
    except (TypeError, ValueError) as e:
        return f"run() result is not JSON-able: {e}"
    return ""


def run_figure(name: str, out_dir: Path, quick: bool, size: int | None, iters: int | None,
               trained: Any, device: str, trained_path: str | None = None) -> dict[str, Any]:
    """Run one figure module into ``out_dir/name``; returns its results entry (never raises for
    a module's own failure: the entry says ``status: failed`` with the error)."""
    t0 = time.perf_counter()
    entry: dict[str, Any] = {"module": f"ranvis.experiments.{name}", "dir": name}
    try:
        mod, why = load_module(name)
        if mod is None:
            return {**entry, "status": "not available", "reason": why}
        offered = {"quick": quick, "size": size, "trained": trained, "device": device}
        if iters is not None:
            offered["iters"] = iters
        if trained is None:
            del offered["trained"]
        else:  # modules that run cells in other processes (fig3) load the weights from the file
            offered["trained_weights"] = trained_path
        kwargs, ignored = _call_kwargs(mod.run, offered)
        ignored = [k for k in ignored if k != "trained_weights"]  # an offer, not an override
        result = mod.run(out_dir / name, **kwargs)
        problem = _check(result, out_dir / name)
        if problem:
            return {**entry, "status": "failed", "error": problem,
                    "wall_seconds": round(time.perf_counter() - t0, 2)}
        shown = {k: (trained_path if k == "trained" else v) for k, v in kwargs.items()
                 if k != "trained_weights"}
        return {**entry, **result, "status": "ok", "call_kwargs": shown,
                "ignored_overrides": ignored, "wall_seconds": round(time.perf_counter() - t0, 2)}
    except Exception as e:  # a failing figure must not take the others down; it is reported
        tb = traceback.format_exc()
        print(tb, file=sys.stderr)
        first = str(e).splitlines()[0] if str(e) else ""
        return {**entry, "status": "failed", "error": f"{type(e).__name__}: {first}",
                "traceback": tb.splitlines()[-12:],
                "wall_seconds": round(time.perf_counter() - t0, 2)}


def environment(device: str) -> dict[str, Any]:
    """What the wall times depend on: versions, device, threads, machine load."""
    import torch

    env = {"ranvis": __version__, "python": platform.python_version(), "torch": torch.__version__,
           "platform": platform.platform(), "device": device, "cpu_count": os.cpu_count(),
           "torch_threads": torch.get_num_threads(),
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset")}
    if device.startswith("cuda"):
        env["gpu"] = torch.cuda.get_device_name(0)
    return env


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def default_command(out_dir: Path, quick: bool, trained_weights: Any, size: int | None,
                    iters: int | None) -> str:
    """The ``ranvis reproduce`` command line that gives this report."""
    parts = ["ranvis", "reproduce"] + (["--quick"] if quick else [])
    if trained_weights is not None:
        parts += ["--trained-weights", str(trained_weights)]
    parts += [f"--size {size}"] if size is not None else []
    parts += [f"--iters {iters}"] if iters is not None else []
    return " ".join([*parts, "-o", str(out_dir)])


def _header(out: Path, quick: bool, trained_weights: str | Path | None,
            overrides: dict[str, int | None], dev: str, command: str) -> dict[str, Any]:
    """results.json before any figure: what runs, where, every figure pending."""
    return {
        "report": "ranvis reproduce", "out_dir": str(out), "mode": "quick" if quick else "full",
        "quick": quick, "command": command, "overrides": overrides,
        "trained_weights": str(trained_weights) if trained_weights is not None else None,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_start": _load(), "environment": environment(dev),
        "figures": {name: {"status": "pending", "label": label} for name, label in FIGURES}}


def _write(out: Path, results: dict[str, Any], t0: float, done: bool) -> None:
    """results.json and index.html as they stand (atomic): after every figure, so an
    interrupted report keeps what finished."""
    from ranvis.io.record import atomic_write, write_json

    results["seconds"] = round(time.perf_counter() - t0, 2)
    results["finished"] = done
    results["load_average_now"] = _load()
    write_json(out / "results.json", results)
    page = report_html.page(results, dict(FIGURES))
    atomic_write(out / "index.html", lambda p: p.write_text(page, encoding="utf-8"))


def reproduce(out_dir: str | Path, quick: bool, trained_weights: str | Path | None = None,
              size: int | None = None, *, iters: int | None = None, device: str = "auto",
              command: str | None = None, progress: bool = True) -> Path:
    """Run fig12, fig3, fig4, fig5, fig6 into ``out_dir``; returns the path of ``index.html``.

    ``quick``: each module's quick settings (smaller images, fewer iterations and samples; the
    whole report in <= 10 min on 2 CPU cores). ``size``/``iters``: expert overrides passed to
    every module that accepts them (tests use tiny values). ``trained_weights``: a local
    torchvision VGG-19 state dict, loaded once (``nets.trained.load_trained``, never downloads).
    """
    from ranvis.nets.trained import load_trained
    from ranvis.tasks import resolve_device

    out = Path(out_dir)
    dev = str(resolve_device(device))
    trained = load_trained(trained_weights, dev) if trained_weights is not None else None
    results = _header(out, quick, trained_weights, {"size": size, "iters": iters}, dev,
                      command or default_command(out, quick, trained_weights, size, iters))
    t0 = time.perf_counter()
    _write(out, results, t0, False)
    for name, label in FIGURES:
        if progress:
            print(f"reproduce: {name} ({label}) ...", file=sys.stderr, flush=True)
        entry = run_figure(name, out, quick, size, iters, trained, dev,
                           results["trained_weights"])
        results["figures"][name] = {"label": label, **entry}
        if progress:
            print(f"reproduce: {name} {entry['status']} in {entry.get('wall_seconds', 0):.1f} s",
                  file=sys.stderr, flush=True)
        _write(out, results, t0, False)
    _write(out, results, t0, True)
    from ranvis.experiments.common import clear_inversions

    clear_inversions()  # Figures 1-2 used them; nothing else needs them
    return out / "index.html"


def failed(results_json: str | Path) -> list[str]:
    """Names of the figures whose status is ``failed`` in a results.json."""
    data = json.loads(Path(results_json).read_text())
    return [n for n, e in data["figures"].items() if e.get("status") == "failed"]


__all__ = ["FIGURES", "NOT_AVAILABLE", "failed", "load_module", "reproduce", "run_figure"]
