"""Performance profiles of twelve optimizers at tuning budgets of 1 (the defaults) to 64 trials.

One panel per budget: rho_s(tau), the fraction of the suite's problem x noise instances on
which optimizer s's expected loss reduction is within a factor tau of the best optimizer's
(Dolan & More 2002): the estimate as a step line, with the 10-90% bootstrap band (re-centred on the estimate)
over trials and seeds.
"""

import numpy as np

from optsim import plotting

NAME = "crowded_valley_profiles"
STUDY = "crowded_valley"

_DASHED = ("nesterov", "adamw", "radam", "yogi", "adabelief", "nadam")


def style(name):
    """(colour, line style) of an optimizer in the crowded_valley figures."""
    return plotting.optimizer_color(name), "--" if name in _DASHED else "-"


def draw(results):
    from studies.crowded_valley import centred

    ro = results["readouts"]
    prof = ro["profile"]
    draws = centred(prof).clip(0.0, 1.0)
    budgets = ro["budget"].values
    tau = prof["tau"].values
    with plotting.use_style():
        fig, axes = plotting.new_figure(1, len(budgets), figsize=(3.2 * len(budgets), 3.6), sharey=True)
        axes = np.atleast_1d(axes)
        for ax, b in zip(axes, budgets):
            for o in ro["optimizer"].values:
                c, ls = style(str(o))
                lo, hi = draws.sel(budget=b, optimizer=o).quantile([0.1, 0.9], dim="boot").values
                ax.fill_between(tau, lo, hi, step="post", color=c, alpha=0.07, lw=0)
                ax.step(tau, prof.sel(budget=b, optimizer=o).isel(boot=0).values, where="post", color=c, ls=ls,
                        lw=1.3, label=str(o))
            ax.set_xscale("log")
            ax.set_xlim(1.0, 1e5)
            ax.set(xlabel="tau (loss-reduction ratio to the best)", ylim=(-0.02, 1.02),
                   title="defaults" if b == 1 else f"best of {b} random trials")
        axes[0].set_ylabel("fraction of instances within tau")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", fontsize="small", frameon=False)
        fig.suptitle(f"Performance profiles over {ro.sizes['instance']} problem x noise instances "
                     f"(selected on validation seeds, reported on held-out seeds)")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
