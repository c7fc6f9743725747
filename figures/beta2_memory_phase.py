"""Where Adam fails on Reddi et al.'s online problem: beta2 against the rarity of the informative gradient.

The iterate averaged over the last fifth of the run (colour: +1 worst, -1 optimal) for
Adam, AMSGrad, AdaBound, ADOPT (clipped and not), Yogi and AdEMAMix (beta1 = 0.9,
lr 0.5/sqrt(t)), over beta2 and the period P of the
large gradient (its size grows with P so that the average gradient, and the optimum -1,
stay fixed).  The dashed line is P = 1/(1 - beta2): the informative gradient comes once
per memory of v; the contour marks x = 0.
"""

import numpy as np

from optsim import plotting, theory

NAME = "beta2_memory_phase"
STUDY = "beta2_memory"

_LABELS = {"adam": "Adam (no bias correction)", "amsgrad": "AMSGrad (paper form)", "adabound": "AdaBound",
           "adopt": "ADOPT (clipped, default)", "adopt_noclip": "ADOPT (no clip)", "yogi": "Yogi (paper form)",
           "ademamix": "AdEMAMix (beta3 0.9999, alpha 8)"}


def draw(results):
    ph = results["phase"]
    P = ph.period.values.astype(float)
    b2 = ph.beta2.values
    mem = theory.ema_memory(b2)
    n = ph.sizes["optimizer"]
    with plotting.use_style():
        ncol = min(n, 4)
        nrow = -(-n // ncol)
        fig, axes = plotting.new_figure(nrow, ncol, figsize=(4.2 * ncol + 1, 4 * nrow), sharey=True)
        axes = np.atleast_1d(axes).ravel()
        for ax in axes[n:]:
            ax.set_visible(False)
        for ax, opt in zip(axes, ph.optimizer.values):
            z = ph["x_tail_mean"].sel(optimizer=opt).transpose("beta2", "period").values
            # cell edges on log axes
            def edges(v):
                lv = np.log(v)
                mid = (lv[1:] + lv[:-1]) / 2
                return np.exp(np.concatenate([[lv[0] - (mid[0] - lv[0]) if v.size > 1 else lv[0] - 0.5], mid,
                                              [lv[-1] + (lv[-1] - mid[-1]) if v.size > 1 else lv[-1] + 0.5]]))
            mesh = ax.pcolormesh(edges(P), edges(mem), z, cmap="RdBu_r", vmin=-1, vmax=1, shading="flat")
            if z.shape[0] > 1 and z.shape[1] > 1:
                ax.contour(P, mem, z, levels=[0.0], colors="k", linewidths=1.2)
            ax.plot(P, P, "--", color="k", lw=0.8, label=r"P = 1/(1-$\beta_2$)")
            ax.set(xscale="log", yscale="log", xlabel="period P of the large gradient",
                   title=_LABELS.get(str(opt), str(opt)))
            if ax in axes[::ncol]:
                ax.set_ylabel(r"memory 1/(1-$\beta_2$) (steps)")
            ax.set_xlim(edges(P)[0], edges(P)[-1])
            ax.set_ylim(edges(mem)[0], edges(mem)[-1])
        axes[0].legend(fontsize="x-small", loc="upper left")
        fig.colorbar(mesh, ax=list(axes[:n]), label="final x (time average)", pad=0.01)
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
