"""The top-level API (``ranvis.invert``, ``ranvis.texture``, ``ranvis.style``, ``ranvis.build_net``,
``ranvis.load_image``, ``ranvis.save_image``): thin wrappers over the tasks (ranvis.tasks) that
take images in any form a user holds (coerce.to_image), show a progress bar only when asked
(``progress=True``; the ``ranvis`` command always shows one) and return a :class:`Result`.

Every keyword option is the task's own, passed through unchanged with the task's default when
left out (the task signatures are the one place for defaults); an unknown one is an InputError
listing the valid ones. Nothing here changes process-wide state.
"""
from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ranvis.errors import InputError
from ranvis.io.coerce import describe_source, to_image
from ranvis.io.record import metric_summary
from ranvis.nets.spec import NetSpec

Size = int | tuple[int, int] | None
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_DONE = ("completed", "converged", "plateau")


class Result:
    """A finished run: ``image`` (float32 tensor [1,3,H,W] in [0, 1]), ``pil`` (the same as an
    RGB PIL image), ``record`` (the run record: settings, network, losses, metrics; record.py)
    and :meth:`save`. Notebooks show it as its image."""

    def __init__(self, image: torch.Tensor, record: dict[str, Any]) -> None:
        self.image, self.record = image, record

    @property
    def pil(self) -> Image.Image:
        """The image as an RGB PIL image (8 bits per channel)."""
        from ranvis.io.images import to_pil

        return to_pil(self.image)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the image (.png, .jpg or .jpeg) and, beside it, PATH.json (the run record) and
        PATH-loss.png, as the ``ranvis`` command does; returns the image's path."""
        from ranvis.io.record import environment, save_run

        p = Path(path)
        if p.suffix.lower() not in _IMAGE_SUFFIXES or not p.stem:
            raise InputError(f"save needs a file name ending in .png, .jpg or .jpeg, got {p}")
        env = environment(self.record.get("settings", {}).get("threads"))
        save_run(p, self.image, {**self.record, "environment": env})
        return p

    def __repr__(self) -> str:
        r, (h, w) = self.record, self.image.shape[-2:]
        parts = [f"{r['task']} {w}x{h}", f"{r['iterations']} iterations",
                 f"{r['seconds']:.1f} s", *metric_summary(r.get("metrics", {}))[:3]]
        if r.get("interrupted") or r.get("stopped", "completed") not in _DONE:
            parts.append(f"stopped: {'interrupted' if r.get('interrupted') else r['stopped']}")
        return f"Result({', '.join(parts)})"

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.pil.save(buf, format="PNG")
        return buf.getvalue()


def _default(task: Callable[..., Any], name: str) -> Any:
    return inspect.signature(task).parameters[name].default


def _options(task: Callable[..., Any], options: dict[str, Any], api: str) -> dict[str, Any]:
    """``options`` unchanged if ``task`` takes every one as a keyword, else InputError."""
    valid = [n for n, p in inspect.signature(task).parameters.items() if p.kind == p.KEYWORD_ONLY]
    bad = sorted(set(options) - set(valid))
    if bad:
        raise InputError(f"ranvis.{api} has no option {bad[0]!r}; its options: "
                         f"size, progress, {', '.join(valid)}")
    return dict(options)


def _run(task: Callable[..., Any], args: tuple[Any, ...], opts: dict[str, Any],
         progress: bool, total: int, inputs: dict[str, Any]) -> Result:
    """Call ``task`` with a tqdm bar of ``total`` iterations when ``progress``; wrap the Run."""
    bar = None
    if progress:
        from ranvis.optim.callbacks import Progress

        bar = Progress(total, task.__name__)
        opts = {**opts, "callbacks": [*opts.get("callbacks", ()), bar]}
    try:
        run = task(*args, **opts)
    finally:
        if bar is not None:
            bar.close()
    run.record["settings"].update(inputs)
    return Result(run.image, run.record)


