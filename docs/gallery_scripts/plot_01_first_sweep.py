"""
The first sweep: Adam's learning rate on a noisy quadratic
==========================================================

Adam on the ill-conditioned quadratic 0.5 (x^2 + 100 y^2) with N(0, 1) noise on each
gradient coordinate: nine learning rates, 32 replicates, 500 steps.  Left: the median loss
of the best learning rate with its 10-90% band over replicates.  Right: the final loss
against the learning rate (the star marks the lowest median).
"""

import numpy as np

import optsim
from optsim import analysis, plotting

ds = optsim.sweep(
    problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
    noise=optsim.noise.Gaussian(sigma=1.0),
    optimizer=optsim.optimizers.Adam(),
    grid={"lr": np.logspace(-4, 0, 9)},
    replicates=32, steps=500, record_every=50, seed=0,
)
best = float(analysis.best_lr(ds)["best_lr"])
print(f"best learning rate: {best:g}")

with plotting.use_style():
    fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 3.8))
    plotting.plot_band(ax1, ds["loss"].sel(lr=best), label=f"Adam, lr {best:g}")
    ax1.legend()
    plotting.plot_loss_vs_lr(ax2, ds)
