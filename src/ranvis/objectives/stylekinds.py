"""What a ``--style-loss`` value names, checked without torch (the command line checks it while
parsing; the tasks again from Python): atoms of :data:`ATOMS`, each optionally with
:data:`SOFTMAX`, joined by ``+`` (``"cov+mean"``: a term of each, each with its own µ_l).
The losses themselves: objectives.styleloss."""
from __future__ import annotations

from ranvis.defaults import STYLE_LOSS_ATOMS
from ranvis.errors import InputError

#: The loss atoms (``--style-loss``; ``a+b`` sums several, each its own term and µ_l).
ATOMS = STYLE_LOSS_ATOMS
SOFTMAX = "-softmax"


def parse_style_loss(spec: str) -> tuple[str, ...]:
    """``"cov+mean"`` → ("cov", "mean"): the kinds of a ``--style-loss`` value, or InputError
    (one line) for an unknown name or a name given twice."""
    kinds = tuple(k.strip() for k in spec.split("+"))
    for k in kinds:
        if k.removesuffix(SOFTMAX) not in ATOMS:
            names = ", ".join(ATOMS)
            raise InputError(f"unknown style loss {k!r} in {spec!r}: use one of {names}, each "
                             f"optionally with {SOFTMAX}, joined by + (e.g. cov+mean)")
    if len(set(kinds)) != len(kinds):
        raise InputError(f"style loss {spec!r} names a loss twice")
    return kinds