def _start(opts: dict[str, Any], like: torch.Tensor) -> dict[str, Any]:
    """``init`` given as an image (any form of :func:`invert`, a path also as "image:PATH") in
    the tasks' tensor form at the size of ``like``; "noise", "content", "style" pass unchanged."""
    init = opts.get("init")
    if isinstance(init, str) and init in ("noise", "content", "style"):
        return opts
    if init is not None:
        src = init.removeprefix("image:") if isinstance(init, str) else init
        opts["init"] = to_image(src, (like.shape[-1], like.shape[-2]), what="init")
    return opts


def invert(image: Any, layers: str | Sequence[str], *, size: Size = None,
           progress: bool = False, **options: Any) -> Result:
    """Reconstruct ``image`` from its features at ``layers`` of an untrained random network
    (paper eq. 1–4); ``layers``: a tap name ("pool2"), "pool2,pool4" or a list (VGG-19's:
    ``ranvis layers``). ``image``: a path, "sample:NAME", a PIL image, an H×W×3 NumPy array or
    a [3,H,W] / [1,3,H,W] tensor in [0, 1] (coerce.to_image), resized to longer side ``size``
    when given. ``options``: those of ranvis.tasks.invert (``preset`` "best"/"paper", ``iters``,
    ``arch``, ``net``, ``seed``, ``threads``, ...), its defaults when left out (``threads``:
    CPU threads for the run, given back afterwards; None keeps torch's setting). ``progress``: a
    tqdm bar with the stage and an ETA. Returns a :class:`Result`; metrics PSNR, SSIM, feature
    error. Bad input: InputError.

    Example::

        r = ranvis.invert("sample:chelsea", "pool2", size=64, iters=50)
        r.save("chelsea-pool2.png"); print(r)
    """
    from ranvis.tasks import invert as task

    img = to_image(image, size)
    opts = _start(_options(task, options, "invert"), img)
    return _run(task, (img, layers), opts, progress, _invert_total(task, layers, opts),
                {"input": describe_source(image)})


def _invert_total(task: Callable[..., Any], layers: Any, opts: dict[str, Any]) -> int:
    """The iterations an inversion will run: ``iters``, else its preset's budget."""
    if opts.get("iters") is not None:
        return int(opts["iters"])
    from ranvis.tasks import resolve_arch
    from ranvis.tasks.inversion import default_iters

    a = resolve_arch(opts.get("net", _default(task, "net")), opts.get("arch"))
    return default_iters(opts.get("preset", _default(task, "preset")), a, a.check_taps(layers))


def texture(source: Any, layers: str | Sequence[str] | None = None, *, size: Size = None,
            progress: bool = False, **options: Any) -> Result:
    """Synthesize a texture whose Gram matrices at ``layers`` (None: the architecture's texture
    preset, VGG-19's conv1_1..conv4_1) match ``source``'s (paper eq. 5–8). ``source``: any image
    form of :func:`invert`, resized to longer side ``size`` when given. ``options``: those of
    ranvis.tasks.synthesize_texture (``out_size`` (W, H), ``iters``, ``preset``, ``weights``,
    ...). Returns a :class:`Result`; metric: the relative Gram error per layer.

    Example::

        r = ranvis.texture("sample:gravel", size=64, iters=50, out_size=(96, 64))
        r.pil.show()
    """
    from ranvis.tasks import synthesize_texture as task

    opts = _options(task, options, "texture")
    src = to_image(source, size, what="source")
    total = opts.get("iters") or _default(task, "iters")
    return _run(task, (src, layers), opts, progress, total, {"input": describe_source(source)})


synthesize_texture = texture


