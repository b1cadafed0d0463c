"""The optimization loop and what it runs on: ``loop`` (L-BFGS or Adam, one iteration = one
evaluation, callbacks, the best image so far, resume, plateau stop), ``evalcache`` (the last
points evaluated, the best so far), ``stopping`` (when a run is flat), ``params`` (the optimized
variable: pixels, Fourier coefficients, a coarse image), ``starts`` (seeded noise and style
starts), ``callbacks`` (progress, snapshots, history), ``checkpoint`` (``--checkpoint``)."""
