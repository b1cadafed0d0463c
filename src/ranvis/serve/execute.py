"""One page run = the ``ranvis`` command itself, run in this process on the worker thread.

:func:`new_job` turns a RunSpec into a Job (its argument list, the command shown, its folder);
:func:`execute` parses that list with the CLI's parser and calls the subcommand's own function
(cli.cmd_invert, cmd_texture, cmd_style): the same image checks, task call and files as the
command, plus the page's :class:`~ranvis.serve.jobs.Live` callback (runtime.callbacks adds
``extra_callbacks``). Afterwards the run record names the inputs as the command does (not by
their folder on the server), says the Stop button stopped it, and carries the command; a JPEG
copy joins the PNG.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ranvis.errors import InputError
from ranvis.serve.command import RunSpec, argv, command_line
from ranvis.serve.jobs import Job, Live

OUTPUT = "out.png"
#: the CLI's parser builder (cli.commands.build_parser), handed down by ``ranvis serve`` so that
#: this package never imports the command line's top (which imports this package)
Parser = Callable[[], argparse.ArgumentParser]


def new_job(spec: RunSpec, folder: Path) -> Job:
    """The job of ``spec``, writing into ``folder`` (created)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Job(argv(spec, str(folder / OUTPUT)), command_line(spec), folder)


def check_args(args: list[str], parser: Parser) -> argparse.Namespace:
    """The CLI's namespace for ``args``; the parser's complaint as an InputError."""
    from ranvis.cli.runtime import UsageError

    try:
        return parser().parse_args(args)
    except UsageError as e:
        raise InputError(str(e).removeprefix("ranvis ")) from None


def _out_of_memory(e: BaseException) -> bool:
    torch = sys.modules.get("torch")
    oom = (getattr(torch, "OutOfMemoryError", MemoryError),) if torch else ()
    return isinstance(e, (MemoryError, *oom)) or "can't allocate memory" in str(e)


def execute(job: Job, parser: Parser) -> None:
    """Run ``job`` as its command would (``parser``: the CLI's); InputError (one sentence) for
    anything the command refuses. Fills ``job.files``: PNG, JPEG, run record, loss plot."""
    a = check_args(job.argv, parser)
    a.extra_callbacks = [Live(job, lambda: a.iters)]
    try:
        a.func(a)
    except (MemoryError, RuntimeError) as e:
        if not _out_of_memory(e):
            raise
        raise InputError("ran out of memory; choose a smaller size") from None
    out = Path(a.output)
    job.files = [out, _jpeg(out), _tidy_record(job, out.with_suffix(".json")),
                 out.with_name(f"{out.stem}-loss.png")]


def _jpeg(png: Path) -> Path:
    from PIL import Image

    jpg = png.with_suffix(".jpg")
    with Image.open(png) as im:
        im.convert("RGB").save(jpg, format="JPEG", quality=95)
    return jpg


def _strip(v: Any, prefix: str) -> Any:
    if isinstance(v, str):
        return v.replace(prefix, "")
    if isinstance(v, list):
        return [_strip(x, prefix) for x in v]
    if isinstance(v, dict):
        return {k: _strip(x, prefix) for k, x in v.items()}
    return v


def _tidy_record(job: Job, path: Path) -> Path:
    from ranvis.io.record import write_json

    rec = _strip(json.loads(path.read_text()), f"{job.folder}/")
    rec["command"] = job.command
    if job.stop.is_set() and rec.get("interrupted"):
        rec.pop("signal", None)
        rec["stopped_by"] = "the Stop button of ranvis serve"
    write_json(path, rec)
    return path
