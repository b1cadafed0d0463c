"""The layout of a traced module tree: taps, shapes, strides and receptive fields, on ``meta``.

For the torchvision architectures and the multi-scale network. torchvision's
``get_graph_node_names`` lists the nodes (eval mode) and ``create_feature_extractor`` returns all
of them; running that extractor on the ``meta`` device gives every node's shape at any input size
without computing anything (a pass takes ~50 ms for ResNet-50). From it:

* **channels**: a 4-D node's channel count, read from a pass at a 256×320 reference input
  (non-square, so [B, C, H, W] and ConvNeXt's permuted [B, H, W, C] nodes tell themselves apart);
* **stride** and **receptive field**: an analytic walk of the traced graph in forward order:
  a conv or pool of kernel k, stride s, dilation d seen through input jump j grows the receptive
  field by (k − 1)·d·j and multiplies the jump by s; element-wise, add, concatenation and the
  like take the largest receptive field of their inputs; adaptive (global) pooling and flattening
  make it the whole input (None). Branches that end in a global pooling (a squeeze-excitation
  gate) do not widen the local receptive field they multiply;
* **min_input**: the smallest square side at which a node still has at least one position,
  found by bisection with passes that stop at the first failing node (torch.fx.Interpreter);
* **memory**: at the run's own size, the elements of every node the asked taps depend on
  (their ancestors in the graph) and the parameters those nodes use.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any

import torch
from torch import fx, nn

from ranvis.nets._torchvision import import_torchvision
from ranvis.nets.arch import Footprint, Tap

REF_H, REF_W = 256, 320  # reference input of the shape table (multiples of 32, non-square)
MAX_SIDE = 4096  # min_input's search range
GLOBAL_MODULES = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Flatten)
WINDOW_MODULES = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


def torchvision_model(name: str) -> Callable[[], nn.Module]:
    """A maker of torchvision's ``name`` model, untrained (``weights=None``)."""
    def make() -> nn.Module:
        tv = import_torchvision()
        return getattr(tv.models, name)(weights=None)
    return make


def _pair(v: Any) -> int:
    return int(v[0] if isinstance(v, (tuple, list)) else v)


def _is_global_function(node: fx.Node) -> bool:
    name = getattr(node.target, "__name__", str(node.target))
    return name in ("flatten", "adaptive_avg_pool2d", "adaptive_max_pool2d", "mean")


