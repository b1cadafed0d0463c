"""``ranvis serve``: a local web page to invert, synthesize textures and restyle, watching the
picture form (issue 32). Needs the ``serve`` extra (Gradio).

The pieces: ``command`` (a page run as the ``ranvis`` command that reproduces it), ``uploads``
(what a request may name: an upload inside the upload folder, or a sample), ``jobs`` (the one
worker, the queue, the live callback and Stop), ``execute`` (a job run through the CLI's own
parser and subcommand), ``handlers`` (the page's actions), ``page`` (the Gradio layout) and
``app`` (the server's life: its temporary folder, offline settings, launch, shutdown).
"""
from __future__ import annotations

from typing import Any


def serve(parser: Any, host: str = "127.0.0.1", port: int = 7860) -> int:
    """Serve the page on ``host``:``port`` until Ctrl-C or SIGTERM; returns the exit status.
    ``parser``: the CLI's parser builder (cli.commands.build_parser), which every run goes
    through."""
    from ranvis.serve.app import serve as run

    return run(host, port, parser)


__all__ = ["serve"]
