"""AdaDelta against RMSProp started with eta0 = 0.013, from (-4, -4) (beta = 0.99, eps = 1e-4).

Left: trajectories on the loss contours, with the iteration at which each comes within 0.1
of the minimum.  Right: the effective learning rates, sqrt(u_{t-1} + eps) / sqrt(v_t + eps)
for AdaDelta and 0.013 / sqrt(v_t + eps) for RMSProp, for w (solid) and b (dashed).
"""

from optsim import plotting
from studies.lecture_002 import ADADELTA_METHODS, first_reach, path

NAME = "lecture_002_adadelta_vs_rmsprop"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.9, AdaDelta ('Let's initialize the RMSProp with eta0 = 0.013 ... and AdaDelta at w0 = -4, b0 = -4')"
CLAIM = ("AdaDelta reaches the minimum after about 35 iterations, more quickly than RMSProp with eta0 = 0.013, "
         "because RMSProp decays its learning rate more aggressively while AdaDelta's numerator adapts.")


def draw(results):
    ds = results["adadelta"]
    optimum = ds.attrs["optimum"]
    steps = ds["step"].values[1:]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.6))
        plotting.plot_contours(ax1, ds["surface"], optimum=optimum)
        for label in ADADELTA_METHODS:
            t = first_reach(ds, label, ds.attrs["reach_tol"])
            plotting.plot_path(ax1, path(ds, label), label=f"{label} (within 0.1 of the minimum at iteration {t})")
        ax1.legend(loc="lower right", fontsize="small", framealpha=0.9)
        ax1.set_title(f"from (-4, -4), {ds.sizes['step'] - 1} iterations")
        for label in ADADELTA_METHODS:
            e = ds["eff_lr"].sel(optimizer=label).isel(replicate=0)
            color = plotting.optimizer_color(label)
            ax2.plot(steps, e.sel(param="w").values[1:], color=color, label=f"{label}, w")
            ax2.plot(steps, e.sel(param="b").values[1:], color=color, ls="--", label=f"{label}, b")
        ax2.set(yscale="log", xlabel="iteration", ylabel="effective learning rate",
                title="AdaDelta: sqrt(u+eps)/sqrt(v+eps);  RMSProp: 0.013/sqrt(v+eps)")
        ax2.legend(fontsize="small")
    return fig


def animate(results, frames=40):
    ds = results["adadelta"]
    return plotting.animate_paths(ds["surface"], {label: path(ds, label) for label in ADADELTA_METHODS},
                                  frames=frames, optimum=ds.attrs["optimum"],
                                  title="AdaDelta and RMSProp (eta0 = 0.013)")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
