"""Platform policy, decided once per run: ``device`` (device and precision; CUDA flags set only
for a run's duration), ``memory`` (the peak-memory estimate and the plan derived from it),
``heap`` (glibc keeping freed memory, only when the caller asks)."""
