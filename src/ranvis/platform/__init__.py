"""Platform policy, decided once per run: ``plan`` (:func:`~ranvis.platform.plan.plan_run` makes
the one :class:`~ranvis.platform.plan.RunPlan` a task's loop reads: device, precision, threads,
memory plan), ``device`` (device and precision; CUDA flags set only for a run's duration),
``memory`` (the peak-memory estimate and the refusal), ``heap`` (glibc keeping freed memory, only
when the caller asks), ``threads`` (CPU threads; the passive wait policy of the command)."""
