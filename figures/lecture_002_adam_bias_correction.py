"""Adam against Adam without bias correction of v (eta = 0.1, beta1 = 0.9, beta2 = 0.999).

Left: trajectories from (-4, -4) on the loss contours.  Right: the length of each step;
without the correction 1 - beta2^t of the second moment the first steps are larger by
about 1/sqrt(1 - beta2) = 31.6.
"""

import numpy as np

from optsim import plotting
from studies.lecture_002 import path

NAME = "lecture_002_adam_bias_correction"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.9, 'What if we don't do bias correction?' (Adam against Adam-No-BC, beta2 = 0.999, eta0 = 0.1)"
CLAIM = ("Without bias correction Adam's initial steps are much larger (eta/sqrt(v_t) against eta/sqrt(v_hat_t)), "
         "though bias correction is not a must for reaching the minimum.")

METHODS = {"Adam": "-", "Adam, no bias correction": "--"}


def draw(results):
    ds = results["adam"]
    optimum = ds.attrs["optimum"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.4))
        plotting.plot_contours(ax1, ds["surface"], optimum=optimum)
        for label, ls in METHODS.items():
            plotting.plot_path(ax1, path(ds, label), label=label, ls=ls, markers=True)
            step = np.linalg.norm(np.diff(path(ds, label), axis=0), axis=1)
            ax2.plot(np.arange(1, step.size + 1), step, color=plotting.optimizer_color(label), ls=ls, label=label)
        ax1.legend(loc="upper right", fontsize="small", framealpha=0.9)
        ax1.set_title("from (-4, -4) (dots: iterates)")
        first = [np.linalg.norm(path(ds, label)[1] - path(ds, label)[0]) for label in METHODS]
        ax2.annotate(f"first step {first[1] / first[0]:.1f}x larger", xy=(1, first[1]), xytext=(1.4, first[1] * 3),
                     fontsize="small", arrowprops={"arrowstyle": "->", "color": "0.3"})
        ax2.set(xscale="log", yscale="log", xlabel="iteration", ylabel="step length |x_t - x_(t-1)|",
                title="step lengths")
        ax2.legend(fontsize="small")
    return fig


def animate(results, frames=40):
    ds = results["adam"]
    return plotting.animate_paths(ds["surface"], {label: path(ds, label)[:200] for label in METHODS}, frames=frames,
                                  optimum=ds.attrs["optimum"], styles=METHODS,
                                  title="Adam with and without bias correction")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
