"""RAdam: the rectification r_t, and what it does to Adam's first steps.

Top left: rho_t, the effective memory length of the EMA of g^2 (beta2 = 0.999), rising to
rho_inf = 1999; RAdam takes momentum-SGD steps while rho_t <= 4.  Top right: r_t in closed
form (line) and as recovered from optsim's RAdam (dots).  Bottom: Adam against RAdam on a
noisy, well-scaled 10-dimensional quadratic: the loss over the first steps at lr = 0.3
(median and 10-90% band over seeds), and the largest rebound of the loss above its running
minimum within the first 100 steps, against the learning rate.
"""

import numpy as np

from optsim import plotting
from studies.lecture_003 import rebound

NAME = "lecture_003_radam"
STUDY = "lecture_003"
LECTURE = "003"
SLIDE = "RAdam [Liu, et al., ICLR'20]: 1. effective memory size of EMA, 2. max memory size (t -> inf), 3. r_t; 'Adam need warm-up'"
CLAIM = ("Adam needs warm-up because its first steps rest on a poorly estimated v_t; RAdam rectifies the adaptive "
         "learning rate by r_t, computed from the effective memory size rho_t, which keeps the first steps small.")

SHOW_LR = 0.3


def draw(results):
    ra = results["radam"]
    t = ra["t"].values
    c_adam, c_radam = plotting.optimizer_color("adam"), plotting.optimizer_color("radam")
    with plotting.use_style():
        fig, axes = plotting.new_figure(2, 2, figsize=(11, 7))
        (ax1, ax2), (ax3, ax4) = axes
        ax1.semilogx(t, ra["rho_t"], color=c_radam, label=r"$\rho_t$")
        ax1.axhline(ra.attrs["rho_inf"], color="k", lw=0.8, ls="--", label=rf"$\rho_\infty$ = {ra.attrs['rho_inf']:g}")
        ax1.axhline(4.0, color="0.5", lw=0.8, ls=":", label=r"$\rho_t$ = 4")
        ax1.set(xlabel="step t", ylabel=r"$\rho_t$", title="effective memory size of the EMA", yscale="log")
        ax1.legend(fontsize="x-small")
        ax2.semilogx(t, ra["r_closed"], color=c_radam, label=r"$r_t$, closed form")
        every = np.unique(np.geomspace(1, len(t), 30).astype(int)) - 1
        ax2.semilogx(t[every], ra["r_engine"].values[every], "o", color="k", mfc="none", ms=4,
                     label=r"$r_t$ from optsim's RAdam")
        sgd = np.isfinite(ra["sgd_phase_factor"].values)
        ax2.axvspan(t[0] * 0.9, t[sgd][-1] + 0.5, color="0.9", lw=0)
        ax2.text(t[0], 0.9, " momentum-SGD\n steps", fontsize=7.5, va="top")
        ax2.set(xlabel="step t", ylabel=r"$r_t$", title="rectification", ylim=(0, 1.02))
        ax2.legend(fontsize="x-small", loc="lower right")
        for o, c in (("adam", c_adam), ("radam", c_radam)):
            plotting.plot_band(ax3, ra["loss"].sel(optimizer=o, lr=SHOW_LR), color=c,
                               label={"adam": "Adam", "radam": "RAdam"}[o])
            reb = rebound(ra["loss"], 100).sel(optimizer=o)
            q = reb.quantile([0.1, 0.5, 0.9], dim="replicate").transpose("quantile", "lr").values
            ax4.plot(ra["lr"], q[1], "o-", color=c, label={"adam": "Adam", "radam": "RAdam"}[o])
            ax4.fill_between(ra["lr"], q[0], q[2], color=c, alpha=0.2, lw=0)
        ax3.set(xscale="log", xlabel="step", ylabel="loss", title=f"lr = {SHOW_LR:g}: median and 10-90% band")
        ax3.legend(fontsize="x-small")
        ax4.axhline(1.0, color="k", lw=0.8, ls=":")
        ax4.set(xscale="log", yscale="log", xlabel="learning rate",
                ylabel="largest loss / running minimum", title="rebound in the first 100 steps (median, 10-90%)")
        ax4.legend(fontsize="x-small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
