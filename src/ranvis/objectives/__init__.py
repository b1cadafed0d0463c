"""What is optimized and what is measured: ``losses`` (the paper's equations as pure functions),
``weighting`` (the automatic factors ω_l, µ_l, the TV factor), ``terms`` (``Term`` × factor
summed into an ``Objective``; ``Ensemble`` over K networks), ``color`` (colour matching),
``metrics`` (PSNR, SSIM, feature error, texture energy), ``styleloss`` (style losses on
feature distributions beside the Gram matrix)."""
