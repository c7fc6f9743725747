"""Kingma & Ba's bias-correction ablation (their Figure 4) on the noisy quadratic model.

Loss after an early and a late horizon (rows) against the learning rate, for each beta2
(columns), with (solid) and without (dashed) bias correction, for beta1 = 0 and 0.9
(colours): median over replicates with the 10-90% band.  The bottom row is the peak loss
over the early steps relative to the start: without correction it explodes at large
learning rates as beta2 -> 1.
"""

import numpy as np

from optsim import plotting
from studies.bias_correction import bc_sel

NAME = "bias_correction_ablation"
STUDY = "bias_correction"


def draw(results):
    a = results["ablation"]
    init = float(a["loss"].isel(step=0).median())
    rows = [("early_loss", f"loss at step {a.attrs['early']}"), ("late_loss", f"loss at step {a.attrs['late']}"),
            ("peak_early_loss", f"peak loss, steps 1-{a.attrs['early']} / start")]
    nb = a.sizes["beta2"]
    with plotting.use_style():
        fig, axes = plotting.new_figure(3, nb, figsize=(3.6 * nb, 8.5), sharex=True, sharey="row")
        axes = np.atleast_2d(axes)
        for j, b2 in enumerate(a.beta2.values):
            for i, (var, ylabel) in enumerate(rows):
                ax = axes[i, j]
                da = a[var] / (init if var == "peak_early_loss" else 1.0)
                for k, b1 in enumerate(a.beta1.values):
                    for corrected, ls in ((True, "-"), (False, "--")):
                        sub = bc_sel(da.sel(beta1=b1, beta2=b2), corrected)
                        plotting.plot_band(ax, sub, x="lr", color=f"C{k}", linestyle=ls, alpha=0.15,
                                           label=fr"$\beta_1$={b1:g}, {'with' if corrected else 'without'} correction")
                if var == "peak_early_loss":
                    ax.axhline(1.0, color="k", lw=0.7, ls=":")
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set(xlabel="learning rate" if i == 2 else "", ylabel=ylabel if j == 0 else "")
                if i == 0:
                    ax.set_title(fr"$\beta_2$={b2:g}")
        axes[0, 0].legend(fontsize="x-small", loc="lower left")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
