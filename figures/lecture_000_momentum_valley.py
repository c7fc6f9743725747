"""Gradient descent and momentum in a deep, narrow valley.

Left: the paths of gradient descent and momentum (gamma = 0.9, the lecture's form) on
f = 1/2 (x^2 + 50 y^2) from (-9, 1.2), each at the learning rate with the lowest loss
after the run (dots: the iterates).  Middle: their loss over the steps.  Right: the loss at
the end against the learning rate (star: the rate used on the left; missing points
diverged).
"""

import numpy as np

from optsim import plotting

NAME = "lecture_000_momentum_valley"
STUDY = "lecture_000"
LECTURE = "000"
SLIDE = "Momentum Example: 'deep valley' (깊은 계곡)"
CLAIM = ("Accumulating the gradients with a discount factor lets momentum run down a deep valley where gradient "
         "descent zigzags between the walls and crawls along the floor.")

LABELS = {"gd": "GD", "momentum": "momentum"}


def _paths(ds):
    out = {}
    for o in ("gd", "momentum"):
        lr = float(ds["best_lr"].sel(optimizer=o))
        xy = ds["params"].sel(optimizer=o, lr=lr).isel(replicate=0).transpose("step", "param").values
        out[f"{LABELS[o]} (lr {lr:.3g})"] = xy
    return out


def draw(results):
    ds = results["valley"]
    opt = tuple(ds.attrs["optimum"])
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(12, 3.6), width_ratios=[1.5, 1, 1])
        plotting.plot_contours(ax1, ds["surface"], optimum=opt)
        for label, xy in _paths(ds).items():
            plotting.plot_path(ax1, xy, label=label, markers=True)
        ax1.set_title(f"{ds.sizes['step'] - 1} steps, each at its best learning rate")
        ax1.legend(loc="lower right", fontsize="x-small")
        for o in ("gd", "momentum"):
            lr = float(ds["best_lr"].sel(optimizer=o))
            c = plotting.optimizer_color(o)
            ax2.semilogy(ds["step"], ds["loss"].sel(optimizer=o, lr=lr).isel(replicate=0), color=c,
                         label=f"{LABELS[o]} (lr {lr:.3g})")
            fl = ds["final_loss"].sel(optimizer=o).isel(replicate=0)
            ax3.loglog(ds["lr"], np.where(np.isfinite(fl), fl, np.nan), ".-", color=c, label=LABELS[o], ms=4)
            ax3.plot(lr, float(fl.sel(lr=lr)), "*", color=c, mec="k", mew=0.5, ms=10)
        ax2.set(xlabel="step", ylabel="loss", title="loss")
        ax2.legend(fontsize="x-small")
        ax3.set(xlabel="learning rate", ylabel="loss after the run", title="all learning rates",
                ylim=(None, 10 * float(ds["loss"].isel(step=0).max())))
        ax3.legend(fontsize="x-small")
    return fig


def animate(results, frames=None):
    ds = results["valley"]
    n = ds.sizes["step"]
    return plotting.animate_paths(ds["surface"], _paths(ds), frames=frames or n, optimum=tuple(ds.attrs["optimum"]),
                                  title="deep valley: GD vs momentum")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
