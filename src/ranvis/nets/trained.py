"""Trained weights for any architecture of the registry, from a local torchvision state dict.
Never downloads: the user names a file (e.g. one torchvision saved for ``vgg19`` or
``resnet18``), so the random-versus-trained comparison works wherever that file exists."""
from __future__ import annotations

from pathlib import Path

import torch

from ranvis.errors import InputError
from ranvis.nets import DEFAULT_ARCH, get_arch
from ranvis.nets.base import FrozenNet
from ranvis.nets.spec import NetSpec
from ranvis.nets.vgg import Net
from ranvis.nets.vgglayout import CONFIGS, TORCHVISION_GRID
from ranvis.nets.zoo import from_state_dict


def load_trained(path: str | Path, device: str | torch.device = "cpu", pool: str = "avg",
                 arch: str = DEFAULT_ARCH) -> FrozenNet:
    """``arch`` with the trained weights in ``path``; ``pool == "avg"`` swaps max for average
    pooling (Gatys et al. did for VGG). InputError for a missing file or a state dict of
    another architecture."""
    a = get_arch(arch)
    if a.family == "vgg":
        return net_from_state_dict(load_state_dict(path), device, pool, arch=arch)
    spec = NetSpec.random(0, pool=pool, arch=arch)
    spec.info = {"weights": "trained (torchvision state dict)"}
    return from_state_dict(load_state_dict(path), a.extra["make_model"](), spec, device,
                           source=str(path))


def net_from_state_dict(sd: dict[str, torch.Tensor], device: str | torch.device = "cpu",
                        pool: str = "avg", arch: str = "vgg19") -> Net:
    """A trained VGG :class:`Net` from a torchvision-layout state dict (``features.{i}`` for the
    convs, ``classifier.{0,3,6}`` for fc6–fc8). Preprocessing becomes torchvision's
    (x − mean)/std. ``pool`` swaps max for avg pooling as Gatys et al. did."""
    spec = NetSpec.random(0, pool=pool, arch=arch)
    spec.info = {"weights": "trained (torchvision state dict)"}
    net = Net(spec, device)
    net.trained = True
    tv_index, i = {}, 0
    for v in CONFIGS[arch]:  # torchvision's features: conv, relu per width; one pool per "P"
        if v == "P":
            i += 1
        else:
            tv_index[len(tv_index)] = i
            i += 2
    convs = [la.name for la in net.layers if la.kind == "conv"]
    keys = {n: f"features.{tv_index[k]}" for k, n in enumerate(convs)}
    keys.update({"fc6": "classifier.0", "fc7": "classifier.3", "fc8": "classifier.6"})
    for name, key in keys.items():
        if f"{key}.weight" not in sd:
            raise InputError(f"trained weights lack {key}.weight: not a torchvision {arch} "
                             "state dict")
        layer = net.index[name]
        c_in = layer.c_in if name != "fc6" else net.index["pool5"].c_out * TORCHVISION_GRID**2
        want = (layer.c_out, c_in, 3, 3) if layer.kind == "conv" else (layer.c_out, c_in)
        w = sd[f"{key}.weight"]
        if tuple(w.shape) != want:
            raise InputError(f"{key}.weight has shape {tuple(w.shape)}; {arch} needs {want}")
        net.set_weights(name, w, sd.get(f"{key}.bias", torch.zeros(layer.c_out)))
    return net


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a local file (never downloads); InputError for a missing or bad file."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"trained weights {p} is not a file; give a torchvision state dict")
    try:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a bad file
        raise InputError(f"cannot read trained weights {p}: {str(e).splitlines()[0]}") from None
    if not isinstance(sd, dict):
        raise InputError(f"trained weights {p} hold a {type(sd).__name__}, not a state dict")
    return sd
