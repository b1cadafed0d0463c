"""Receptive fields of timm's stride taps, from the analytic walk of nets/graph.py.

    python benchmarks/timm_receptive.py [--plan benchmarks/plans/atlas-heldout.toml]

For each timm architecture of the plan: the full model is traced on the ``meta`` device
(nets.graph.GraphLayout: torch.fx through torchvision's feature extractor; nothing computed), and
each stride tap (timm's ``feature_info``: the module whose output is the tap) is read at the
last traced node inside that module. The walk grows the receptive field through every
nn.Conv2d / MaxPool2d / AvgPool2d and takes the largest over branches. A value is printed only
where the walk's own stride equals timm's reduction for the tap (a check that no window was
missed, e.g. a functional pooling); otherwise "?" with the walk's stride. Models torch.fx cannot
trace (control flow on tensors) are named. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import time
from typing import Any


def receptive(name: str) -> list[str]:
    """"RF (walk stride)" per stride tap of timm's ``name`` (module doc)."""
    from ranvis.nets.graph import GraphLayout
    from ranvis.nets.timmlayout import import_timm

    timm = import_timm()
    with _meta():
        feats = timm.create_model(name, pretrained=False, features_only=True)
    info = feats.feature_info
    layout = GraphLayout(lambda: timm.create_model(name, pretrained=False))
    nodes = layout.nodes()
    out = []
    for module, stride in zip(info.module_name(), info.reduction(), strict=True):
        inside = [t for t in nodes if t.name == module or t.name.startswith(module + ".")]
        tap = inside[-1] if inside else None
        if tap is None or tap.receptive_field is None:
            out.append(f"s{stride}: –")
        elif tap.stride != stride:
            out.append(f"s{stride}: ? (walk stride {tap.stride})")
        else:
            out.append(f"s{stride}: {tap.receptive_field}")
    return out


def _meta() -> Any:
    import torch

    return torch.device("meta")


def main() -> None:
    import tomllib

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--plan", default="benchmarks/plans/atlas-heldout.toml")
    a = p.parse_args()
    with open(a.plan, "rb") as f:
        names = [n for t in tomllib.load(f)["arch"] for n in t["name"]]
    print("| architecture | receptive field (px) per stride tap | CPU s |\n|---|---|---|")
    for label in names:
        name = label.removeprefix("timm:")
        t = time.process_time()
        try:
            cells = "; ".join(receptive(name))
        except Exception as e:  # noqa: BLE001 -- fx refuses many ways; name the model, go on
            cells = f"not traced ({type(e).__name__})"
        print(f"| {name} | {cells} | {time.process_time() - t:.1f} |", flush=True)


if __name__ == "__main__":
    main()
