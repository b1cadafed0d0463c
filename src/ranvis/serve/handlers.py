"""What the page's buttons do, as plain functions of the form's values (serve.page wires them).

Nothing here trusts the request: an image is a bundled sample's name (uploads.check_sample) or
an upload inside the upload folder (uploads.check_upload); every other value goes through the
CLI's own parser before a job is queued (execute.check_args). Every refusal is one sentence
for the page (:class:`~ranvis.errors.InputError`); no handler raises.
"""
from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ranvis.errors import InputError
from ranvis.serve.command import RunSpec, Source
from ranvis.serve.execute import Parser, check_args, new_job
from ranvis.serve.jobs import FINAL, Job, JobQueue
from ranvis.serve.uploads import check_sample, check_upload

POLL_S = 0.4  # how often a watching page looks for a new image (it sends only new ones)
UPLOAD = "(my upload)"  # the sample menu's entry for "use the file I uploaded"


def _int(v: Any, default: int | None = None) -> int | None:
    return default if v in (None, "") else int(v)


class Handlers:
    """The page's actions over one :class:`JobQueue`. ``uploads``: the folder the web
    framework stores uploads in (the only files a request may name); ``jobs``: where each
    run gets its folder; ``parser``: the CLI's parser builder."""

    def __init__(self, queue: JobQueue, uploads: Path, jobs: Path, parser: Parser) -> None:
        self.queue, self.uploads, self.jobs, self.parser = queue, uploads, jobs, parser
        self.shown: dict[str, str] = {}  # page (session) -> the run it shows now

    # -- uploads ---------------------------------------------------------------------------
    def check(self, path: str | None) -> tuple[str | None, str]:
        """An upload just received: (the path to keep, or None to drop it; the note to show)."""
        if not path:
            return None, ""
        try:
            c = check_upload(path, self.uploads, Path(path).name)
        except InputError as e:
            return None, f"**Refused:** {e}"
        return path, f"Using **{c.name}** ({c.width}x{c.height})."

    def _source(self, sample: str | None, upload: str | None, folder: Path,
                what: str) -> Source:
        """The image of one slot: the upload when there is one, else the chosen sample."""
        if upload:
            c = check_upload(upload, self.uploads, Path(upload).name)
            name = c.name if not (folder / c.name).exists() else f"{what}-{c.name}"
            shutil.copyfile(c.path, folder / name)
            return Source(name, str(folder / name))
        if not sample or sample == UPLOAD:
            raise InputError(f"choose a sample or upload a {what} image")
        s = check_sample(sample)
        return Source(s, s)

    # -- runs ------------------------------------------------------------------------------
    def spec(self, f: dict[str, Any], folder: Path) -> RunSpec:
        """The RunSpec of form values ``f`` (keys: serve.page.FORM), inputs checked."""
        task = f["task"]
        sources = [self._source(f["sample"], f["upload"], folder, "content" if task == "style"
                                else "source")]
        if task == "style":
            sources.append(self._source(f["style_sample"], f["style_upload"], folder, "style"))
        w, h = _int(f.get("out_w"), 0), _int(f.get("out_h"), 0)
        return RunSpec(
            task=task, sources=tuple(sources), preset=f["preset"], arch=f["arch"],
            layer=f["layer"], size=_int(f["size"]), iters=_int(f["iters"]),
            seed=_int(f["seed"], 0), net=f["net"], net_seed=_int(f["net_seed"], 0),
            out_size=(w, h) if w and h else None, content_weight=float(f["content_weight"]),
            style_weight=float(f["style_weight"]), tv_weight=float(f["tv_weight"]),
            original_colors=bool(f["original_colors"]), init=f["init"] or None,
            scales=_int(f["scales"]), padding=f["padding"] or None, optimizer=f["optimizer"])

    def show(self, page: str, job_id: str | None) -> str | None:
        """Page ``page`` now shows run ``job_id`` (a watcher of another run there ends)."""
        if job_id:
            self.shown[page] = job_id
        return job_id

    def run(self, f: dict[str, Any], page: str = "") -> tuple[str | None, str]:
        """Queue a run of form ``f`` for page ``page``: (its job id, or None when refused;
        the status line)."""
        folder = self.jobs / secrets.token_hex(8)
        try:
            folder.mkdir(parents=True)
            job = new_job(self.spec(f, folder), folder)
            check_args(job.argv, self.parser)
            self.queue.submit(job)
            self.show(page, job.id)
        except (InputError, ValueError, TypeError, KeyError) as e:
            shutil.rmtree(folder, ignore_errors=True)
            return None, f"**Not started:** {' '.join(str(e).split())}"
        return job.id, status(job, self.queue)

    def stop(self, job_id: str | None) -> str:
        job = self.queue.get(job_id)
        if job is None:
            return "No run to stop."
        self.queue.stop(job)
        return status(job, self.queue) if job.state in FINAL else "Stopping…"

    def watch(self, job_id: str | None, page: str = "") -> Iterator[tuple[str, Any, Any, str]]:
        """(status, image or None when unchanged, files or None, command) while the run goes:
        a new image only when the run has evaluated a new one; ends with the run's result, or
        silently once page ``page`` shows another run (its Run was pressed again)."""
        job = self.queue.get(job_id)
        if job is None:
            return
        seen = -1
        while job.state not in FINAL:
            if self.shown.get(page, job.id) != job.id:
                return
            image = None
            if job.version != seen and job.image is not None:
                seen, image = job.version, _pil(job.image)
            yield status(job, self.queue), image, None, job.command
            time.sleep(POLL_S)
        files = [str(p) for p in job.files if p.is_file()]
        yield status(job, self.queue), (files[0] if files else None), files or None, job.command


def _pil(image: Any) -> Any:
    from ranvis.io.images import to_pil

    return to_pil(image)


def _eta(s: float | None) -> str:
    if s is None:
        return ""
    return f", about {s:.0f} s left" if s < 90 else f", about {s / 60:.0f} min left"


def status(job: Job, queue: JobQueue) -> str:
    """One line on where ``job`` stands, for the page."""
    if job.state == "queued":
        place, n = queue.place(job)
        return f"Waiting: place {place} of {n} in the queue (one run at a time)."
    if job.state == "running":
        if job.step == 0:
            return "Running: preparing the network and the targets…"
        loss = f", loss {job.loss:.4g}" if job.loss is not None else ""
        bar = f'\n\n<progress value="{job.step}" max="{job.total}"></progress>'
        return f"Running: evaluation {job.step} of {job.total}{loss}{_eta(job.eta())}.{bar}"
    if job.state == "done":
        best = f", lowest loss {job.best:.4g}" if job.best is not None else ""
        return f"Done: {job.step} evaluations in {job.seconds():.1f} s{best}."
    if job.state == "stopped":
        return (f"Stopped after {job.step} evaluations ({job.seconds():.1f} s); the result is "
                "the best image so far.")
    if job.state == "cancelled":
        return "Cancelled before it started."
    return f"**Failed:** {job.message}"