def style(content: Any, styles: Any, *, size: Size = None, progress: bool = False,
          **options: Any) -> Result:
    """Paint ``content`` in the style of ``styles`` (paper eq. 9): one style image or a list of
    them (blended by ``style_weights``), each in any image form of :func:`invert`. With
    ``size`` the content's longer side is resized to it and every style fitted to the content
    (tasks.stylefit.fit_style: a small seamless pattern repeated at its own scale, anything
    else resized to the content's longer side). ``options``: those
    of ranvis.tasks.transfer_style (``preset``, ``iters``, ``ratio``, ``init``, ``scales``,
    ``original_colors``, ...). Returns a :class:`Result`; metrics: SSIM to the content, Gram
    error per style layer.

    Example::

        r = ranvis.style("sample:chelsea", "sample:hubble_deep_field", size=64, iters=50)
        r.save("chelsea-hubble.png")
    """
    from ranvis.tasks import transfer_style as task

    many = isinstance(styles, list | tuple)
    given = list(styles) if many else [styles]
    if not given:
        raise InputError("styles must be one style image or a non-empty list of them")
    img = to_image(content, size, what="content")
    opts = _start(_options(task, options, "style"), img)
    imgs = [to_image(s, None, what="style image") for s in given]
    if size is not None:  # fitted to the content as the CLI fits them (tasks.stylefit)
        from ranvis.tasks.stylefit import fit_style

        imgs = [fit_style(s, img.shape[-1], img.shape[-2]) for s in imgs]
    total = opts.get("iters") or _default(task, "iters")
    inputs = {"content": describe_source(content), "styles": [describe_source(s) for s in given]}
    return _run(task, (img, imgs), opts, progress, total, inputs)


def build_net(reference: str | os.PathLike[str], out: str | os.PathLike[str] | None = None, *,
              device: str = "cpu", progress: bool = False, threads: int | None = None,
              **settings: Any) -> NetSpec:
    """Build a stacked random network (the paper's ranVGG, §2): layer by layer, keep the random
    draw that reconstructs ``reference`` (a file path or "sample:NAME") best. ``settings``:
    the fields of ranvis.tasks.stacking.BuildSettings (``arch``, ``candidates``, ``size``, ``iters``,
    ``layers``, ``upto``, ``seed``, ...), its defaults when left out; the default build searches
    every layer of VGG-19 (tens of minutes on a CPU): ``upto`` and ``layers="conv"`` make it
    shorter. Returns the :class:`NetSpec` (a network is its seeds: ``spec.save(path)``,
    ``NetSpec.load(path)``, or pass it as ``net=`` to any task); with ``out``, also written
    there (and an interrupted build resumes from beside it). ``threads``: CPU threads for the
    build, given back afterwards (None: torch's current setting), as every task's ``threads=``.

    Example::

        spec = ranvis.build_net("sample:chelsea", upto="conv2_1", candidates=2, iters=10)
        r = ranvis.invert("sample:coffee", "pool2", net=spec, size=64, iters=20)
    """
    from ranvis.tasks.stacking import BuildSettings, build

    if not isinstance(reference, str | os.PathLike):
        raise InputError(f"build_net's reference must be a file path or 'sample:NAME' (the spec "
                         f"records it), got {type(reference).__name__}")
    valid = [f.name for f in fields(BuildSettings) if f.name != "reference"]
    bad = sorted(set(settings) - set(valid))
    if bad:
        raise InputError(f"ranvis.build_net has no setting {bad[0]!r}; its settings: "
                         f"{', '.join(valid)}")
    s = BuildSettings(reference=os.fspath(reference), **settings)
    shown = ", ".join(f"{k}={v!r}" for k, v in settings.items())
    command = f"ranvis.build_net({os.fspath(reference)!r}{', ' + shown if shown else ''})"
    return build(s, out, device=device, progress=progress, command=command, threads=threads)


def load_image(source: Any, size: Size = None) -> torch.Tensor:
    """Any image form of :func:`invert` as ranvis's: a new float32 tensor [1,3,H,W] in [0, 1]
    on the CPU, resized when ``size`` is given (an int: the longer side; (W, H): exactly).

    Example::

        x = ranvis.load_image("sample:astronaut", size=128)
        print(x.shape)  # torch.Size([1, 3, 128, 128])
    """
    return to_image(source, size)


def save_image(image: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``image`` (any form of :func:`invert`) as an 8-bit PNG, or JPEG for .jpg/.jpeg,
    atomically (images.save); returns the path.

    Example::

        x = ranvis.load_image("sample:coffee", size=64)
        ranvis.save_image(x, "coffee-64.png")
    """
    p = Path(path)
    from ranvis.io.images import save

    save(to_image(image), p)
    return p
