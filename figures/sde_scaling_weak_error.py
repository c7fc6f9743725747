"""Where the SDE approximation of SGD holds: weak error against lr, noise type, and SVAG.

Left: |E f(X_T) - E f(x_K)| of the first- and second-order SMEs of SGD on the quadratic
(h = 1, 4) with curvature-scaled noise of batch B, at a fixed time T, against the lr:
Monte Carlo on coupled paths (markers, +-2 SE) and the closed forms (lines).  Middle: the
Kolmogorov-Smirnov distance between the laws of SGD's x_K and the Gaussian SME's X_T (the
stiff coordinate) for Gaussian, Student-t and alpha-stable noise, with the 1% critical value.
Third: SVAG's gap E f(x) - E f(X_T) to the SME's closed form at a large lr against l (+-2 SE).
Right: the relative weak error of the SDEs of Adam and RMSprop (Malladi et al. 2022) under
their scaling (sigma = sigma0/eta, 1 - beta = c eta^2), coupled paths, +-2 SE.
"""

import numpy as np

from optsim import plotting

NAME = "sde_scaling_weak_error"
STUDY = "sde_scaling"


def draw(results):
    w, n, v, ad = results["weak"], results["noise"], results["svag"], results["adaptive"]
    with plotting.use_style():
        fig, (ax1, ax2, ax3, ax4) = plotting.new_figure(1, 4, figsize=(18, 4.2))
        lrs = w["lr"].values
        for j, B in enumerate(w["batch_size"].values):
            for order, marker, ls in ((1, "o", "-"), (2, "s", "--")):
                sel = w.sel(batch_size=B, order=order)
                color = f"C{2 * j + order - 1}"
                ax1.errorbar(lrs, np.abs(sel["weak_error"].values), yerr=2 * sel["weak_error_se"].values,
                             fmt=marker, color=color, ms=5, capsize=2, label=f"order {order}, B = {B:g} (MC)")
                ax1.plot(lrs, np.abs(sel["weak_error_exact"].values), ls=ls, color=color, lw=1)
        ax1.plot(lrs, 0.5 * lrs * np.abs(w["weak_error_exact"]).max().item() / lrs.max(), color="0.6", lw=0.8,
                 ls=":", label=r"slope 1")
        ax1.set(xscale="log", yscale="log", xlabel="learning rate", ylabel=r"$|E f(X_T) - E f(x_K)|$",
                title=f"weak error at T = {w.attrs['time']:g} (lines: closed forms)")
        ax1.set_xticks(lrs, [f"{x:g}" for x in lrs], minor=False)
        ax1.set_xticks([], minor=True)
        ax1.legend(fontsize="x-small")
        for a, name in enumerate(n["noise"].values):
            ax2.plot(n["lr"].values, n["ks"].sel(noise=name).values, marker="o", color=f"C{a}", label=str(name))
        ax2.axhline(n.attrs["ks_critical"], color="k", ls="--", lw=1, label="1% critical value")
        ax2.set(xscale="log", xlabel="learning rate", ylabel="KS distance, x_K against X_T",
                title=f"noise type ({n.attrs['replicates']} samples each)")
        ax2.set_xticks(n["lr"].values, [f"{x:g}" for x in n["lr"].values], minor=False)
        ax2.set_xticks([], minor=True)
        ax2.legend(fontsize="x-small")
        for a, name in enumerate(v["noise"].values):
            ax3.errorbar(v["ell"].values, v["gap"].sel(noise=name).values, yerr=2 * v["gap_se"].sel(noise=name).values,
                         marker="o", color=f"C{a}", capsize=2, label=str(name))
        ax3.axhline(0.0, color="k", lw=1)
        ax3.set(xscale="log", xlabel="SVAG factor l", ylabel=r"$E f(x) - E f(X_T)$",
                title=f"SVAG at lr {v.attrs['lr']:g} against the SME")
        ax3.set_xticks(v["ell"].values, [str(int(e)) for e in v["ell"].values])
        ax3.set_xticks([], minor=True)
        ax3.legend(fontsize="x-small")
        for a, rule in enumerate(ad["rule"].values):
            f = ad["loss_discrete"].sel(rule=rule).values
            ax4.errorbar(ad["lr"].values, np.abs(ad["weak_error"].sel(rule=rule).values) / f,
                         yerr=2 * ad["weak_error_se"].sel(rule=rule).values / f, marker="o", color=f"C{a}", capsize=2,
                         label=str(rule))
        ax4.set(xscale="log", yscale="log", xlabel="learning rate", ylabel=r"$|E f(X_T) - E f(x_K)| / E f(x_K)$",
                title=rf"adaptive SDEs, $\sigma\eta$ = {ad.attrs['sigma0']:g}, T = {ad.attrs['time']:g}")
        ax4.set_xticks(ad["lr"].values, [f"{x:g}" for x in ad["lr"].values], minor=False)
        ax4.set_xticks([], minor=True)
        ax4.legend(fontsize="x-small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
