"""How long Adam's second moment remembers one large gradient.

Left: the excess of v_t over the spike-free sequence after a single gradient G = 100 among
gradients of 1 (optsim, solid) against the closed form (1 - beta2)(G^2 - 1) beta2^(t - t0)
(dashed), with the measured half-lives marked; the time axis is in units of the memory
1/(1 - beta2).  Right: the size of Adam's update after the spike: suppressed for as long
as the spike is remembered.
"""

import numpy as np

from optsim import plotting, theory
from studies.beta2_memory import measured_half_life, v_excess, v_excess_exact

NAME = "beta2_memory_impulse"
STUDY = "beta2_memory"


def draw(results):
    imp = results["impulse"]
    t0, G = imp.attrs["t0"], imp.attrs["spike"]
    ex = v_excess(imp)
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        for k, b2 in enumerate(imp.beta2.values):
            c = f"C{k}"
            s = imp.step.values - t0
            keep = s >= 0
            mem = theory.ema_memory(b2)
            ax1.plot(s[keep] / mem, ex.sel(beta2=b2).values[keep], color=c, lw=2, alpha=0.6,
                     label=fr"$\beta_2$={b2:g} (memory {mem:.0f} steps)")
            ax1.plot(s[keep] / mem, v_excess_exact(b2, imp.step.values, t0, G)[keep], "--", color="k", lw=0.8)
            hl = measured_half_life(imp, b2)
            ax1.plot([hl / mem], [0.5 * float(ex.sel(beta2=b2, step=t0))], "o", color=c, mfc="white")
            u = imp["update"].sel(beta2=b2)
            ax2.plot(s[keep] + 1, np.abs(u.values[keep]), color=c,
                     label=fr"$\beta_2$={b2:g}")
        ax1.plot([], [], "--", color="k", lw=0.8, label="closed form")
        ax1.plot([], [], "o", color="0.3", mfc="white", label=r"half-life (measured; $\approx$ ln2 memories)")
        ax1.set(yscale="log", xlabel=r"steps after the spike / (1/(1-$\beta_2$))",
                ylabel=r"excess of $v_t$ over the spike-free $v_t$", title=f"impulse response of $v_t$ (G = {G:g})")
        ax1.set_xlim(0, 6)
        top = float(ex.where(ex.step >= t0).max())
        ax1.set_ylim(1e-3, 3 * top)
        ax1.legend(fontsize="x-small")
        ax2.set(xscale="log", yscale="log", xlabel="updates since the spike (1 = the spike)", ylabel="|update| / lr",
                title="Adam's update after the spike (gradient 1 again)")
        ax2.axhline(1.0, color="k", lw=0.7, ls=":")
        ax2.legend(fontsize="x-small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
