"""The page: a Gradio Blocks layout wired to serve.handlers.

Left, the form: task, the image(s) (a bundled sample, or an upload that replaces it), the
options that matter, the rest under "More"; right, the run: status line, the picture forming,
downloads and the command. Every event that only watches (a run's progress, the page's load)
has no concurrency limit, so a long run never blocks another tab's view; the runs themselves
queue in serve.jobs. The browser remembers its last run's id (local storage), so a page opened
again after its tab was closed finds that run, finished or not. Fonts are the system's: no
request leaves the machine.
"""
from typing import Any

from ranvis import defaults as D
from ranvis.cli.demo import DEMO_ITERS
from ranvis.serve.handlers import UPLOAD, Handlers

# The form's values, in the order the Run button sends them (handlers.Handlers.spec's keys).
FORM = ("task", "sample", "upload", "style_sample", "style_upload", "preset", "arch", "layer",
        "size", "iters", "seed", "out_w", "out_h", "content_weight", "style_weight",
        "tv_weight", "original_colors", "net", "net_seed", "init", "scales", "padding",
        "optimizer")
# Each task's default budget: the demo's, sized for a 96 px run.
ITERS = {task: DEMO_ITERS[task] for task in ("invert", "texture", "style")}
CSS = """
#preview img { image-rendering: pixelated; object-fit: contain; }
.note p { margin: 0; }
#status progress { width: 100%; height: 10px; }
footer { display: none !important; }
"""


def _layers(arch: str) -> list[str]:
    from ranvis.nets import get_arch

    p = get_arch(arch).presets
    return [*p.invert, *p.deep]


def _default_layer(arch: str) -> str:
    taps = _layers(arch)
    return taps[1] if len(taps) > 1 else taps[0]


def _image_slot(gr: Any, label: str, sample: str, key: str) -> tuple[Any, Any, Any]:
    """A sample menu, an upload box and the note that says which is used (or why refused);
    element ids ``KEY_sample``, ``KEY_upload``, ``KEY_note``."""
    from ranvis.io.images import SAMPLES

    with gr.Group():
        menu = gr.Dropdown([*SAMPLES, UPLOAD], value=sample, label=f"{label} (a sample)",
                           elem_id=f"{key}_sample")
        upload = gr.File(label="or upload one (PNG or JPEG)", file_types=["image"],
                         type="filepath", height=110, elem_id=f"{key}_upload")
        note = gr.Markdown("", elem_classes="note", elem_id=f"{key}_note")
    return menu, upload, note


SOURCE = {"style": "Photo", "texture": "Texture source", "invert": "Image to invert"}


def _visible(gr: Any, task: str) -> list[Any]:
    """What a task shows: the style image and options, the layer, the texture size; its
    budget and the name of its first image."""
    return [gr.update(visible=task == "style"), gr.update(visible=task == "invert"),
            gr.update(visible=task == "texture"), gr.update(visible=task == "style"),
            gr.update(value=ITERS[task]), gr.update(label=f"{SOURCE[task]} (a sample)")]


def build(h: Handlers) -> Any:
    """The Blocks app over handlers ``h`` (not launched)."""
    import gradio as gr

    c: dict[str, Any] = {}
    # delete_cache: the framework's copies (uploads, previews) older than an hour, every 10 min
    with gr.Blocks(title="ranvis", analytics_enabled=False, delete_cache=(600, 3600)) as page:
        gr.Markdown("## ranvis: pictures from a random, untrained network\nInvert a layer, "
                    "synthesize a texture or transfer a style, and watch the picture form.")
        saved = gr.BrowserState(None, storage_key="ranvis-last-run")
        job = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                notes, boxes = _form(gr, c)
                with gr.Row():
                    run = gr.Button("Run", variant="primary", elem_id="run")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop")
            with gr.Column(scale=1, min_width=300):
                outputs = _outputs(gr)
        for key, component in c.items():  # element ids for tests and styles: the form's keys
            component.elem_id = component.elem_id or key
        _wire(gr, h, c, page, (saved, job, run, stop), outputs, notes, boxes)
    return page


