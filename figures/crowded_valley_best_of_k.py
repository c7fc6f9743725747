"""Expected best-of-k curves: the loss reduction random search buys with k trials, per instance.

One panel per problem x noise instance: for each optimizer, the expected log10 excess loss
(relative to the start; lower is better) of the best-on-validation of k random trials,
reported on held-out seeds (Dodge et al. 2019), with the 10-90% bootstrap band (re-centred on the estimate); the
grey line and band are the best of the twelve optimizers at their defaults.
"""

import numpy as np

from optsim import plotting

NAME = "crowded_valley_best_of_k"
STUDY = "crowded_valley"


def draw(results):
    from figures.crowded_valley_profiles import style
    from studies.crowded_valley import centred

    ro = results["readouts"]
    lim = (float(ro.attrs["floor"]), 0.0)  # the scores' range: centred draws stay inside it
    tuned = centred(ro["tuned"]).clip(*lim)
    best = centred(ro["best_default"]).clip(*lim)
    ks = ro["k"].values
    names = list(ro["instance"].values)
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    with plotting.use_style():
        fig, axes = plotting.new_figure(rows, cols, figsize=(4.0 * cols, 3.3 * rows))
        axes = np.atleast_1d(axes).ravel()
        for ax, inst in zip(axes, names):
            lo, mid, hi = np.quantile(best.sel(instance=inst).values, [0.1, 0.5, 0.9])
            ax.axhspan(lo, hi, color="0.6", alpha=0.3, lw=0)
            ax.axhline(mid, color="0.4", lw=1.5, ls=":", label="best of the defaults")
            for o in ro["optimizer"].values:
                c, ls = style(str(o))
                plotting.plot_band(ax, tuned.sel(instance=inst, optimizer=o), x="k", dim="boot", color=c,
                                   alpha=0.1, lw=1.2, ls=ls, label=str(o))
            ax.set_xscale("log", base=2)
            ax.set_yscale("linear")
            chosen = ro["best_default_optimizer"].sel(instance=inst).item()
            ax.set(xlabel="budget k (random-search trials)", ylabel="log10 excess loss / start",
                   title=f"{inst} (best default: {chosen})")
            ax.set_xticks(ks[::2], [str(k) for k in ks[::2]])
        for ax in axes[len(names):]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", fontsize="small", frameon=False)
        fig.suptitle("Expected best-of-k on held-out seeds (lower is better); grey: the best default of all")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
