"""The server's life: a private temporary folder, offline settings, launch, and a clean stop.

Everything the server writes (uploads, the framework's cache, each run's folder) lives under
one temporary folder that is removed when the server stops (Ctrl-C, SIGTERM). Gradio's
analytics and update check are off (``GRADIO_ANALYTICS_ENABLED=False`` and
``analytics_enabled=False``), there is no share link, no server-side rendering process, no MCP
server, no monitoring page, and the page uses the system's fonts, so neither the server nor the
page calls any outside host. Uploads over uploads.MAX_BYTES are refused by the framework before
they are stored.
"""
from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from ranvis.errors import InputError
from ranvis.serve.execute import Parser
from ranvis.serve.uploads import MAX_BYTES


def _offline_env(root: Path) -> None:
    """Environment the framework reads at import: no telemetry, its files under ``root``."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["GRADIO_TEMP_DIR"] = str(root / "uploads")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _gradio() -> object:
    try:
        import gradio
    except ImportError:
        raise InputError("ranvis serve needs Gradio: pip install 'ranvis[serve]'") from None
    return gradio


def serve(host: str, port: int, parser: Parser) -> int:
    """Run the page until interrupted; 0 after Ctrl-C or SIGTERM (every run is stopped and
    the temporary folder removed), 2 when the port cannot be had. ``parser``: the CLI's
    parser builder (every run is parsed and run as the ``ranvis`` command)."""
    root = Path(tempfile.mkdtemp(prefix="ranvis-serve-"))
    queue = page = None
    try:
        _offline_env(root)
        gr = _gradio()
        from ranvis.serve.execute import execute
        from ranvis.serve.handlers import Handlers
        from ranvis.serve.jobs import JobQueue
        from ranvis.serve.page import CSS, build

        queue = JobQueue(functools.partial(execute, parser=parser))
        page = build(Handlers(queue, root / "uploads", root / "jobs", parser))
        page.queue(default_concurrency_limit=4)
        theme = gr.themes.Default(font=["system-ui", "sans-serif"],
                                  font_mono=["ui-monospace", "monospace"])
        try:
            page.launch(server_name=host, server_port=port, prevent_thread_lock=True,
                        share=False, quiet=True, show_error=False, theme=theme, css=CSS,
                        ssr_mode=False, mcp_server=False, enable_monitoring=False, pwa=False,
                        max_file_size=MAX_BYTES, footer_links=[])
        except OSError as e:
            why = str(e).split(". ")[0]  # Gradio's first sentence, not its advice
            raise InputError(f"cannot listen on {host}:{port} ({why}); choose another --port") \
                from None
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"ranvis serve: note: listening on {host}: whoever reaches this address can "
                  "run tasks on this machine", file=sys.stderr)
        print(f"ranvis serve: open http://{host}:{port}/ (Ctrl-C stops the server)",
              file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:  # runtime.Signals: the first SIGINT or SIGTERM
        print("ranvis serve: stopped", file=sys.stderr)
        return 0
    finally:
        if queue is not None:
            queue.close()
        if page is not None:
            page.close()
        shutil.rmtree(root, ignore_errors=True)
