"""Receptive fields and strides from a torch.fx graph, analytically: nothing is computed.

The walk visits the graph in forward order and keeps, per node, (receptive field, jump): the
side in input pixels one output unit sees, and the input pixels between two neighbouring output
units. A conv or pool of kernel k, stride s, dilation d seen through jump j grows the receptive
field by (k − 1)·d·j and multiplies the jump by s; element-wise ops, additions, concatenations
and the like take the largest receptive field (and jump) of their inputs; adaptive (global)
pooling, flattening and a spatial mean make it the whole input (None). Branches that end in a
global pooling (a squeeze-excitation gate) do not widen the local receptive field they
multiply. Functional max and average pooling (``F.max_pool2d``, ``F.avg_pool2d``) count as
windows too. Upsampling is not read (``nn.Upsample``, ``F.interpolate`` keep the jump): where
it joins branches of different strides the field of a unit depends on its position, which
one side and one jump cannot say (HRNet's fused branches: the measured field of a stride-4
unit exceeds what a walk treating the upsampled branches as centred gives), so a caller that
knows the true stride (nets.timmlayout) reports such taps as unknown. The side is the
kernels' first (height) dimension.

Used by nets.graph.GraphLayout (torchvision's networks, the multi-scale network) and by
nets.timmlayout (a timm feature model's stride taps, traced when first asked for).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from torch import fx, nn
from torch.fx.operator_schemas import normalize_function
from torch.nn import functional as F

GLOBAL_MODULES = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten)
WINDOW_MODULES = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)
POOL_FUNCTIONS = (F.max_pool2d, F.avg_pool2d, F.max_pool2d_with_indices)
Info = tuple[int | None, int]  # (receptive field or None, jump)


def _pair(v: Any) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def _is_global_function(node: fx.Node) -> bool:
    name = getattr(node.target, "__name__", str(node.target))
    return name in ("flatten", "adaptive_avg_pool2d", "adaptive_max_pool2d", "mean")


def _window(rf: int | None, jump: int, k: Any, s: Any, d: Any = 1) -> Info:
    if rf is None:
        return rf, jump
    return rf + (_pair(k) - 1) * _pair(d) * jump, jump * _pair(s)


def through(module: nn.Module, rf: int | None, jump: int) -> Info:
    """(receptive field, jump) after a leaf module: its own window, or those of the modules
    inside it in order (torchvision's Conv2dNormActivation is a leaf of the traced graph)."""
    for m in module.modules():
        if isinstance(m, GLOBAL_MODULES):
            rf = None
        elif isinstance(m, WINDOW_MODULES):
            rf, jump = _window(rf, jump, m.kernel_size, m.stride, getattr(m, "dilation", 1))
    return rf, jump


def _function(node: fx.Node, rf: int | None, jump: int) -> Info:
    """(receptive field, jump) after a call_function node: a functional pooling, a global
    reduction or (anything else) the inputs' own."""
    if _is_global_function(node):
        return None, jump
    if node.target not in POOL_FUNCTIONS:
        return rf, jump
    norm = normalize_function(node.target, node.args, node.kwargs,  # type: ignore[arg-type]
                              normalize_to_only_use_kwargs=True)
    kw = norm.kwargs if norm is not None else {}
    if not isinstance(kw.get("kernel_size"), (int, tuple, list)):
        return rf, jump  # a window it cannot read: a caller's stride check tells
    return _window(rf, jump, kw["kernel_size"], kw.get("stride") or kw["kernel_size"],
                   kw.get("dilation", 1))


def walk(graph: fx.Graph, root: nn.Module) -> dict[fx.Node, Info]:
    """(receptive field or None, jump) of every node of ``graph`` (traced from ``root``, whose
    submodules its call_module nodes name), in forward order (module doc)."""
    info: dict[fx.Node, Info] = {}
    for node in graph.nodes:
        ins = [info[a] for a in node.all_input_nodes if a in info and a.op != "get_attr"]
        local = [i for i in ins if i[0] is not None]
        rf, jump = (max(r for r, _ in local), max(j for _, j in local)) if local else (
            (None, max((j for _, j in ins), default=1)) if ins else (1, 1))
        if node.op == "call_module":
            rf, jump = through(root.get_submodule(str(node.target)), rf, jump)
        elif node.op == "call_function":
            rf, jump = _function(node, rf, jump)
        elif node.op == "call_method" and _is_global_function(node):
            rf = None
        info[node] = (rf, jump)
    return info


def output_nodes(graph: fx.Graph) -> list[fx.Node | None]:
    """The nodes ``graph`` returns, in order: the elements of a returned list, tuple or dict
    (a single node as a list of one; None for anything that is not a node)."""
    out = next(n for n in graph.nodes if n.op == "output").args[0]
    items: Sequence[Any] = (list(out.values()) if isinstance(out, dict) else
                            list(out) if isinstance(out, (list, tuple)) else [out])
    return [n if isinstance(n, fx.Node) else None for n in items]


class LeafTracer(fx.Tracer):
    """torch.fx's tracer with extra leaf module types (called, not traced into) and functions
    kept as single calls (as timm's own feature extraction traces its models); ``math`` is
    wrapped as torchvision's feature extractor does. Every conv and pool module, subclasses
    included (timm's weight-standardized convs call ``F.conv2d`` themselves), is a leaf, so
    the walk reads its window. A leaf type holding windows of its own is traced into unless
    ``windowed_leaves`` (the walk reads a leaf's inner windows in order, which miscounts
    parallel branches: timm's NormFreeBlock)."""

    def __init__(self, leaf_modules: Sequence[type] = (), autowrap_functions: Sequence[Any] = (),
                 windowed_leaves: bool = False) -> None:
        super().__init__(autowrap_modules=(math,), autowrap_functions=tuple(autowrap_functions))
        self.leaf_types = tuple(leaf_modules)
        self.windowed_leaves = windowed_leaves

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if isinstance(m, WINDOW_MODULES):
            return True
        if isinstance(m, self.leaf_types):
            return self.windowed_leaves or not any(
                isinstance(c, (*WINDOW_MODULES, *GLOBAL_MODULES)) for c in m.modules())
        return super().is_leaf_module(m, module_qualified_name)


def module_node(graph: fx.Graph, qualname: str, pre: bool = False) -> fx.Node | None:
    """The node holding module ``qualname``'s output (the last node traced inside it), or with
    ``pre`` its input (what its first node reads from outside it); None if none is traced."""
    inside = [n for n in graph.nodes if n.op != "output" and any(
        v[0] == qualname for v in (n.meta.get("nn_module_stack") or {}).values())]
    if not inside:
        return None
    if not pre:
        return inside[-1]
    outer = [a for a in inside[0].all_input_nodes if a not in set(inside)]
    return outer[0] if outer else None


def trace_walk(model: nn.Module, tracer: fx.Tracer) -> tuple[fx.Graph, dict[fx.Node, Info]]:
    """A symbolic trace of ``model`` and the walk of it: no tensor is made or computed, so a
    model built on the ``meta`` device does. Whatever the tracer raises (torch.fx refuses
    control flow on tensor values) goes to the caller."""
    graph = tracer.trace(model)
    return graph, walk(graph, model)


def trace_outputs(model: nn.Module, tracer: fx.Tracer) -> list[Info | None]:
    """(receptive field, jump) of each output of ``model`` (a tensor, or a list, tuple or dict
    of them) by :func:`trace_walk`; None for an output that is not a traced node."""
    graph, info = trace_walk(model, tracer)
    return [info[n] if n is not None else None for n in output_nodes(graph)]
