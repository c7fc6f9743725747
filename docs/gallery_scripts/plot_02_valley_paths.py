"""
Gradient descent, momentum and Adam in a narrow valley
======================================================

One noise-free trajectory of each method on 0.5 (x^2 + 25 y^2) from (-4, 1), each at the
learning rate with the lowest final loss of a small grid, drawn on the loss contours (open
circle: start, filled circle: end, star: the minimum).  Gradient descent's rate is capped by
the steep direction (curvature 25: it must stay below 2/25), so after a few zigzags it crawls
along the flat floor; momentum and Adam take larger steps along the valley and overshoot,
oscillating about the floor on their way to the minimum.
"""

import numpy as np

import optsim
from optsim import analysis, plotting
from optsim.optimizers import SGD, Adam

problem = optsim.problems.Quadratic(curvatures=[1.0, 25.0], x0=[-4.0, 1.0])
ds = optsim.sweep(
    problem=problem,
    optimizer={"GD": SGD(), "momentum": SGD(momentum=0.9), "Adam": Adam()},
    grid={"lr": np.logspace(-2.5, -0.5, 9)},
    replicates=1, steps=60, record_every=1, record=("loss", "params"), seed=0,
)
surface = analysis.loss_surface(problem, (-4.5, 1.5), (-1.5, 1.5), n=160)
best = analysis.best_lr(ds)["best_lr"]

with plotting.use_style():
    fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 3.8), width_ratios=[1.6, 1])
    plotting.plot_contours(ax1, surface, optimum=(0.0, 0.0))
    for name in ds["optimizer"].values:
        lr = float(best.sel(optimizer=name))
        one = ds.sel(optimizer=name, lr=lr).isel(replicate=0)
        xy = one["params"].transpose("step", "param").values
        label = f"{name} (lr {lr:.3g})"
        plotting.plot_path(ax1, xy, label=label, color=plotting.optimizer_color(str(name)))
        ax2.plot(one["step"], one["loss"], label=label, color=plotting.optimizer_color(str(name)))
    ax1.legend(loc="lower right")
    ax2.set_yscale("log")
    ax2.set_xlabel("step")
    ax2.set_ylabel("loss")
