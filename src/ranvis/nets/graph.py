"""The layout of a traced module tree: taps, shapes, strides and receptive fields, on ``meta``.

For the torchvision architectures and the multi-scale network. torchvision's
``get_graph_node_names`` lists the nodes (eval mode) and ``create_feature_extractor`` returns all
of them; running that extractor on the ``meta`` device gives every node's shape at any input size
without computing anything (a pass takes ~50 ms for ResNet-50). From it:

* **channels**: a 4-D node's channel count, read from a pass at a 256×320 reference input
  (non-square, so [B, C, H, W] and ConvNeXt's permuted [B, H, W, C] nodes tell themselves apart);
* **stride** and **receptive field**: the analytic walk of the traced graph (nets.receptive);
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
from ranvis.nets.receptive import walk as receptive_walk

REF_H, REF_W = 256, 320  # reference input of the shape table (multiples of 32, non-square)
MAX_SIDE = 4096  # min_input's search range


def torchvision_model(name: str) -> Callable[[], nn.Module]:
    """A maker of torchvision's ``name`` model, untrained (``weights=None``)."""
    def make() -> nn.Module:
        tv = import_torchvision()
        return getattr(tv.models, name)(weights=None)
    return make


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
        walk = receptive_walk(self.gm.graph, self.gm)
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

    def receptive_field(self, name: str) -> int | None:
        return self._by_name[name].receptive_field

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


def _channels(v: torch.Tensor, jump: int) -> int:
    """Channels of a node's reference output: [1, C] / [1, C, H, W], or [1, H, W, C] (ConvNeXt's
    permuted block interior), whichever spatial reading fits the 256×320 input at this jump."""
    if v.dim() == 2:
        return int(v.shape[1])
    s = v.shape

    def miss(h: int, w: int) -> float:
        return abs(h * jump - REF_H) + abs(w * jump - REF_W)

    return int(s[1]) if miss(s[2], s[3]) <= miss(s[1], s[2]) else int(s[3])
