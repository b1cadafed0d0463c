"""``NetSpec``: a whole random network as data — architecture, initialization, σ, pooling and
one seed per weighted layer (JSON, a few hundred bytes to a few kilobytes).

Format 2 (written now) names the architecture and the initialization::

    {"format": 2, "arch": "resnet18", "init": "paper", "sigma": 0.015, "pool": "avg",
     "seeds": {"conv1": 0, "layer1.0.conv1": 1, ...}, "info": {...}}

``padding`` (written only when it is not ``zeros``, the paper's): ``reflect`` pads every
convolution's input with its own mirror image instead of zeros (nets.vgg, nets.zoo; why:
ranvis.presets); ``circular`` (VGG only) with the opposite edge, so every map wraps around.

A spec of a timm architecture (``"arch": "timm:NAME"``, nets.timmnet) is written compactly,
``"seed": s`` in place of the seeds of its plain random draw (weighted layer i: 1000·s + i), so
it stays under 1 KB however deep the network; it reads back as those seeds.

Format 1 (ranvis before the architecture registry) was VGG-19 only, with the ``paper``
initialization; it loads as format 2 with ``init: paper`` and gives the same weights.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ranvis.errors import InputError
from ranvis.nets.draw import INITS, valid_seed

SPEC_FORMAT = 2
READ_FORMATS = (1, 2)
DEFAULT_SIGMA = 0.015  # paper §2
DEFAULT_ARCH = "vgg19"  # the paper's network
PADDINGS = ("zeros", "reflect", "circular")


def _weighted(arch: str) -> list[str]:
    from ranvis.nets import get_arch  # the registry imports this module

    return get_arch(arch).weighted()


@dataclass
class NetSpec:
    """A random network as data. ``NetSpec.random(s, arch=A)`` gives the weighted layer at
    position i (forward order, ``Arch.weighted()``) the seed ``1000*s + i``; the stacked ranVGG
    stores the seeds it chose. JSON round trip with :meth:`save` / :meth:`load`."""

    seeds: dict[str, int]
    sigma: float = DEFAULT_SIGMA
    pool: str = "avg"
    arch: str = DEFAULT_ARCH
    format: int = SPEC_FORMAT
    info: dict[str, Any] = field(default_factory=dict)
    init: str = "paper"
    padding: str = "zeros"
    seed: int | None = field(default=None, compare=False)  # a plain draw's net seed (timm:)

    @classmethod
    def random(cls, seed: int = 0, sigma: float = DEFAULT_SIGMA, pool: str = "avg", *,
               arch: str = DEFAULT_ARCH, init: str = "paper",
               padding: str = "zeros") -> NetSpec:
        """A plain random network: weighted layer i gets seed 1000*seed+i."""
        return cls({n: 1000 * seed + i for i, n in enumerate(_weighted(arch))}, sigma, pool,
                   arch, init=init, padding=padding, seed=seed)

    def __post_init__(self) -> None:
        if self.format not in READ_FORMATS:
            raise InputError(f"network spec format {self.format!r} is unknown; this ranvis "
                             f"reads formats {', '.join(map(str, READ_FORMATS))}")
        if self.format == 1 and self.arch != "vgg19":
            raise InputError(f"a format-1 network spec is VGG-19 only, got arch {self.arch!r}")
        self.format = SPEC_FORMAT  # read as format 2, written as format 2
        from ranvis.nets import get_arch

        arch = get_arch(self.arch)  # InputError listing the architectures
        self._check_values(arch.has_pool)
        if self.pool == "blur" and arch.family != "vgg":
            raise InputError(f"pool blur (the binomial 3x3 pool) is VGG's only, not {self.arch}'s; "
                             "use avg or max")
        weighted = arch.weighted()
        if not self.seeds and self.seed is not None:
            if not valid_seed(self.seed) or 1000 * int(self.seed) + len(weighted) >= 2**63:
                raise InputError(f"network spec seed is {self.seed!r}; it must be an integer "
                                 "from 0 to 2**53")
            self.seeds = {n: 1000 * int(self.seed) + i for i, n in enumerate(weighted)}
        missing = [n for n in weighted if n not in self.seeds]
        if missing:
            raise InputError(f"network spec has no seed for {missing[0]}; {self.arch} needs one "
                             f"per weighted layer ({len(weighted)}: {weighted[0]} … {weighted[-1]})")
        bad = [n for n in weighted if not valid_seed(self.seeds[n])]
        if bad:
            raise InputError(f"network spec seed for {bad[0]} is {self.seeds[bad[0]]!r}; "
                             "seeds must be integers from 0 to 2**63-1")
        self.seeds = {n: int(self.seeds[n]) for n in weighted}

    def _check_values(self, has_pool: bool) -> None:
        if self.pool not in ("avg", "max", "blur"):
            raise InputError(f"pool must be 'avg', 'max' or 'blur', got {self.pool!r}")
        if self.pool != "avg" and not has_pool:
            raise InputError(f"{self.arch} has no pooling layer to swap; leave pool at avg")
        if self.padding not in PADDINGS:
            raise InputError(f"padding must be one of {', '.join(PADDINGS)}, "
                             f"got {self.padding!r}")
        if self.init not in INITS:
            raise InputError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if self.init == "timm" and not self.arch.startswith("timm:"):
            raise InputError(f"init timm (timm's own initialization) applies to timm: "
                             f"architectures only, not {self.arch}; use paper or he")
        if not (isinstance(self.sigma, (int, float)) and not isinstance(self.sigma, bool)
                and 0 < self.sigma < math.inf):
            raise InputError(f"sigma must be a positive number, got {self.sigma!r}")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"format": self.format, "arch": self.arch, "init": self.init,
                             "sigma": self.sigma, "pool": self.pool, "seeds": self.seeds}
        if self.arch.startswith("timm:") and self._plain_seed() is not None:
            del d["seeds"]
            d["seed"] = self._plain_seed()
        if self.padding != "zeros":
            d["padding"] = self.padding
        if self.info:
            d["info"] = self.info
        return d

    def _plain_seed(self) -> int | None:
        """s when the seeds are exactly a plain random draw's (layer i: 1000·s + i), else None."""
        values = list(self.seeds.values())
        if not values or values[0] % 1000:
            return None
        s = values[0] // 1000
        return s if values == [1000 * s + i for i in range(len(values))] else None

    @classmethod
    def from_dict(cls, d: Any) -> NetSpec:
        """A spec from its JSON object (format 1 or 2); InputError for a malformed one."""
        if isinstance(d, dict) and "seeds" not in d and "seed" in d:
            d = {**d, "seeds": {}}
        if not isinstance(d, dict) or not isinstance(d.get("seeds"), dict):
            raise InputError("network spec must be a JSON object with a 'seeds' object")
        if "format" not in d:
            raise InputError(f"network spec has no 'format' field; this ranvis reads format "
                             f"{SPEC_FORMAT} (write specs with build-net)")
        try:
            return cls(seeds=d["seeds"], sigma=d.get("sigma", DEFAULT_SIGMA),
                       pool=d.get("pool", "avg"), arch=d.get("arch", DEFAULT_ARCH),
                       format=d.get("format", -1), info=d.get("info", {}),
                       init=d.get("init", "paper"), padding=d.get("padding", "zeros"),
                       seed=d.get("seed"))
        except (TypeError, ValueError) as e:
            if isinstance(e, InputError):
                raise
            raise InputError(f"network spec is malformed: {e}") from None

    def save(self, path: str | Path) -> None:
        from ranvis.io.record import write_json

        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> NetSpec:
        """Load a spec from a JSON file, or the shipped stacked ranVGG by the name ``stacked``."""
        if str(path) == "stacked":
            text = resources.files("ranvis").joinpath("data/stacked.json").read_text()
            return cls.from_dict(json.loads(text))
        p = Path(path)
        if not p.is_file():
            raise InputError(f"network spec {p} is not a file; give a JSON spec from build-net")
        try:
            d = json.loads(p.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"network spec {p} is not valid JSON "
                             f"({e.msg if hasattr(e, 'msg') else e})") from None
        return cls.from_dict(d)
