"""The variance of Adam's adaptive learning rate, and RAdam's rectification.

Left: Monte-Carlo Var[psi_t] of psi_t = sqrt((1-beta2^t) / ((1-beta2) sum beta2^(t-i) g_i^2))
for gradients N(mu, 1), beta2 = 0.999 (median and 10-90% band over independent groups of
samples), with the scaled-inverse-chi-square model and the rectified variance
Var[psi_t] r_t^2.  Right: RAdam's rectification r_t against the untuned linear and
exponential warm-up factors of Ma & Yarats.
"""

import numpy as np

from optsim import plotting

NAME = "radam_warmup_variance"
STUDY = "radam_warmup"


def draw(results):
    v = results["variance"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        plotting.plot_band(ax1, v["var_psi"].sel(mu=0.0), label=r"Var[$\psi_t$], $\mu$ = 0", color="C0")
        plotting.plot_band(ax1, v["var_psi"].sel(mu=10.0), label=r"Var[$\psi_t$], $\mu$ = 10", color="C1")
        plotting.plot_band(ax1, v["rectified_var_psi"].sel(mu=0.0), label=r"Var[$\psi_t$] $r_t^2$, $\mu$ = 0",
                           color="C2")
        t = v["step"].values
        ax1.plot(t, v["approx_var_psi"].values, color="k", ls="--", lw=1,
                 label=r"scaled-inv-$\chi^2(\rho_t)$ model")
        ax1.axhline(v.attrs["approx_var_inf"], color="0.5", ls=":", lw=1, label=r"model at $\rho_\infty$")
        ax1.set_xscale("log")
        ax1.set(xlabel="step t", ylabel=r"variance of $\psi_t$",
                title=rf"adaptive learning rate, $\beta_2$ = {v.attrs['beta2']:g}")
        ax1.legend(fontsize="x-small")
        ax2.plot(t, np.nan_to_num(v["r"].values), color="C2", label=r"RAdam $r_t$ (0 while $\rho_t \leq 4$)")
        ax2.plot(t, v["omega_linear"].values, color="C3", ls="--", label=r"untuned linear, $2/(1-\beta_2)$")
        ax2.plot(t, v["omega_exp"].values, color="C4", ls="-.", label=r"untuned exponential, $1/(1-\beta_2)$")
        ax2.set_xscale("log")
        ax2.set(xlabel="step t", ylabel="learning-rate multiplier", title="implied warm-up", ylim=(0, 1.05))
        ax2.legend(fontsize="x-small", loc="upper left")
        fig.suptitle(f"Monte Carlo, {v.attrs['samples_per_group']} samples x {v.sizes['replicate']} groups per t")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
