"""Checkpoints: a long run saved every N iterations (and when it stops), so that the same
command, run again with the same ``--checkpoint``, continues where it stopped.

A checkpoint holds the last point evaluated (unclamped: L-BFGS runs unprojected), the lowest-loss image so far, the loss and term
histories, and a fingerprint of the command (every option that shapes the result). It is one
``torch.save`` file written atomically (temporary file + rename), so an interruption while
saving leaves the previous checkpoint intact. The optimizer's own state is not kept: a continued
L-BFGS rebuilds its curvature history, and its first iteration re-evaluates the saved image.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch

from ranvis.errors import InputError
from ranvis.io.record import atomic_write
from ranvis.optim.loop import Result, Resume, Step

FORMAT = 1


def _fingerprint_text(fingerprint: dict[str, Any]) -> str:
    return json.dumps(fingerprint, sort_keys=True, default=str)


class Checkpoint:
    """Callback: keeps the run's history and writes a checkpoint every ``every`` iterations;
    :meth:`close` writes the last state (on completion, interruption or a numerical stop)."""

    def __init__(self, path: str | Path, every: int, fingerprint: dict[str, Any],
                 resume: Resume | None = None) -> None:
        self.path, self.every = Path(path), every
        self.fingerprint = _fingerprint_text(fingerprint)
        self.losses: list[float] = list(resume.losses) if resume else []
        self.terms: dict[str, list[float]] = ({k: list(v) for k, v in resume.terms.items()}
                                              if resume else {})
        self.image = resume.image if resume else None
        self.best_image = resume.best_image if resume else None
        self.best_loss = resume.best_loss if resume else math.inf
        self.saved_at = len(self.losses)

    def __call__(self, step: Step) -> None:
        # the point first, the count last: a signal between the two leaves a consistent state
        self.image = step.x if step.x is not None else step.image
        if step.loss < self.best_loss:
            self.best_image, self.best_loss = step.image, step.loss
        for k, v in step.terms.items():
            self.terms.setdefault(k, []).append(v)
        self.losses.append(step.loss)
        if len(self.losses) % self.every == 0:
            self.save()

    def save(self) -> None:
        """Write the checkpoint now (atomically); nothing to write before the first iteration."""
        if self.image is None or self.best_image is None:
            return
        data = {"format": FORMAT, "fingerprint": self.fingerprint,
                "iteration": len(self.losses), "losses": self.losses, "terms": self.terms,
                "image": self.image.detach().cpu(), "best_image": self.best_image.detach().cpu(),
                "best_loss": self.best_loss}
        atomic_write(self.path, lambda p: torch.save(data, p))
        self.saved_at = len(self.losses)

    def sync(self, result: Result) -> None:
        """Take in the run's last evaluation if this callback never saw it: a signal that
        arrives while an earlier callback runs (a ``--save-every`` snapshot being written) stops
        the run after optimize() recorded the evaluation but before this callback was called.
        Then the record and the checkpoint would disagree by one iteration."""
        if len(result.losses) - len(self.losses) != 1 or result.last is None:
            return
        terms = {k: v[-1] for k, v in result.terms.items() if v}
        self(Step(len(self.losses), result.losses[-1], terms, result.last.clamp(0, 1),
                  result.last))

    def close(self) -> None:
        if len(self.losses) != self.saved_at:
            self.save()


def _differing(saved: str, now: str) -> str:
    try:
        a, b = json.loads(saved), json.loads(now)
    except ValueError:
        return "its options differ"
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if not keys:
        return "its options differ"
    return ", ".join(f"--{k.replace('_', '-')}" for k in keys) + (" differ" if len(keys) > 1
                                                                 else " differs")


def load_resume(path: str | Path, fingerprint: dict[str, Any]) -> Resume | None:
    """The :class:`Resume` stored at ``path``, None if there is no file yet.

    Raises InputError (one line) for a directory, an unreadable or foreign file, or a checkpoint
    written by a different command (naming the options that differ).
    """
    p = Path(path)
    if not p.exists():
        return None
    fix = "delete it to start afresh, or give another --checkpoint path"
    if not p.is_file():
        raise InputError(f"checkpoint {p} is not a file; {fix}")
    try:
        d = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a foreign or truncated file
        raise InputError(f"checkpoint {p} cannot be read as a ranvis checkpoint "
                         f"({type(e).__name__}); {fix}") from None
    keys = {"format", "fingerprint", "iteration", "losses", "terms", "image", "best_image",
            "best_loss"}
    if not isinstance(d, dict) or not keys <= set(d) or not isinstance(d["image"], torch.Tensor):
        raise InputError(f"checkpoint {p} is not a ranvis checkpoint; {fix}")
    if d["format"] != FORMAT:
        raise InputError(f"checkpoint {p} has format {d['format']!r}, this ranvis reads "
                         f"{FORMAT}; {fix}")
    now = _fingerprint_text(fingerprint)
    if d["fingerprint"] != now:
        raise InputError(f"checkpoint {p} was written by a different command "
                         f"({_differing(d['fingerprint'], now)}); {fix}")
    return Resume(d["image"], [float(v) for v in d["losses"]],
                  {k: [float(x) for x in v] for k, v in d["terms"].items()},
                  d["best_image"], float(d["best_loss"]))
