"""The triangular cyclical learning rate against exponential decay, for GD near a saddle point.

Left: the rates, the triangular policy with eta_min = 0.01, eta_max = 0.5 and step size 20
(the lecture's formula) and an exponential decay 0.5 * 0.9^t.  Right: GD with each rate on
optsim's saddle f(x, y) = (x^2 - y^2)/2 + y^4/4 from (-2, 1e-4), the start of the lecture's
cyclical-rate code: the decayed rate freezes GD next to the saddle point (0, 0), the
cyclical one lets it escape to the minimum (0, 1).
"""

from optsim import plotting
from studies.lecture_002 import path

NAME = "lecture_002_cyclic_lr"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.10, 'CLR: Triangular' (eta_max = 0.5, eta_min = 0.01, mu = 20) and the saddle-point rationale"
CLAIM = ("With an exponentially decreasing learning rate GD has no way out of a saddle point; a cyclical rate, "
         "which rises again, lets it escape.")

METHODS = {"GD, triangular CLR": "-", "GD, exponential decay": "--"}


def draw(results):
    ds = results["schedules"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.4))
        k = ds["step"].values[1:] - 1
        for label, ls in METHODS.items():
            eta = ds["eff_lr"].sel(optimizer=label).isel(replicate=0, param=0).values[1:]
            ax1.plot(k, eta, color=plotting.optimizer_color(label), ls=ls, label=label.split(", ")[1])
        lo, hi, mu = ds.attrs["clr"]
        ax1.plot([mu], [hi], marker="o", color="C3", ls="none", label=f"t = {mu:g}: eta_max")
        ax1.set(xlabel="iteration t", ylabel="learning rate eta_t", xlim=(0, 120),
                title=f"triangular CLR: eta_min = {lo:g}, eta_max = {hi:g}, step size {mu:g}")
        ax1.legend(fontsize="small", loc="upper right")
        plotting.plot_contours(ax2, ds["surface"], optimum=ds.attrs["optimum"])
        ax2.plot(0, 0, marker="X", mfc="none", mec="C3", mew=1.5, ms=11, ls="none", label="saddle point", zorder=4)
        for label, ls in METHODS.items():
            plotting.plot_path(ax2, path(ds, label), label=label, ls=ls, markers=True)
        end = path(ds, "GD, exponential decay")[-1]
        ax2.annotate(f"exponential decay stops here\n(y = {end[1]:.4f})", xy=end, xytext=(-95, 40),
                     textcoords="offset points", fontsize="small", arrowprops={"arrowstyle": "->", "color": "0.2"})
        ax2.legend(fontsize="small", loc="lower right", framealpha=0.9)
        ax2.set_title(f"GD from (-2, 1e-4), {ds.sizes['step'] - 1} iterations")
    return fig


def animate(results, frames=40):
    ds = results["schedules"]
    return plotting.animate_paths(ds["surface"], {label: path(ds, label)[:121] for label in METHODS}, frames=frames,
                                  optimum=ds.attrs["optimum"], styles=METHODS, title="GD near a saddle point")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
