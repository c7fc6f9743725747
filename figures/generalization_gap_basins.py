"""Leaving a sharp basin: SGD versus Adam under Gaussian and heavy-tailed gradient noise.

Left: share of trajectories that left the sharp basin of a 1-D double well against the
effective step size (SGD: its learning rate; Adam: its median per-step rate lr/sqrt(v_hat)
measured in the sharp basin), one colour per tail index alpha of the alpha-stable noise
(alpha = 2 is Gaussian), with 95% binomial intervals.  Right: survival curves (share still
in the sharp basin) at one learning rate, for alpha-stable and Student-t noise.
"""

import numpy as np

from optsim import plotting

NAME = "generalization_gap_basins"
STUDY = "generalization_gap"


def _ci(p, n):
    half = 1.96 * np.sqrt(np.clip(p * (1 - p), 0, None) / n)
    return np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)


def draw(results):
    st = results["basins_stable"]
    tt = results["basins_student"]
    n = st.sizes["replicate"]
    alphas = st["alpha"].values
    cmap = __import__("matplotlib").colormaps["plasma"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        for k, a in enumerate(alphas):
            c = cmap(0.85 * k / max(len(alphas) - 1, 1))
            share = st["escaped"].sel(alpha=a).mean("replicate")
            for o, ls, mk in (("sgd", "-", "o"), ("adam", "--", "s")):
                x = st["lr"].values if o == "sgd" else st["eff_lr"].sel(alpha=a, optimizer=o).values
                y = share.sel(optimizer=o).values
                lo, hi = _ci(y, n)
                ax1.plot(x, y, ls=ls, marker=mk, color=c, ms=4,
                         label=f"{o}, alpha={a:g}" if len(alphas) <= 4 or o == "sgd" else None)
                ax1.fill_between(x, lo, hi, color=c, alpha=0.12, linewidth=0)
        ax1.set_xscale("log")
        ax1.set(xlabel="effective step size", ylabel="share that left the sharp basin",
                title="escapes (solid: SGD, dashed: Adam)", ylim=(-0.03, 1.03))
        ax1.legend(fontsize="x-small", ncol=2)
        lr = float(st["lr"].values[len(st["lr"]) // 2])
        steps = st["step"].values
        for k, a in enumerate(alphas):
            c = cmap(0.85 * k / max(len(alphas) - 1, 1))
            for o, ls in (("sgd", "-"), ("adam", "--")):
                esc = st["escape_step"].sel(alpha=a, optimizer=o, lr=lr).values
                surv = [(np.nan_to_num(esc, nan=np.inf) > s).mean() for s in steps]
                ax2.plot(steps, surv, ls=ls, color=c, label=f"{o}, alpha={a:g}" if o == "sgd" else None)
        for k, nu in enumerate(tt["nu"].values):
            c = f"C{k + 2}" if k else "C2"
            c = ["tab:green", "tab:olive", "tab:cyan", "tab:gray", "tab:brown"][k % 5]
            lr_t = float(tt["lr"].sel(lr=lr, method="nearest"))
            for o, ls in (("sgd", "-"), ("adam", "--")):
                esc = tt["escape_step"].sel(nu=nu, optimizer=o, lr=lr_t).values
                surv = [(np.nan_to_num(esc, nan=np.inf) > s).mean() for s in steps]
                ax2.plot(steps, surv, ls=ls, color=c, lw=1.2, label=f"{o}, Student-t nu={nu:g}" if o == "sgd" else None)
        ax2.set(xlabel="step", ylabel="share still in the sharp basin",
                title=f"survival at lr = {lr:g} (solid: SGD, dashed: Adam)", ylim=(-0.03, 1.03))
        ax2.legend(fontsize="x-small", ncol=1, loc="lower left")
        fig.suptitle(f"Double well (sharp curvature 100, flat 4), noise scale {st.attrs['noise_scale']:g}, "
                     f"{n} replicates")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
