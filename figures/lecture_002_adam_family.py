"""Adam, AdaMax, NAdam and AMSGrad on the sparse sigmoid neuron, from (-4, -4), eta = 0.1.

Left: trajectories on the loss contours.  Right: the distance to the minimum over the
iterations.  Each method in the form of the lecture's code: Adam (beta2 = 0.999, eps = 1e-10
outside sqrt(v_hat)), AdaMax (beta2 = 0.99, v_t = max(beta2 v_(t-1), |g_t|)), NAdam (the
lecture's form, beta2 = 0.99) and AMSGrad (no bias correction, max of v, beta2 = 0.999).
"""

from optsim import plotting
from studies.lecture_002 import path

NAME = "lecture_002_adam_family"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.9, Adam, AdaMax ('For Batch-Gradient Descent Adam Wins the race'), NAdam and AMSGrad"
CLAIM = "All of the Adam family reach the minimum; with full-batch gradients Adam wins the race against AdaMax."

METHODS = ["Adam", "AdaMax", "NAdam", "AMSGrad"]


def draw(results):
    ds = results["adam"]
    optimum = ds.attrs["optimum"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.4))
        plotting.plot_contours(ax1, ds["surface"], optimum=optimum)
        for label in METHODS:
            plotting.plot_path(ax1, path(ds, label), label=label)
            d = ds["dist"].sel(optimizer=label).isel(replicate=0)
            ax2.plot(ds["step"].values, d.values, color=plotting.optimizer_color(label), label=label)
        ax2.axhline(ds.attrs["reach_tol"], color="0.4", ls=":", lw=1, label="0.1 ('reached')")
        ax1.legend(loc="lower right", fontsize="small", framealpha=0.9)
        ax1.set_title("from (-4, -4)")
        ax2.set(yscale="log", xlabel="iteration", ylabel="distance to the minimum", xlim=(0, 250),
                ylim=(1e-6, None), title="distance to the minimum")
        ax2.legend(fontsize="small")
    return fig


def animate(results, frames=40):
    ds = results["adam"]
    return plotting.animate_paths(ds["surface"], {label: path(ds, label)[:200] for label in METHODS}, frames=frames,
                                  optimum=ds.attrs["optimum"], title="Adam, AdaMax, NAdam, AMSGrad")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
