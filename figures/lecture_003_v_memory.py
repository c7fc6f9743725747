"""The memory of Adam's v_t: a large gradient is remembered for about 1/(1 - beta2) steps.

Adam (beta1 = 0.9, beta2 = 0.999) replays a gradient of 1 at every step, except one spike
of size G late in the run.  Left: the spike's share of v_t, (v_t - v_t without spike) /
((1 - beta2)(G^2 - 1)), against the steps since the spike, for every G (they coincide),
with beta2^k: half after 693 steps, 1/e after 1000.  Right: Adam's step size (in units of
the learning rate) around the spike: a spike of any size moves Adam by about
(1 - beta1)/sqrt(1 - beta2) ~ 3.2 lr at most, and the steps after it shrink for thousands
of steps while v_t remembers it.
"""

import numpy as np

from optsim import plotting, theory

NAME = "lecture_003_v_memory"
STUDY = "lecture_003"
LECTURE = "003"
SLIDE = "Trouble shooting: 'The memory of v_t keeps roughly 1000 steps!!'"
CLAIM = ("Adam's v_t remembers a gradient for roughly 1000 steps, so a rare large, informative gradient moves the "
         "parameters little and then shrinks the steps of the many small ones.")

STYLES = {10.0: ":", 100.0: "--", 1000.0: "-"}


def draw(results):
    mem = results["memory"]
    b2, t0 = mem.attrs["beta2"], mem.attrs["spike_at"]
    color = plotting.optimizer_color("adam")
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 3.8))
        for G in mem["spike"].values[1:]:
            ex = mem["v_excess"].sel(spike=G).dropna("t")
            ax1.semilogy(ex["t"] - t0, ex, color=color, ls=STYLES.get(float(G), "-"), label=f"spike G = {G:g}")
        k = np.arange(0, int(mem["t"].values[-1]) - t0 + 1)
        ax1.semilogy(k, b2**k, color="k", lw=0.8, ls=(0, (1, 3)), label=r"$\beta_2^k$")
        for n, text in ((693, "half: 693"), (1000, "1/e: 1000")):
            ax1.axvline(n, color="0.5", lw=0.8)
            ax1.text(n, 1.2e-3, f" {text}", fontsize=7.5, rotation=90, va="bottom")
        ax1.set(xlabel="steps k since the spike", ylabel=r"share of the spike left in $v_t$",
                title=rf"$v_t$ forgets with $\beta_2^k$ ($\beta_2$ = {b2:g})", ylim=(1e-3, 1.5))
        ax1.legend(fontsize="x-small")
        lo = max(1, t0 - 300)
        base = mem["step_size"].sel(spike=0.0, t=slice(lo, None))
        ax2.semilogy(base["t"], base, color="0.5", label="no spike")
        for G in mem["spike"].values[1:]:
            s = mem["step_size"].sel(spike=G, t=slice(lo, None))
            ax2.semilogy(s["t"], s, color=color, ls=STYLES.get(float(G), "-"), label=f"spike G = {G:g}")
        bound = theory.uncorrected_step_ratio(mem.attrs["beta1"], b2)
        ax2.axhline(bound, color="k", lw=0.8, ls=":", label=r"$(1-\beta_1)/\sqrt{1-\beta_2}$")
        ax2.set(xlabel="step t", ylabel="|step| / lr", title=f"Adam's steps (gradient 1, spike at t = {t0})")
        ax2.legend(fontsize="x-small", loc="lower right")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
