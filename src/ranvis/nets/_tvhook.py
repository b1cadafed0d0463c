"""Make a plain ``import torchvision`` (and so ``import timm``) work in this environment.

``nets._torchvision`` explains why torchvision's CUDA build fails to import beside a CPU torch
and defines the two missing operator schemas before ranvis's own imports. Code that imports
torchvision itself — timm does at ``import timm`` — does not pass through ranvis, so
:func:`install` puts a finder first on ``sys.meta_path`` that, when ``torchvision`` is first
imported, runs that preparation and then lets the import go on as usual (it finds nothing
itself). It costs nothing until torchvision is imported, and nothing at all where torchvision's
``_C.so`` loads.

``python -m ranvis.nets._tvhook`` writes ``ranvis-torchvision.pth`` into this environment's
site-packages so every Python of the environment installs the finder at start-up (``make``
does this for the project's ``.venv``); ``--remove`` deletes it.
"""
from __future__ import annotations

import importlib.abc
import sys
import sysconfig
from pathlib import Path

PTH = "ranvis-torchvision.pth"
PTH_LINE = ('import sys; exec("try:\\n import ranvis.nets._tvhook as h; h.install()\\n'
            'except Exception: pass")\n')


class _Finder(importlib.abc.MetaPathFinder):
    """Prepares torchvision's import once, then steps aside (module doc)."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname == "torchvision" and not _torch_importing():
            remove()
            from ranvis.nets._torchvision import prepare

            prepare()
        return None


def _torch_importing() -> bool:
    """Whether torch itself is being imported (it looks torchvision up on the way; preparing
    then would use a half-made torch): the finder waits for a later lookup."""
    torch = sys.modules.get("torch")
    return bool(getattr(getattr(torch, "__spec__", None), "_initializing", False))


def install() -> None:
    """Put the finder first on sys.meta_path (once), unless torchvision is imported already."""
    if "torchvision" not in sys.modules and not any(isinstance(f, _Finder)
                                                    for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


def remove() -> None:
    """Take the finder off sys.meta_path."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]


def main(argv: list[str]) -> int:
    path = Path(sysconfig.get_paths()["purelib"]) / PTH
    if argv[:1] == ["--remove"]:
        path.unlink(missing_ok=True)
        print(f"removed {path}")
        return 0
    path.write_text(PTH_LINE)
    print(f"wrote {path}: `import torchvision` and `import timm` now work in this environment")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
