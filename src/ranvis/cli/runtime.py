"""What every ``ranvis`` subcommand shares at run time: exit statuses, signals, output checks,
checked image loading, checkpoints and the end of a run. cli.py builds the parsers; this module
makes a run safe, so a new subcommand inherits all of it through :func:`guarded` (which
``cli.main`` wraps around every command) and the helpers below.

Exit statuses: 0 done; 1 a bug (a traceback; please report it); 2 bad input or usage (one line
on stderr, nothing written); 3 stopped by a numerical fault (the best finite image and its
record are written); 130 interrupted by SIGINT, 143 by SIGTERM (128 + the signal number: the
best image so far and its record, ``"interrupted": true``, are written). A second signal quits
at once; every file is written atomically, so none is left half-written.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ranvis import defaults as D
from ranvis.errors import InputError, InputNotice

EXIT_OK, EXIT_INPUT, EXIT_FAULT, EXIT_INTERRUPTED = 0, 2, 3, 130
OUTPUT_ARGS = ("output", "checkpoint")  # options naming what a command writes: checked first
# Options that do not change what a run computes: a checkpoint may be continued with other values.
RUN_CONTROL_ARGS = {"output", "checkpoint", "checkpoint_every", "iters", "save_every", "device",
                    "func", "extra_callbacks"}


class UsageError(Exception):
    """argparse's complaint, carried to main() so it prints as one line."""


class Interrupted(KeyboardInterrupt):
    """The first SIGINT or SIGTERM: optimize() stops and the best image so far is written."""


class Quit(BaseException):
    """A second signal: leave at once (atomic writes leave no partial file behind)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Signals:
    """SIGINT/SIGTERM handlers for one command; remembers the first signal's number.

    The first signal raises :class:`Interrupted` (a KeyboardInterrupt, so optimize() returns
    the best so far); the second raises :class:`Quit`. The old handlers come back on exit.
    Python drops an exception raised while a ``__del__`` or a weakref callback runs, so a
    signal can land where its exception is lost: :meth:`check`, one of every run's callbacks
    (:func:`callbacks`), raises it again at the next evaluation.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self.saved: dict[int, Any] = {}

    @property
    def status(self) -> int:
        return 128 + self.received[0] if self.received else EXIT_INTERRUPTED

    @property
    def name(self) -> str:
        return signal.Signals(self.received[0]).name if self.received else "SIGINT"

    def handle(self, signum: int, _frame: object) -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            raise Interrupted(signal.Signals(signum).name)
        raise Quit(128 + signum)

    def check(self, _step: object = None) -> None:
        """A loop callback: :class:`Interrupted` once a signal has been received."""
        if self.received:
            raise Interrupted(self.name)

    def __enter__(self) -> Signals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self.handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self.saved.items():
            signal.signal(sig, old)


signals = Signals()  # the running command's; replaced by each guarded() call


def check_outputs(a: argparse.Namespace) -> None:
    """InputError unless every output named by OUTPUT_ARGS can be written (nothing written)."""
    from ranvis.io.record import check_writable

    for name in OUTPUT_ARGS:
        if getattr(a, name, None) is not None:
            check_writable(getattr(a, name))


def _out_of_memory(e: BaseException) -> bool:
    torch = sys.modules.get("torch")
    oom = (getattr(torch, "OutOfMemoryError", MemoryError),) if torch else ()
    return isinstance(e, (MemoryError, *oom)) or (
        isinstance(e, RuntimeError) and "can't allocate memory" in str(e))


