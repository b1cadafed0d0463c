"""Receptive fields of timm's stride taps: what ``ranvis layers`` now shows, and its cost
against the earlier method.

    OMP_NUM_THREADS=1 python benchmarks/timm_receptive.py [--plan benchmarks/plans/atlas-heldout.toml]
        [--no-before] [--names resnet18,densenet201]

**After** (``Arch.receptive_field``, nets.timmlayout): a symbolic torch.fx trace of the
architecture's own meta-device feature model (timm truncates it after the last tap), walked by
nets.receptive; each tap is one of the traced model's outputs, and its value stands only where
the walk's stride equals timm's reduction ("?" otherwise, with the reason). Timed: the first
call on an architecture whose layout ``ranvis layers`` builds anyway (the trace and the walk),
and a second call (the process cache).

**Before** (the 2026-12-06 method, ``benchmarks/atlas/receptive.md``): nets.graph.GraphLayout
of the *full* classification model (torchvision's feature extractor traced twice, a reference
pass of torch.fx.Interpreter on ``meta``), each tap read at the last traced node inside timm's
feature module, with the same stride check. Timed from building the model.

Prints a Markdown table: both results, their CPU seconds, and whether they agree.
"""
from __future__ import annotations

import argparse
import time


def before(name: str) -> list[str]:
    """The 2026-12-06 method's cell per stride tap (module doc): "N", "?" or "-"."""
    import torch

    from ranvis.nets.graph import GraphLayout
    from ranvis.nets.timmlayout import import_timm

    timm = import_timm()
    with torch.device("meta"):
        feats = timm.create_model(name, pretrained=False, features_only=True)
    info = feats.feature_info
    nodes = GraphLayout(lambda: timm.create_model(name, pretrained=False)).nodes()
    out = []
    for module, stride in zip(info.module_name(), info.reduction(), strict=True):
        inside = [t for t in nodes if t.name == module or t.name.startswith(module + ".")]
        tap = inside[-1] if inside else None
        out.append("-" if tap is None or tap.receptive_field is None else
                   "?" if tap.stride != stride else str(tap.receptive_field))
    return out


def after(name: str) -> tuple[list[str], str, float, float]:
    """(cell per tap, the reason for any "?", CPU s of the first call, CPU s of a second)."""
    from ranvis.nets import get_arch
    from ranvis.nets.arch import ReceptiveFieldUnknown

    arch = get_arch(f"timm:{name}")
    taps = [t.name for t in arch.nodes()]
    cells, why = [], ""
    t0 = time.process_time()
    for t in taps:
        try:
            rf = arch.receptive_field(t)
            cells.append("-" if rf is None else str(rf))
        except ReceptiveFieldUnknown as e:
            cells.append("?")
            why = str(e)
    t1 = time.process_time()
    for t in taps:
        try:
            arch.receptive_field(t)
        except ReceptiveFieldUnknown:
            pass
    return cells, why, t1 - t0, time.process_time() - t1


def _row(name: str, with_before: bool) -> str:
    cells, why, first, again = after(name)
    row = f"| {name} | {' '.join(cells)} | {first:.3f} | {again * 1e6:.0f} µs |"
    if with_before:
        t = time.process_time()
        try:
            old = before(name)
            same = "yes" if old == cells else "no"
        except Exception as e:  # noqa: BLE001 -- fx refuses many ways; name the model, go on
            old, same = [f"not traced ({type(e).__name__})"], "-"
        row += f" {' '.join(old)} | {time.process_time() - t:.1f} | {same} |"
    return row + f" {why} |"


def main() -> None:
    import tomllib

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--plan", default="benchmarks/plans/atlas-heldout.toml")
    p.add_argument("--names", default=None, help="comma-separated timm names instead of a plan")
    p.add_argument("--no-before", action="store_true", help="skip the earlier method")
    a = p.parse_args()
    if a.names:
        names = a.names.split(",")
    else:
        with open(a.plan, "rb") as f:
            names = [n.removeprefix("timm:") for t in tomllib.load(f)["arch"] for n in t["name"]]
    head = "| architecture | receptive field (px) per tap, now | first call CPU s | cached |"
    rule = "|---|---|---|---|"
    if not a.no_before:
        head += " before (GraphLayout of the full model) | before CPU s | same |"
        rule += "---|---|---|"
    print(head + " why ? |\n" + rule + "---|", flush=True)
    for name in names:
        print(_row(name, not a.no_before), flush=True)


if __name__ == "__main__":
    main()
