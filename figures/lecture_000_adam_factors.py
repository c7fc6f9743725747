"""Adam's update as the lecture splits it: an "adaptive LR" factor times a "momentum" factor.

Adam (eta = 0.01, rho1 = 0.9, rho2 = 0.999, eps inside the square root as the lecture
writes it) on the deep valley f = 1/2 (x^2 + 50 y^2).  Left: the "adaptive LR" factor
A_t = sqrt(1 - rho2^t)/(1 - rho1^t), the same for every parameter, with the constant
C = (1 - rho1)/sqrt(1 - rho2).  Middle: the "momentum" factor M_t = sum rho1^(t-i) g_i /
sqrt(sum rho2^(t-i) g_i^2) of each coordinate, from optsim's recorded moments, and its
bound.  Right: optsim's update theta_t - theta_(t-1) of each coordinate (lines) against
-eta A_t C M_t (dots), which drops only the eps.
"""

import numpy as np

from optsim import plotting, theory

NAME = "lecture_000_adam_factors"
STUDY = "lecture_000"
LECTURE = "000"
SLIDE = "Adam Explanation: theta_(t+1) = theta_t - eta [Adaptive LR] (1-rho1)/sqrt(1-rho2) [Momentum]"
CLAIM = ("Adam's update is eta times an adaptive-learning-rate factor sqrt(1-rho2^t)/(1-rho1^t) times a constant "
         "times a momentum factor sum rho1^(t-i) g_i / sqrt(sum rho2^(t-i) g_i^2).")

_STYLES = {0: "-", 1: "--"}


def draw(results):
    ad = results["adam"]
    t = ad["t"].values
    C = ad.attrs["constant"]
    color = plotting.optimizer_color("adam")
    names = dict(zip(ad["param"].values, ("x", "y")))
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(12, 3.6))
        ax1.semilogx(t, ad["adaptive_lr"], color=color, label=r"$A_t = \sqrt{1-\rho_2^t}/(1-\rho_1^t)$")
        ax1.semilogx(t, C * ad["adaptive_lr"], color=color, ls=":", label=r"$A_t\,C$, $C = (1-\rho_1)/\sqrt{1-\rho_2}$")
        ax1.axhline(1.0, color="k", lw=0.8, ls="--")
        ax1.axhline(C, color="0.5", lw=0.8, ls="--")
        ax1.text(t[0], C, f" C = {C:.3f}", va="bottom", fontsize=7.5)
        ax1.set(xlabel="step t", ylabel="factor", title='"adaptive LR" (bias corrections)', ylim=(0, 1.1 * C))
        ax1.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(0.0, 0.9))
        bound = theory.adam_momentum_bound(ad.attrs["rho1"], ad.attrs["rho2"])
        for k, p in enumerate(ad["param"].values):
            ax2.semilogx(t, ad["momentum_factor"].sel(param=p), color=color, ls=_STYLES[k % 2], label=names[p])
        for s in (-1, 1):
            ax2.axhline(s * bound, color="k", lw=0.8, ls=":")
        ax2.text(t[0], bound, r" $1/\sqrt{1-\rho_1^2/\rho_2}$", va="bottom", fontsize=7.5)
        ax2.set(xlabel="step t", ylabel=r"$M_t$", title='"momentum" (normalised discounted gradients)',
                ylim=(-1.25 * bound, 1.25 * bound))
        ax2.legend(fontsize="x-small", loc="lower left")
        marks = np.unique(np.geomspace(1, len(t), 40).astype(int)) - 1
        for k, p in enumerate(ad["param"].values):
            ax3.semilogx(t, -ad["update"].sel(param=p), color=color, ls=_STYLES[k % 2], label=f"optsim, {names[p]}")
            ax3.semilogx(t[marks], -ad["product"].sel(param=p).values[marks], "o", color="k", mfc="none", ms=3,
                         label=r"$-\eta A_t C M_t$" if k == 0 else None)
        big = np.abs(ad["update"]) > 1e-3 * ad.attrs["lr"]
        rel = float((np.abs(ad["product"] - ad["update"]) / np.abs(ad["update"])).where(big).max())
        ax3.set(xlabel="step t", ylabel=r"update $\theta_t - \theta_{t-1}$",
                title=f"update, eta = {ad.attrs['lr']:g} (max rel. difference {rel:.0e})")
        ax3.legend(fontsize="x-small", loc="center left")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
