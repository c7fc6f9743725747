"""Cosine annealing with warm restarts (eta_max = 1, eta_min = 0.1, T = 50) and when its run reaches the minimum.

Left: the rate eta_t = eta_min + (eta_max - eta_min)/2 (1 + cos(pi (t mod (T+1)) / T)).
Right: the distance to the minimum of GD on optsim's saddle from (-2, 1e-4) with this rate,
with the triangular cyclical rate and with a constant rate 0.1; the dotted line is the
lecture's iteration 46 and the markers the first iterate within 0.1 of the minimum.
"""

from optsim import plotting
from studies.lecture_002 import first_reach

NAME = "lecture_002_warm_restarts"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.10, 'Cosine Annealing (Warm Re-Start)' ('Reached minimum at 46th Iteration')"
CLAIM = ("The warm-restart rate jumps back to eta_max after T iterations; the run with it reaches the minimum at the "
         "46th iteration, faster than without cycling the rate.")

METHODS = {"GD, warm restarts": "-", "GD, triangular CLR": "--", "GD, constant 0.1": ":"}


def draw(results):
    ds = results["schedules"]
    eta_max, eta_min, period = ds.attrs["restart"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.2))
        k = ds["step"].values[1:] - 1
        for label in ("GD, warm restarts", "GD, constant 0.1"):
            eta = ds["eff_lr"].sel(optimizer=label).isel(replicate=0, param=0).values[1:]
            ax1.plot(k, eta, color=plotting.optimizer_color(label), ls=METHODS[label], label=label.split(", ")[1])
        for t in range(int(period), int(k[-1]) + 1, int(period) + 1):
            ax1.axvline(t + 0.5, color="0.6", lw=0.6)
        ax1.set(xlabel="iteration t", ylabel="learning rate eta_t",
                title=f"eta_max = {eta_max:g}, eta_min = {eta_min:g}, T = {period:g} (grey: restarts)")
        ax1.legend(fontsize="small", loc="upper right")
        for label, ls in METHODS.items():
            d = ds["dist"].sel(optimizer=label).isel(replicate=0).values
            color = plotting.optimizer_color(label)
            ax2.plot(ds["step"].values, d, color=color, ls=ls, label=label)
            t = first_reach(ds, label)
            if t >= 0:
                ax2.plot(t, d[t], marker="o", color=color, ls="none")
                ax2.annotate(str(t), (t, d[t]), xytext=(4, 4), textcoords="offset points", fontsize="small")
        ax2.axvline(46, color="C3", ls=":", label="the lecture: iteration 46")
        ax2.axhline(ds.attrs["reach_tol"], color="0.5", lw=0.6)
        ax2.set(yscale="log", ylim=(1e-8, 3), xlabel="iteration", ylabel="distance to the minimum (0, 1)",
                title="GD on the saddle from (-2, 1e-4)")
        ax2.legend(fontsize="small", loc="lower left")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
