"""The package layout (issue 30): the top of ``src/ranvis`` holds only the package's face, no
package imports one above it, and modules import each other without cycles. Read from the
source with ``ast`` (imports inside functions count too), so nothing is imported here."""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
FACE = {"__init__", "__main__", "_version", "api", "presets", "errors", "defaults"}
#: each package, and the packages it may import (besides the face); read downward
LAYERS = {
    "io": set(),
    "nets": {"io"},
    "platform": {"nets"},
    "objectives": {"io", "nets"},
    "optim": {"io", "platform"},
    "tasks": {"io", "nets", "platform", "objectives", "optim"},
    "study": {"io", "nets", "objectives", "tasks"},
    "experiments": {"io", "nets", "platform", "objectives", "optim", "tasks", "study"},
}
def _modules() -> dict[str, Path]:
    out = {}
    for p in (SRC / "ranvis").rglob("*.py"):
        name = ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        out[name] = p
    return out


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in subs if t in mods] + (
                    [node.module] if any(t not in mods for t in subs) else [])
            else:
                continue
            graph[m] |= {t for t in targets if t in mods and t not in (m, "ranvis")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = {stack.pop()}
            while v not in comp:
                comp.add(stack.pop())
            if len(comp) > 1:
                out.append(frozenset(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_top_level_holds_only_the_face() -> None:
    top = {p.stem for p in (SRC / "ranvis").glob("*.py")}
    assert top == FACE, f"modules at the top that belong in a package: {sorted(top - FACE)}"


def test_no_package_imports_one_above_it() -> None:
    bad = []
    for m, targets in _graph().items():
        parts = m.split(".")
        if len(parts) < 3 or parts[1] not in LAYERS:
            continue
        for t in targets:
            pkg = t.split(".")[1] if t.count(".") else ""
            if pkg in LAYERS and pkg != parts[1] and pkg not in LAYERS[parts[1]]:
                bad.append(f"{m} -> {t}")
            if pkg == "cli":
                bad.append(f"{m} -> {t} (a library module imports the command line)")
    assert not bad, bad


def test_no_import_cycle() -> None:
    found = _cycles(_graph())
    assert not found, [sorted(c) for c in found]
