"""
How the gradient noise moves Adam's and SGD's best learning rate
================================================================

The same quadratic, with the noise level as a grid axis: for each sigma, the median final
loss after 500 steps against the learning rate, for SGD and Adam (64 replicates per cell,
the same noise sequences in every cell: common random numbers).  More noise lowers the best
learning rate and raises the floor the loss settles on.
"""

import numpy as np

import optsim
from optsim import plotting
from optsim.optimizers import SGD, Adam

ds = optsim.sweep(
    problem=optsim.problems.Quadratic(curvatures=[1.0, 100.0], x0=[1.0, 1.0]),
    noise=optsim.noise.Gaussian(sigma=1.0),
    optimizer={"SGD": SGD(), "Adam": Adam()},
    grid={"lr": np.logspace(-4, 0, 13), "sigma": [0.01, 0.1, 1.0]},
    replicates=64, steps=500, record=(), seed=0,
)

with plotting.use_style():
    fig, axes = plotting.new_figure(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, name in zip(axes, ["SGD", "Adam"]):
        for sigma, style in zip(ds["sigma"].values, ["-", "--", ":"]):
            med = ds["final_loss"].sel(optimizer=name, sigma=sigma).median("replicate")
            ax.plot(ds["lr"], med, style, marker=".", color=plotting.optimizer_color(name), label=f"sigma {sigma:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_title(name)
        ax.legend()
    axes[0].set_ylabel("median final loss")
