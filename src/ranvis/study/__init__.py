"""Architecture studies: a grid of small optimizations (architectures × taps or strides ×
images × seeds × tasks), each cell stored once under a key derived from its settings, run on a
local process pool or on Ray, scored by judges the studied networks did not make, and written up
as a table, plots and a page.

    from ranvis.study import load_plan, run_study, StudyOptions
    summary = run_study(load_plan("plan.toml"), "out", StudyOptions(workers=2))

Modules: ``plan`` (the plan format), ``fields``/``netchoice``/``taps``/``check`` (its parts and
checks), ``cells`` (the grid and keys), ``runcell`` (one cell, in a worker), ``judges`` (scores),
``store`` (the cell store), ``executors``/``rayexec`` (where cells run), ``runner`` (the driver),
``table``/``leaderboard``/``markdown``/``plots``/``page``/``results`` (the write-up),
``shipped``/``gridflags``/``command`` (plans shipped with ranvis, flags, the CLI command).
"""
from ranvis.study.model import Plan
from ranvis.study.plan import load_plan, parse_plan
from ranvis.study.runner import StudyOptions, Summary, run_study

__all__ = ["Plan", "StudyOptions", "Summary", "load_plan", "parse_plan", "run_study"]
