"""Plans shipped with ranvis (``ranvis/data/plans/NAME.toml``): ``example`` (what ``ranvis study
--example`` prints), ``fig3`` and ``fig3-quick`` (the paper's Figure 3, which ``ranvis
reproduce`` runs through the study runner). ``ranvis study NAME -o DIR`` runs one by name."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped_names() -> list[str]:
    """The names of the shipped plans."""
    folder = resources.files("ranvis").joinpath("data/plans")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                  if p.name.endswith(".toml"))


def shipped_path(name: str) -> Path | None:
    """The file of shipped plan ``name`` (with or without .toml), or None."""
    name = name.removesuffix(".toml")
    if name not in shipped_names():
        return None
    return Path(str(resources.files("ranvis").joinpath(f"data/plans/{name}.toml")))


def example_text() -> str:
    """The commented example plan."""
    return resources.files("ranvis").joinpath("data/plans/example.toml").read_text("utf-8")
