"""The trained reference: ImageNet-1k top-1 of each architecture trained on ImageNet-1k alone
(``ranvis/data/imagenet_top1.csv``; its header says where each number comes from and when:
timm's published results table and torchvision's documented accuracies, made by
``scripts/imagenet_top1.py``), and the join of a study's per-architecture scores to it.

The join never drops an architecture silently: :func:`join` returns the ones the table lacks,
and the leaderboard lists them.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

TABLE = "data/imagenet_top1.csv"


@dataclass(frozen=True)
class Trained:
    """One row of the table: ``top1`` in %, ``family`` (VGG, ResNet, …), the pretrained
    ``tag`` it was measured with, its evaluation ``img_size`` and ``source`` (timm|torchvision)."""

    arch: str
    family: str
    top1: float
    tag: str
    img_size: int
    source: str


def parse_table(text: str) -> dict[str, Trained]:
    """The rows of a table in the shipped file's format (``#`` lines are its header)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    out = {}
    for r in csv.DictReader(lines):
        out[r["arch"]] = Trained(r["arch"], r["family"], float(r["top1"]), r["tag"],
                                 int(r["img_size"]), r["source"])
    return out


@cache
def top1_table() -> dict[str, Trained]:
    """The shipped table, by architecture name (``vgg19``, ``timm:resnet50``, …)."""
    return parse_table(resources.files("ranvis").joinpath(TABLE).read_text("utf-8"))


def header() -> list[str]:
    """The shipped table's header lines (source and date), without the ``#``."""
    text = resources.files("ranvis").joinpath(TABLE).read_text("utf-8")
    return [ln.lstrip("# ").rstrip() for ln in text.splitlines() if ln.startswith("#")]


@dataclass(frozen=True)
class Joined:
    """Points with a trained top-1 (``label``, ``arch``, ``family``, ``score``, ``top1``), the
    architectures the table lacks (``missing``, sorted) and the labels whose score is not finite
    (``unscored``: e.g. synflow's −inf where bounded activations stop every gradient)."""

    points: list[dict[str, Any]]
    missing: list[str]
    unscored: list[str]


def join(scores: dict[str, tuple[str, float]],
         table: dict[str, Trained] | None = None) -> Joined:
    """Join {label: (architecture name, score)} to the trained table by architecture name.
    Labels whose architecture the table lacks are reported in ``missing``, never dropped
    silently; labels whose score is not finite are left out of ``points`` (no score)."""
    import math

    table = top1_table() if table is None else table
    points, missing, unscored = [], set(), []
    for label, (arch, score) in scores.items():
        row = table.get(arch)
        if row is None:
            missing.add(arch)
        elif math.isfinite(score):
            points.append({"label": label, "arch": arch, "family": row.family, "score": score,
                           "top1": row.top1})
        else:
            unscored.append(label)
    return Joined(points, sorted(missing), sorted(unscored))
