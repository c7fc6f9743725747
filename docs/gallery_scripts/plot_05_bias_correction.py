"""
What Adam's bias correction does to the first steps
===================================================

Adam with and without its bias corrections (the options ``bias_correction_m`` and
``bias_correction_v``) on the noisy quadratic, at lr = 0.1 and beta2 = 0.999.  With
both corrections the first step is exactly lr in every coordinate; without the second one
the first step is larger by 1 / sqrt(1 - beta2), about 32, and the loss of the first
hundred steps stays higher and oscillates.  The option is an ordinary grid axis, so both run on the same noise.
"""

import numpy as np

import optsim
from optsim import plotting
from optsim.optimizers import Adam

ds = optsim.sweep(
    problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
    noise=optsim.noise.Gaussian(sigma=1.0),
    optimizer=Adam(lr=0.1, beta2=0.999),
    grid={"bias_correction_v": [True, False]},
    replicates=64, steps=300, record_steps=list(range(0, 301, 5)), seed=0,
)

with plotting.use_style():
    fig, ax = plotting.new_figure(1, 1, figsize=(8, 3.8))
    for i, (value, style) in enumerate(zip([True, False], ["-", "--"])):
        plotting.plot_band(ax, ds["loss"].isel(bias_correction_v=i), color=plotting.optimizer_color("adam"),
                           label=f"bias_correction_v={value}", linestyle=style)
    ax.legend()
