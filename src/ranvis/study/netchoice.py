"""An ``[[arch]]`` table of a plan → the network configurations it names (study.model.NetChoice).

Random networks: every combination of ``name`` × ``pool`` × ``init`` × ``sigma`` (each a value
or a list), labelled ``vgg19-avg``, ``resnet18-avg``, ``vgg19-max-he``, … unless ``label`` is
given (then the table must name one configuration). Fixed networks: ``spec`` (``"stacked"``, a
build-net JSON file, or an inline table) or trained ``weights`` (a local state-dict file).
"""
from __future__ import annotations

import hashlib
import itertools
from pathlib import Path
from typing import Any

from ranvis import defaults as D
from ranvis.errors import InputError
from ranvis.study import fields as F
from ranvis.study.model import NetChoice


def _values(t: dict[str, Any], key: str, default: Any, where: str) -> list[Any]:
    v = t.get(key, default)
    out = v if isinstance(v, list) else [v]
    if not out:
        raise InputError(f"{where}.{key} is empty")
    return out


def _label(name: str, pool: str, init: str, sigma: float, has_pool: bool) -> str:
    parts = [name] + ([pool] if has_pool else []) + ([init] if init != D.WEIGHT_INIT else [])
    return "-".join(parts) + (f"-s{sigma:g}" if sigma != D.SIGMA else "")


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (trained weights key their cells by content, not by path)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _fixed(t: dict[str, Any], where: str) -> Any:
    from ranvis.nets import check_arch_name
    from ranvis.nets.spec import NetSpec

    if "spec" in t and "weights" in t:
        raise InputError(f"{where}: give spec or weights, not both")
    if "spec" in t:
        bad = sorted({"pool", "init", "sigma", "name"} & set(t))
        if bad:
            raise InputError(f"{where}: a spec fixes the network; drop {bad[0]!r}")
        raw = t["spec"]
        spec = NetSpec.from_dict(raw) if isinstance(raw, dict) else NetSpec.load(str(raw))
        label = t.get("label") or ("stacked" if raw == "stacked" else
                                   Path(str(raw)).stem if isinstance(raw, str) else spec.arch)
        d = spec.to_dict()
        d.pop("info", None)  # how it was built: not the network
        return NetChoice(label=str(label), arch=spec.arch, pool=spec.pool, init=spec.init,
                         sigma=spec.sigma, spec=d)
    name = check_arch_name(str(t.get("name", D.ARCH)))
    pool = t.get("pool", D.POOL)
    if pool not in ("avg", "max") or "init" in t or "sigma" in t:
        raise InputError(f"{where}: trained weights take name, pool (avg|max) and label only")
    path = Path(str(t["weights"])).expanduser()
    if not path.is_file():
        raise InputError(f"{where}.weights: trained weights {path} is not a file")
    return NetChoice(label=str(t.get("label", f"{name}-trained")), arch=name, pool=pool,
                     weights=str(path.resolve()), weights_sha256=file_sha256(path))


def net_choices(t: dict[str, Any], where: str) -> list[Any]:
    """The :class:`~ranvis.study.model.NetChoice` s of one ``[[arch]]`` table (module doc)."""
    from ranvis.nets import check_arch_name, get_arch
    from ranvis.nets.draw import INITS

    if "spec" in t or "weights" in t:
        return [_fixed(t, where)]
    names = [check_arch_name(n) for n in F.str_list(t.get("name", D.ARCH), f"{where}.name")]
    pools = _values(t, "pool", D.POOL, where)
    inits = _values(t, "init", D.WEIGHT_INIT, where)
    sigmas = _values(t, "sigma", D.SIGMA, where)
    for p in pools:
        if p not in ("avg", "max"):
            raise InputError(f"{where}.pool must be avg or max, got {p!r}")
    for i in inits:
        if i not in INITS:
            raise InputError(f"{where}.init must be one of {', '.join(INITS)}, got {i!r}")
    for s in sigmas:
        if isinstance(s, bool) or not isinstance(s, int | float) or not s > 0:
            raise InputError(f"{where}.sigma must be a positive number, got {s!r}")
    out = []
    for name, pool, init, sigma in itertools.product(names, pools, inits, sigmas):
        arch = get_arch(name)
        if pool != D.POOL and not arch.has_pool:
            continue  # nothing to swap: the avg entry of this architecture already covers it
        out.append(NetChoice(_label(name, pool, init, float(sigma), arch.has_pool), name, pool,
                             init, float(sigma)))
    if "label" in t:
        if len(out) != 1:
            raise InputError(f"{where}.label names one configuration; this table has "
                             f"{len(out)} (drop the label to get one per combination)")
        out = [NetChoice(str(t["label"]), *(getattr(out[0], k) for k in
                                            ("arch", "pool", "init", "sigma")))]
    return out
