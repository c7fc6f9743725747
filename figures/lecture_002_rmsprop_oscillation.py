"""RMSProp's oscillation at eta = 0.1 against eta = 0.05 (beta = 0.5, eps = 1e-4).

Left: trajectories from (-4, 4) on the loss contours, with AdaGrad (eta = 0.1) from the same
start.  Middle: the last 40 iterates around the minimum.  Right: the gradient with respect
to b over the iterations (the lecture's "gradients across 500 iterations").
"""

from optsim import plotting
from studies.lecture_002 import RMSPROP_METHODS, path

NAME = "lecture_002_rmsprop_oscillation"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.9, RMSProp ('However, why there are oscillations?', eta = 0.1 against eta = 0.05)"
CLAIM = ("RMSProp (eta = 0.1, beta = 0.5) converges faster than AdaGrad but ends in an endless oscillation around "
         "the minimum with a constant effective learning rate; eta = 0.05 solves the oscillation.")

STYLES = {"RMSProp, eta = 0.1": "-", "RMSProp, eta = 0.05": "--", "AdaGrad": "-"}
TAIL = 40


def draw(results):
    ds = results["rmsprop"]
    optimum = ds.attrs["optimum"]
    steps = ds["step"].values
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(15, 4.6))
        plotting.plot_contours(ax1, ds["surface"], optimum=optimum)
        for label in RMSPROP_METHODS:
            plotting.plot_path(ax1, path(ds, label), label=label, ls=STYLES[label])
        ax1.legend(loc="lower right", fontsize="small", framealpha=0.9)
        ax1.set_title(f"from (-4, 4), {steps[-1]} iterations")
        for label in ("RMSProp, eta = 0.1", "RMSProp, eta = 0.05"):
            xy = path(ds, label)[-TAIL:]
            plotting.plot_path(ax2, xy, label=label, ls=STYLES[label], markers=True, start=False)
        ax2.plot(*optimum, marker="*", markersize=14, color="gold", mec="k", ls="none", label="minimum")
        for label in ("RMSProp, eta = 0.1", "RMSProp, eta = 0.05"):
            xy = path(ds, label)[-2:]
            ax2.annotate(f"eta = {ds['optimizer'].sel(optimizer=label).item().split('= ')[1]}: jumps of "
                         f"{abs(xy[1, 0] - xy[0, 0]):.2f} in w and b", xy=xy[-1], xytext=(-8, -4),
                         textcoords="offset points", fontsize="x-small", ha="right")
        ax2.set(xlabel="w", ylabel="b", title=f"the last {TAIL} iterates (2-cycles)", aspect="equal")
        ax2.legend(fontsize="small", loc="upper right")
        for label, mfc in (("RMSProp, eta = 0.1", None), ("RMSProp, eta = 0.05", "white")):
            g = ds["grad"].sel(optimizer=label, param="b").isel(replicate=0).values
            ax3.plot(steps, g, color=plotting.optimizer_color(label), ls="none", marker="o", markersize=2.5,
                     mfc=mfc, label=label)
        ax3.axhline(0.0, color="0.5", lw=0.6)
        ax3.set(xlabel="iteration", ylabel="gradient with respect to b (summed)",
                title="gradient of b: it flips sign at every iteration")
        ax3.legend(fontsize="small")
    return fig


def animate(results, frames=40):
    ds = results["rmsprop"]
    return plotting.animate_paths(ds["surface"], {label: path(ds, label) for label in RMSPROP_METHODS},
                                  frames=frames, optimum=ds.attrs["optimum"], styles=STYLES,
                                  title="RMSProp (beta = 0.5) and AdaGrad from (-4, 4)")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
