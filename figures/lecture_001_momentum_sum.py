"""Momentum's velocity is a discounted sum of past gradients.

Left: the weight gamma^(t-i) of each past scaled gradient f_i = eta g_i in V_t, for the
notes' V_4 and for V_20 (bars: optsim's response to a replayed unit gradient; dots: the
closed form), gamma = 0.9.  Middle: one coordinate of the velocity V_t = theta_t -
theta_(t+1) of optsim's momentum on a replayed random gradient sequence that stops
(shaded: zero gradients), against the explicit sum sum_i gamma^(t-i) eta g_i.  Right: their
difference, at rounding level.
"""

import numpy as np

from optsim import plotting

NAME = "lecture_001_momentum_sum"
STUDY = "lecture_001"
LECTURE = "001"
SLIDE = "Momentum, 'ex) eta grad J(theta_t) = f_t: V_1 = f_1, V_2 = gamma f_1 + f_2, ...'"
CLAIM = ("Momentum's velocity V_t = gamma V_(t-1) + eta grad_t is the sum of past gradients with weights "
         "gamma^(t-i), so older gradients count less, and it keeps moving where the gradient is zero.")


def draw(results):
    mo = results["momentum"]
    gamma = mo.attrs["gamma"]
    t = mo["t"].values
    w = mo["velocity"].sel(sequence="impulse").isel(param=0).values / mo.attrs["eta"]
    color = plotting.optimizer_color("momentum")
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(11, 3.4))
        for T, c, off in ((4, color, -0.2), (20, "0.55", 0.2)):
            if T > len(t):
                continue
            i = np.arange(1, T + 1)
            ax1.bar(i + off, w[T - i], width=0.4, color=c, label=f"weights in $V_{{{T}}}$ (optsim)")
            ax1.plot(i + off, gamma ** (T - i), ".", color="k", ms=3)
        ax1.plot([], [], ".", color="k", label=r"$\gamma^{t-i}$")
        ax1.set(xlabel="gradient index i", ylabel=r"weight of $f_i$ in $V_t$",
                title=rf"discount weights, $\gamma$ = {gamma:g}")
        ax1.xaxis.get_major_locator().set_params(integer=True)
        ax1.text(0.25, 0.72, r"$V_4 = 0.729 f_1 + 0.81 f_2 + 0.9 f_3 + f_4$", transform=ax1.transAxes, fontsize=7.5)
        ax1.legend(fontsize="x-small")
        rnd = mo.sel(sequence="random").isel(param=0)
        n = mo.attrs["random_steps"]
        for ax in (ax2, ax3):
            ax.axvspan(n + 0.5, t[-1] + 0.5, color="0.9", lw=0)
        ax2.plot(t, rnd["velocity"].values, color=color, label=r"optsim: $V_t = \theta_t - \theta_{t+1}$")
        ax2.plot(t, rnd["explicit"].values, "o", color="k", mfc="none", ms=3.5,
                 label=r"explicit $\Sigma_i\, \gamma^{t-i} \eta g_i$")
        ax2.plot(t, mo.attrs["eta"] * rnd["grads"].values, color="0.6", lw=0.8, label=r"$\eta g_t$")
        ax2.text(n + 1, ax2.get_ylim()[1] * 0.9, "gradient = 0", fontsize=7.5, va="top")
        ax2.set(xlabel="step t", ylabel="first coordinate", title="replayed random gradients")
        ax2.legend(fontsize="x-small", loc="upper left")
        diff = np.abs(mo["velocity"] - mo["explicit"]).sel(sequence="random").max("param").values
        ax3.semilogy(t, np.maximum(diff, 1e-18), color=color)
        ax3.axhline(1e-12, color="k", ls=":", lw=0.8, label="1e-12")
        ax3.set(xlabel="step t", ylabel="|velocity - explicit sum|",
                title="difference (max over coordinates)", ylim=(1e-18, 1e-10))
        ax3.legend(fontsize="x-small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
