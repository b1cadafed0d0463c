"""``run_cell(job) -> result``: one cell, wherever it runs (a pool worker, a Ray task, or the
driver itself). A pure function of the job's settings: it reads no file but trained weights,
writes nothing, and returns everything the driver stores (study.store).

A job is a dict: ``key``, ``settings`` (study.cells), ``image`` (and for style ``style``):
float32 arrays [1, 3, S, S] the driver prepared, so workers need no copy of the image files;
``weights``: a trained-weights path (must exist where the cell runs); ``device``.
"""
from __future__ import annotations

import io
import json
import platform
import time
from collections import OrderedDict
from typing import Any

import numpy as np

NET_CACHE = 2  # networks a worker keeps between cells (a plan's cells of one draw are adjacent)
_NETS: OrderedDict[str, Any] = OrderedDict()


def _net(settings: dict[str, Any], weights: str | None, device: str) -> Any:
    from ranvis.nets.build import build_net
    from ranvis.nets.spec import NetSpec
    from ranvis.tasks import make_net

    s = settings["net"]
    if "spec" in s:
        spec = NetSpec.from_dict(s["spec"])
        return build_net(spec, device)
    if "weights_sha256" in s:
        from ranvis.nets.trained import load_trained

        return load_trained(weights, device, pool=s["pool"], arch=s["arch"])
    return make_net("random", arch=s["arch"], net_seed=s["net_seed"], sigma=s["sigma"],
                    pool=s["pool"], weight_init=s["init"], device=device)


def cached_net(settings: dict[str, Any], weights: str | None, device: str) -> Any:
    """The cell's network, reused from one of the worker's last :data:`NET_CACHE` cells when
    they drew the same one (same net settings and device): a network is frozen and a pure
    function of its settings, so this changes no result, only the time spent building it."""
    key = json.dumps([settings["net"], device], sort_keys=True)
    if key in _NETS:
        _NETS.move_to_end(key)
        return _NETS[key]
    net = _net(settings, weights, device)
    _NETS[key] = net
    while len(_NETS) > NET_CACHE:
        _NETS.popitem(last=False)
    return net


def _options(settings: dict[str, Any]) -> dict[str, Any]:
    """Task options as keyword arguments (TOML and JSON lists back to tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in settings["options"].items()}


def _run_task(job: dict[str, Any], device: str, net: Any = None) -> tuple[Any, dict[str, float]]:
    """The cell's run and scores; ``net``: its network (None: :func:`cached_net`)."""
    import torch

    from ranvis import tasks as T
    from ranvis.study import judges

    s = job["settings"]
    image = torch.from_numpy(np.array(job["image"], dtype=np.float32))
    net = cached_net(s, job.get("weights"), device) if net is None else net
    common = {"net": net, "iters": s["iters"], "seed": s["start"], "device": device,
              **_options(s)}
    if s["task"] == "invert":
        run = T.invert(image, list(s["taps"]), **common)
        return run, judges.inversion_scores(run, image)
    if s["task"] == "zerocost":
        from types import SimpleNamespace

        from ranvis.study.zerocost import zerocost_scores

        batch = [torch.from_numpy(np.array(b, dtype=np.float32)) for b in job["batch"]]
        scores, kernel = zerocost_scores(net, batch, list(s["taps"]))
        return SimpleNamespace(image=kernel, record={"scores": scores, "batch": len(batch)}), \
            scores
    if s["task"] == "texture":
        run = T.synthesize_texture(image, list(s["taps"]), **common)
        start = T.noise(image.shape[-2], image.shape[-1], s["start"])
        return run, judges.texture_scores(run, image, start, device)
    style = torch.from_numpy(np.array(job["style"], dtype=np.float32))
    run = T.transfer_style(image, [style], content_layer=s["taps"][0],
                           style_layers=list(s["taps"][1:]), **common)
    return run, judges.style_scores(run, image, style, device)


def png_bytes(image: Any) -> bytes:
    """An image tensor [1, 3, H, W] in [0, 1] as 8-bit PNG bytes (images.to_pil)."""
    from ranvis.io.images import to_pil

    buf = io.BytesIO()
    to_pil(image).save(buf, format="PNG")
    return buf.getvalue()


def cell_result(job: dict[str, Any], run: Any, scores: dict[str, float], png: bytes,
                seconds: float, cpu_seconds: float, **environment: Any) -> dict[str, Any]:
    """What the driver stores of one cell (study.store): scores, PNG, record, times, where it
    ran (``environment`` adds to the host, device, threads and torch version)."""
    import torch

    return {"key": job["key"], "scores": {k: float(v) for k, v in scores.items()},
            "seconds": round(seconds, 3), "png": png,
            "cpu_seconds": round(cpu_seconds, 3), "record": run.record,
            "environment": {"host": platform.node(), "device": job.get("device", "cpu"),
                            "threads": torch.get_num_threads(), "torch": torch.__version__,
                            **environment}}


def run_cell(job: dict[str, Any]) -> dict[str, Any]:
    """Compute one cell: its image (PNG bytes), its run record, its scores, the seconds it took
    (network, optimization and judging) and the CPU seconds its process spent on it (which a
    machine shared with other jobs does not inflate). Exceptions propagate: the driver
    retries. (Executors run jobs with study.rungroup.run_job: a cell, or a group of cells.)"""
    t0, c0 = time.perf_counter(), time.process_time()
    run, scores = _run_task(job, job.get("device", "cpu"))
    seconds, png = time.perf_counter() - t0, png_bytes(run.image)
    return cell_result(job, run, scores, png, seconds, time.process_time() - c0)


def describe(e: BaseException) -> str:
    """One cell error as text: type, message, and the last lines of the (remote) traceback."""
    import traceback

    tb = "".join(traceback.format_exception(e)).strip().splitlines()
    cause = getattr(e, "__cause__", None)  # ProcessPoolExecutor attaches the worker's traceback
    if cause is not None and "Traceback" in str(cause):
        tb = str(cause).strip().splitlines()
    head = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
    return "\n".join([head, *tb[-8:]])


def warm_up(seconds: float = 0.2) -> int:
    """Import what a cell needs and wait a moment (so each worker of a pool gets one warm-up
    call); returns the process id. Executors call it to start their workers before timing."""
    import os

    import ranvis.tasks  # noqa: F401
    from ranvis.study import judges  # noqa: F401

    time.sleep(seconds)
    return os.getpid()
