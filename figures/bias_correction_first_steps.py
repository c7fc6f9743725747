"""Adam's step size in the first updates, with and without bias correction.

Left: the first update |x_1 - x_0| / lr measured by optsim (markers; every gradient
sequence) against the exact values, lr with correction and lr (1 - beta1)/sqrt(1 - beta2)
without (lines).  Right: |update| / lr over the first steps for Gaussian gradients N(1, 1)
(median and 10-90% band over sequences; beta1 = 0.9) with the closed form for a constant
gradient (dashed).
"""

import numpy as np

from optsim import plotting
from studies.bias_correction import bc_sel, exact_first_step, exact_constant_gradient_step

NAME = "bias_correction_first_steps"
STUDY = "bias_correction"


def draw(results):
    f = results["first_steps"]
    u = np.abs(f["update"])
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        b2 = f.beta2.values
        x = 1 - b2
        xs = np.geomspace(x.min(), x.max(), 100)
        for k, b1 in enumerate(f.beta1.values):
            c = f"C{k}"
            ax1.plot(xs, exact_first_step(b1, 1 - xs, False), color=c, lw=1, label=fr"$\beta_1$={b1:g}: exact, uncorrected")
            meas = bc_sel(u.sel(step=1, beta1=b1), False)
            ax1.plot(np.broadcast_to(x, meas.shape).ravel(), meas.transpose("sequence", "beta2").values.ravel(),
                     "o", color=c, mfc="none", markersize=5)
        meas_c = bc_sel(u.sel(step=1), True)
        ax1.plot(np.broadcast_to(x, meas_c.shape[-1:]), meas_c.max(["sequence", "beta1"]).values, "s", color="k",
                 mfc="none", markersize=5, label="with correction (all $\\beta_1$): measured")
        ax1.axhline(1.0, color="k", lw=1, label="with correction: exact (= lr)")
        ax1.plot([], [], "o", color="0.4", mfc="none", label="measured (optsim)")
        ax1.set(xscale="log", yscale="log", xlabel=r"$1-\beta_2$", ylabel="first step |x$_1$ - x$_0$| / lr",
                title="first update")
        ax1.legend(fontsize="x-small")
        b1 = float(f.beta1.values[-1])
        noisy = u.isel(sequence=slice(1, None)).sel(beta1=b1)
        t = f.step.values
        for k, beta2 in enumerate(b2[:: max(1, len(b2) // 3)][-3:] if len(b2) > 3 else b2):
            c = f"C{k + 3}"
            plotting.plot_band(ax2, bc_sel(noisy.sel(beta2=beta2), False), dim="sequence", color=c,
                               label=fr"$\beta_2$={beta2:g}, uncorrected")
            ax2.plot(t, exact_constant_gradient_step(b1, beta2, t, False), "--", color=c, lw=0.8)
        plotting.plot_band(ax2, bc_sel(noisy.sel(beta2=b2[-1]), True), dim="sequence", color="k",
                           label="corrected (all $\\beta_2$)")
        ax2.plot([], [], "--", color="0.4", lw=0.8, label="constant gradient: exact")
        ax2.set(xscale="log", yscale="log", xlabel="step t", ylabel="|update| / lr",
                title=fr"gradients N(1, 1), $\beta_1$={b1:g}")
        ax2.legend(fontsize="x-small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