def _form(gr: Any, c: dict[str, Any]) -> tuple[tuple[Any, Any], tuple[Any, Any, Any]]:
    """The form's fields into ``c`` (by the CLI option they set); returns the two image notes
    and the boxes a task shows or hides (style image, style options, texture size)."""
    from ranvis.nets import ARCH_NAMES

    c["task"] = gr.Radio(["style", "texture", "invert"], value="style", label="task")
    c["sample"], c["upload"], note = _image_slot(gr, SOURCE["style"], "chelsea", "source")
    with gr.Column(visible=True) as style_box:
        c["style_sample"], c["style_upload"], style_note = _image_slot(
            gr, "Style", "hubble_deep_field", "style")
    with gr.Row():
        c["preset"] = gr.Radio(["best", "paper"], value="best", label="preset")
        c["arch"] = gr.Dropdown(list(ARCH_NAMES), value=D.ARCH, label="network")
    c["layer"] = gr.Dropdown(_layers(D.ARCH), value=_default_layer(D.ARCH),
                             label="layer to invert", visible=False)
    with gr.Row():
        c["size"] = gr.Slider(32, 512, value=D.DEMO_SIZE, step=8, label="size (px)")
        c["iters"] = gr.Number(ITERS["style"], precision=0, minimum=1,
                               label="budget (evaluations)")
        c["seed"] = gr.Number(0, precision=0, minimum=0, label="seed")
    with gr.Row(visible=False) as tex_box:
        c["out_w"] = gr.Number(0, precision=0, minimum=0, label="texture width (0: the source's)")
        c["out_h"] = gr.Number(0, precision=0, minimum=0, label="texture height")
    with gr.Row(visible=True) as style_opts:
        for k, what in (("style_weight", "style"), ("content_weight", "content"),
                        ("tv_weight", "smoothness (TV)")):
            c[k] = gr.Slider(0, 10, value=1, step=0.1, label=f"{what} weight")
        c["original_colors"] = gr.Checkbox(False, label="keep the photo's colours")
    with gr.Accordion("More", open=False):
        _more(gr, c)
    return (note, style_note), (style_box, style_opts, tex_box)


def _more(gr: Any, c: dict[str, Any]) -> None:
    """The fields under "More": weights, start, scales, padding, optimizer."""
    c["net"] = gr.Radio(["random", "stacked"], value="random",
                        label="network weights (stacked: VGG-19 only)")
    c["net_seed"] = gr.Number(0, precision=0, minimum=0, label="network seed")
    c["init"] = gr.Dropdown(["", "noise", "content", "style"], value="",
                            label="style: start image (empty: the preset's)")
    c["scales"] = gr.Number(None, precision=0, minimum=1,
                            label="style: scales (empty: the preset's)")
    c["padding"] = gr.Dropdown(["", "zeros", "reflect"], value="",
                               label="padding (empty: the preset's)")
    c["optimizer"] = gr.Radio(["lbfgs", "adam"], value="lbfgs", label="optimizer")


def _outputs(gr: Any) -> tuple[Any, Any, Any, Any]:
    """The right column: status line, the picture, the files, the command."""
    state = gr.Markdown("Choose images and press Run.", elem_id="status")
    preview = gr.Image(None, type="pil", format="png", label="the picture", interactive=False,
                       elem_id="preview", height=420,
                       buttons=["download", "fullscreen"])  # no share: no upload
    files = gr.File(None, file_count="multiple", label="download: PNG, JPEG, run record (JSON), "
                    "loss plot", interactive=False, elem_id="files")
    command = gr.Textbox("", label="the same run from a shell", buttons=["copy"],
                         interactive=False, elem_id="command")
    return state, preview, files, command


def _wire(gr: Any, h: Handlers, c: dict[str, Any], page: Any, keys: tuple[Any, ...],
          out: tuple[Any, ...], notes: tuple[Any, ...], boxes: tuple[Any, ...]) -> None:
    """Connect the events (see the module's docstring for the concurrency rule)."""
    saved, job, run, stop = keys
    state, preview, files, command = out
    style_box, style_opts, tex_box = boxes

    def watch(job_id: str | None, request: gr.Request) -> Any:
        for text, image, got, cmd in h.watch(job_id, request.session_hash or ""):
            yield (text, gr.skip() if image is None else image,
                   gr.skip() if got is None else got, cmd)

    def start(data: dict[Any, Any], request: gr.Request) -> tuple[Any, ...]:
        """``data``: the form as {component: value} (inputs given as a set)."""
        job_id, text = h.run({k: data[c[k]] for k in FORM}, request.session_hash or "")
        return job_id, job_id, text, None, None, ""

    def arch_changed(arch: str) -> Any:
        return gr.update(choices=_layers(arch), value=_default_layer(arch))

    c["task"].change(lambda t: _visible(gr, t), c["task"],
                     [style_box, c["layer"], tex_box, style_opts, c["iters"], c["sample"]])
    c["arch"].change(arch_changed, c["arch"], c["layer"])
    for upload, note in ((c["upload"], notes[0]), (c["style_upload"], notes[1])):
        upload.upload(h.check, upload, [upload, note], concurrency_limit=None)
        upload.clear(lambda: "", None, note)
    form = {c[k] for k in FORM}
    run.click(start, form, [job, saved, state, preview, files, command]).then(
        watch, job, [state, preview, files, command], concurrency_limit=None)
    stop.click(h.stop, job, state, concurrency_limit=None)

    def reopen(job_id: str | None, request: gr.Request) -> str | None:
        return h.show(request.session_hash or "", job_id)

    page.load(reopen, saved, job).then(watch, job, [state, preview, files, command],
                                             concurrency_limit=None)
