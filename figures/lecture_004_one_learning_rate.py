"""One learning rate cannot fit an elongated convex error surface.

Gradient descent on f = 1/2 (theta_1^2 + 200 theta_2^2) (flat along theta_1, steep across
the valley) from (-10, 1).  Top left: with a large learning rate, just below the stability
limit 2/lambda_max, the first 100 steps bounce between the valley walls (dots: iterates).
Top right: with a small one, the path over 100,000 updates reaches the valley floor and
then crawls.  Bottom: the loss and the gradient norm over the steps (shaded: the window of
the verdict): with the large rate the loss stalls while the gradient stays large.
"""

import numpy as np

from optsim import plotting

NAME = "lecture_004_one_learning_rate"
STUDY = "lecture_004"
LECTURE = "004"
SLIDE = "Training stuck != Small Gradient; 'Training can be difficult even without critical points' (convex error surface)"
CLAIM = ("On a convex but elongated error surface gradient descent with one learning rate either bounces between "
         "the valley walls (the loss stalls while the gradient stays large) or, with a small rate, cannot move "
         "along the flat direction.")


AXES = {"xlabel": r"$\theta_1$ (flat direction)", "ylabel": r"$\theta_2$ (steep direction)"}


def _dense_end(gd):
    steps = gd["step"].values
    gaps = np.flatnonzero(np.diff(steps) > 1)
    return int(steps[gaps[0]]) if gaps.size else int(steps[-1])


SHOW = 100  # steps of the bouncing path drawn


def _paths(gd, show=SHOW):
    big, small = gd.attrs["eta_large"], gd.attrs["eta_small"]
    end = min(show, _dense_end(gd))
    xy_big = gd["params"].sel(lr=big, step=slice(0, end)).transpose("step", "param").values
    xy_small = gd["params"].sel(lr=small).transpose("step", "param").values
    return {f"GD, large eta = {big:.5g}": xy_big, f"GD, small eta = {small:g}": xy_small}


def draw(results):
    gd = results["gd"]
    big, small = gd.attrs["eta_large"], gd.attrs["eta_small"]
    color = plotting.optimizer_color("gd")
    end = _dense_end(gd)
    T = int(gd["step"].values[-1])
    (lb, xb), (ls_, xs) = _paths(gd).items()
    with plotting.use_style():
        fig, axes = plotting.new_figure(2, 2, figsize=(11, 7))
        (ax1, ax2), (ax3, ax4) = axes
        for ax, label, xy, text in ((ax1, lb, xb, f"first {len(xb) - 1} steps"), (ax2, ls_, xs, f"{T} steps")):
            plotting.plot_contours(ax, gd["surface"], optimum=tuple(gd.attrs["optimum"]))
            ax.set(**AXES)
            plotting.plot_path(ax, xy, label=label, color=color, markers=ax is ax1, linewidth=0.7)
            ax.set_title(f"{label}: {text}")
            ax.legend(loc="lower right", fontsize="x-small")
        steps = gd["step"].values
        for lr, style, name in ((big, "-", "large eta"), (small, "--", "small eta")):
            sel = gd.sel(lr=lr)
            ax3.loglog(steps[1:], sel["loss"].values[1:], color=color, ls=style, label=f"{name} = {lr:.5g}")
            ax4.loglog(steps[1:], sel["grad_norm"].values[1:], color=color, ls=style, label=f"{name} = {lr:.5g}")
        for ax in (ax3, ax4):
            ax.axvspan(10, end, color="0.92", lw=0)
        ax3.set(xlabel="step", ylabel="loss", title="loss")
        ax4.set(xlabel="step", ylabel="gradient norm", title="gradient norm")
        ax3.legend(fontsize="x-small", loc="lower left")
        ax4.legend(fontsize="x-small", loc="lower left")
    return fig


def animate(results, frames=SHOW):
    """The bouncing path of the large learning rate, step by step (the small rate's path needs
    100,000 steps and is recorded sparsely, so it is only in the static figure)."""
    gd = results["gd"]
    label, xy = next(iter(_paths(gd).items()))
    fig, anim = plotting.animate_paths(gd["surface"], {label: xy}, frames=frames, optimum=tuple(gd.attrs["optimum"]),
                                       title="one large learning rate: bouncing between the walls", figsize=(6.0, 4.2))
    fig.axes[0].set(**AXES)
    return fig, anim


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