class _Partial(fx.Interpreter):
    """Runs a graph node by node and keeps what it computed when a node fails (too small)."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm, garbage_collect_values=False)

    def run_partial(self, x: torch.Tensor) -> dict[fx.Node, Any]:
        self.env = {}
        try:
            self.run(x)
        except (RuntimeError, ValueError, IndexError):
            pass
        return self.env


class GraphLayout:
    """nets.arch.Layout of a module built by ``make_model()`` (on the meta device)."""

    def __init__(self, make_model: Callable[[], nn.Module]) -> None:
        tv = import_torchvision()
        from torchvision.models.feature_extraction import (
            create_feature_extractor,
            get_graph_node_names,
        )

        del tv
        with torch.device("meta"):
            self.model = make_model().eval()
        names = get_graph_node_names(self.model)[1][1:]  # eval graph, without the input "x"
        self.gm = create_feature_extractor(self.model, names, suppress_diff_warning=True)
        out = next(n for n in self.gm.graph.nodes if n.op == "output")
        self.fx_of: dict[str, fx.Node] = dict(out.args[0])
        self.order = {n: i for i, n in enumerate(self.gm.graph.nodes)}
        ref = self._pass(REF_H, REF_W)
        walk = self._walk()
        self._taps: list[Tap] = []
        for name, node in sorted(self.fx_of.items(), key=lambda kv: self.order[kv[1]]):
            value = ref.get(node)
            if not (isinstance(value, torch.Tensor) and value.dim() in (2, 4)
                    and value.shape[0] == 1) or node.op == "get_attr":
                continue  # a parameter or a non-tensor node: nothing a loss can read
            rf, jump = walk[node]
            self._taps.append(Tap(name, len(self._taps), _channels(value, jump),
                                  jump if value.dim() == 4 else None,
                                  rf if value.dim() == 4 else None, 0, value.dim() == 4))
        self._by_name = {t.name: t for t in self._taps}

    # -- passes on meta --------------------------------------------------------------------
    @lru_cache(maxsize=64)  # noqa: B019 -- one layout per architecture, kept for the process
    def _pass(self, height: int, width: int) -> dict[fx.Node, Any]:
        x = torch.empty(1, 3, height, width, device="meta")
        return _Partial(self.gm).run_partial(x)

    def _ok(self, name: str, side: int) -> bool:
        v = self._pass(side, side).get(self.fx_of[name])
        return isinstance(v, torch.Tensor) and v.numel() > 0 and min(v.shape) > 0

    # -- the analytic walk -----------------------------------------------------------------
    def _walk(self) -> dict[fx.Node, tuple[int | None, int]]:
        """(receptive field or None, jump) of every node, in forward order (module doc)."""
        info: dict[fx.Node, tuple[int | None, int]] = {}
        for node in self.gm.graph.nodes:
            ins = [info[a] for a in node.all_input_nodes if a in info and a.op != "get_attr"]
            local = [i for i in ins if i[0] is not None]
            rf, jump = (max(r for r, _ in local), max(j for _, j in local)) if local else (
                (None, max((j for _, j in ins), default=1)) if ins else (1, 1))
            if node.op == "call_module":
                rf, jump = _through(self.gm.get_submodule(node.target), rf, jump)
            elif node.op in ("call_function", "call_method") and _is_global_function(node):
                rf = None
            info[node] = (rf, jump)
        return info

    # -- Layout ----------------------------------------------------------------------------
    def nodes(self) -> list[Tap]:
        return list(self._taps)

    def node(self, name: str) -> Tap:
        return self._by_name[name]

    def resolve(self, name: str) -> str | None:
        """A node name, or a module name resolved as torchvision's create_feature_extractor
        does: the last node inside that module."""
        if name in self._by_name:
            return name
        inside = [t.name for t in self._taps if t.name.startswith(name + ".")]
        return inside[-1] if inside else None

    @cache  # noqa: B019 -- as _pass
    def min_input(self, name: str) -> int:
        if not self._ok(name, MAX_SIDE):
            return MAX_SIDE
        lo, hi = 1, MAX_SIDE
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if self._ok(name, mid) else (mid + 1, hi)
        return lo

    def out_shape(self, name: str, height: int, width: int) -> tuple[int, ...]:
        v = self._pass(height, width).get(self.fx_of[name])
        if not isinstance(v, torch.Tensor):
            raise ValueError(f"{name} has no output at {width}x{height}")
        return tuple(v.shape)

    def ancestors(self, names: Sequence[str]) -> set[fx.Node]:
        """Every graph node the nodes ``names`` depend on, themselves included."""
        seen: set[fx.Node] = set()
        todo = [self.fx_of[n] for n in names]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(node.all_input_nodes)
        return seen

    def footprint(self, height: int, width: int, taps: Sequence[str]) -> Footprint:
        values = self._pass(height, width)
        used = self.ancestors(taps)
        acts = sum(v.numel() for n, v in values.items() if n in used and n.op != "get_attr"
                   and isinstance(v, torch.Tensor) and v.dim() >= 2 and v.shape[0] == 1)
        params = sum(p.numel() for n in used for p in self._params(n))
        per_tap = {n: values[self.fx_of[n]].numel() if self.fx_of[n] in values else 0
                   for n in taps}
        return Footprint(int(acts), per_tap, int(params))

    def _params(self, node: fx.Node) -> list[torch.Tensor]:
        if node.op == "call_module":
            return list(self.gm.get_submodule(node.target).parameters())
        if node.op == "get_attr":
            obj: Any = self.gm
            for part in str(node.target).split("."):
                obj = getattr(obj, part)
            return [obj] if isinstance(obj, torch.Tensor) else []
        return []

    def representation(self, weighted: str) -> str:
        """The node of module ``weighted``, or of the leaf module holding it."""
        name = weighted
        while name and name not in self._by_name:
            name = name.rpartition(".")[0]
        return name or weighted

    def weighted(self) -> list[tuple[str, tuple[int, ...]]]:
        return [(name, tuple(m.weight.shape)) for name, m in self.model.named_modules()
                if isinstance(m, (nn.Conv2d, nn.Linear))]


def _through(module: nn.Module, rf: int | None, jump: int) -> tuple[int | None, int]:
    """(receptive field, jump) after a leaf module: its own window, or those of the modules
    inside it in order (torchvision's Conv2dNormActivation is a leaf of the traced graph)."""
    for m in module.modules():
        if isinstance(m, GLOBAL_MODULES):
            rf = None
        elif isinstance(m, WINDOW_MODULES) and rf is not None:
            k, s = _pair(m.kernel_size), _pair(m.stride)
            rf, jump = rf + (k - 1) * _pair(getattr(m, "dilation", 1)) * jump, jump * s
    return rf, jump


def _channels(v: torch.Tensor, jump: int) -> int:
    """Channels of a node's reference output: [1, C] / [1, C, H, W], or [1, H, W, C] (ConvNeXt's
    permuted block interior), whichever spatial reading fits the 256×320 input at this jump."""
    if v.dim() == 2:
        return int(v.shape[1])
    s = v.shape

    def miss(h: int, w: int) -> float:
        return abs(h * jump - REF_H) + abs(w * jump - REF_W)

    return int(s[1]) if miss(s[2], s[3]) <= miss(s[1], s[2]) else int(s[3])
