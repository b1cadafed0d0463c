"""The paper's three tasks — :func:`invert`, :func:`synthesize_texture`, :func:`transfer_style` —
each its own short pipeline (tasks.inversion, tasks.texture, tasks.transfer) over what they share
(tasks.common). These signatures are the one place for defaults: the CLI, the experiments and
the benchmarks read them. Each task returns a :class:`Run` whose ``record`` is the run record
(see record.py). ``arch`` picks the architecture of a random network (ranvis.nets).
"""
from ranvis.optim.starts import noise
from ranvis.platform.device import fast_bfloat16, precision_name, resolve_device, resolve_precision
from ranvis.tasks.common import Loop, Run, make_net, resolve_arch
from ranvis.tasks.inversion import auto_param, invert
from ranvis.tasks.texture import gram_terms, synthesize_texture
from ranvis.tasks.transfer import transfer_style

__all__ = ["Loop", "Run", "auto_param", "fast_bfloat16", "gram_terms", "invert", "make_net",
           "noise", "precision_name", "resolve_arch", "resolve_device", "resolve_precision",
           "synthesize_texture", "transfer_style"]