def _show_notice(message: Warning | str, category: type[Warning], *rest: Any, **kw: Any) -> None:
    """An InputNotice as one ``ranvis: note:`` line; other warnings as Python shows them."""
    if issubclass(category, InputNotice):
        print(f"ranvis: note: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, *rest[:2]))


def guarded(command: Callable[[], int]) -> int:
    """Run ``command`` under :class:`Signals`; turn bad input, signals and running out of memory
    into one stderr line and an exit status. Other exceptions are bugs and propagate."""
    global signals
    try:
        with Signals() as signals, warnings.catch_warnings():
            warnings.simplefilter("always", InputNotice)
            warnings.showwarning = _show_notice
            return command()
    except (UsageError, InputError) as e:
        print(f"ranvis: error: {' '.join(str(e).split())}", file=sys.stderr)
        return EXIT_INPUT
    except Quit as q:
        print("ranvis: quit at once (second signal); files already written are complete",
              file=sys.stderr)
        return q.status
    except KeyboardInterrupt:
        print(f"ranvis: interrupted by {signals.name} outside the optimization; files already "
              "written are complete", file=sys.stderr)
        return signals.status
    except Exception as e:
        if not _out_of_memory(e):
            raise
        print("ranvis: error: ran out of memory; use a smaller --size (or fewer or shallower "
              "layers)", file=sys.stderr)
        return EXIT_INPUT


def load_image(path: str, size: int | None, layers: Sequence[str] = (),
               gram_layers: Sequence[str] = (), *, optimizer: str = "none",
               fix: str | None = None, arch: str = "vgg19") -> Any:
    """Load an image for a task that matches features at ``layers`` and Gram matrices at
    ``gram_layers`` of architecture ``arch``, resized so its longer side is ``size``.
    InputError, before any work, if the image at its own resolution is smaller than
    D.MIN_IMAGE_SIDE or than the deepest layer needs (upscaling adds no detail), or if the
    resized image would not fit in memory (checked before resizing, with the estimate the task
    itself checks; ``fix`` replaces the hint's --size).
    """
    from ranvis.io.images import load, resize
    from ranvis.nets import get_arch
    from ranvis.platform.memory import check_memory

    a = get_arch(arch)
    deepest = a.check_taps([*layers, *gram_layers])[-1]  # in forward order
    img = load(path)
    h, w = img.shape[-2:]
    need = max(D.MIN_IMAGE_SIDE, a.min_input(deepest))  # VGG's fc layers: that of pool5
    if min(h, w) < need:
        raise InputError(f"image {path} is {w}x{h}, too small for {deepest}: it needs at least "
                         f"{need} px on each side before resizing; give a larger image")
    if size is None or max(h, w) == size:
        return img
    th, tw = max(1, round(h * size / max(h, w))), max(1, round(w * size / max(h, w)))  # as resize
    check_memory(th, tw, layers, gram_layers=gram_layers, optimizer=optimizer, fix=fix, arch=arch)
    return resize(img, size)


def fingerprint(a: argparse.Namespace) -> dict[str, Any]:
    """The options that shape a run's result (for checkpoints): all but RUN_CONTROL_ARGS."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(vars(a).items())
            if k not in RUN_CONTROL_ARGS}


def resume(a: argparse.Namespace) -> Any:
    """The :class:`~ranvis.optim.loop.Resume` in ``--checkpoint`` (None without one, or before
    its first save); InputError for a foreign file or another command's checkpoint."""
    if getattr(a, "checkpoint", None) is None:
        return None
    from ranvis.optim.checkpoint import load_resume

    return load_resume(a.checkpoint, fingerprint(a))


def callbacks(a: argparse.Namespace, desc: str, resumed: Any = None) -> list[Callable[[Any], None]]:
    """Progress bar, ``--save-every`` snapshots, the ``--checkpoint`` writer, and any
    ``extra_callbacks`` a caller set on ``a`` (ranvis serve's live view)."""
    from ranvis.optim.callbacks import Progress, Snapshots

    done = len(resumed.losses) if resumed is not None else 0
    cbs: list[Callable[[Any], None]] = [signals.check,
                                        Progress(a.iters, desc, initial=min(done, a.iters))]
    if getattr(a, "save_every", None):
        cbs.append(Snapshots(a.output, a.save_every))
    if getattr(a, "checkpoint", None) is not None:
        from ranvis.optim.checkpoint import Checkpoint

        cbs.append(Checkpoint(a.checkpoint, a.checkpoint_every, fingerprint(a), resumed))
    return cbs + list(getattr(a, "extra_callbacks", ()))


def finish(a: argparse.Namespace, run: Any, cbs: list[Any], extra: dict[str, Any]) -> int:
    """Close the callbacks (a checkpoint writes its last state), write the image and its record,
    say how the run ended; returns the exit status (0, 3, or 128 + the signal)."""
    from ranvis.io.record import environment, save_run

    for cb in cbs:
        getattr(cb, "sync", lambda _result: None)(run.result)  # checkpoint.Checkpoint.sync
        getattr(cb, "close", lambda: None)()
    rec = run.record
    rec["settings"].update(extra)
    rec.setdefault("environment", environment(rec["settings"].get("threads")))
    if rec["interrupted"]:
        rec["signal"] = signals.name
    save_run(a.output, run.image, rec)
    m = rec.get("metrics", {})
    shown = ", ".join(f"{k} {v:.3f}" for k, v in m.items() if isinstance(v, float))
    print(f"wrote {a.output} ({rec['iterations']} iterations, "
          f"{rec['seconds']:.1f} s{', ' + shown if shown else ''})", file=sys.stderr)
    faults = len(rec["faults"])
    if rec["stopped"] == "numerical fault":
        print(f"ranvis: stopped: the loss or gradient was not finite {faults} times (see "
              f"'faults' in the record); the best finite image is written; try --optimizer adam, "
              f"another --seed, or a --sigma nearer 0.015", file=sys.stderr)
        return EXIT_FAULT
    if faults:
        print(f"ranvis: warning: recovered from {faults} numerical fault(s) by restarting the "
              f"optimizer from the last finite image (see 'faults' in the record)", file=sys.stderr)
    if rec["interrupted"]:
        again = (f"; run the same command again to continue from {a.checkpoint}"
                 if getattr(a, "checkpoint", None) is not None else "")
        print(f"ranvis: interrupted by {rec['signal']} after {rec['iterations']} iterations; "
              f"the best image so far is written{again}", file=sys.stderr)
        return signals.status
    return EXIT_OK
