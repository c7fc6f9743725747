"""Fairly tuned Adam, AdamW, SWATS and SGD with momentum on over-parameterised regression.

Left: final test loss against the learning rate (median and 10-90% band over minibatch
replicates; star: each optimizer's best).  Right: test-loss curves at each optimizer's best
learning rate (from the first recorded step, log scale), with the minimum-norm interpolant's test loss for reference.
"""

import optsim.analysis
from optsim import plotting

NAME = "generalization_gap_regression"
STUDY = "generalization_gap"


def draw(results):
    ds = results["regression"]
    best = optsim.analysis.best_lr(ds, metric="final_test_loss")
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(9.5, 3.8))
        for k, o in enumerate(ds["optimizer"].values):
            sub = ds.sel(optimizer=o)
            plotting.plot_loss_vs_lr(ax1, sub, metric="final_test_loss", label=str(o), color=f"C{k}")
            lr = float(best["best_lr"].sel(optimizer=o))
            plotting.plot_band(ax2, sub["test_loss"].sel(lr=lr).isel(step=slice(1, None)), label=f"{o} (lr={lr:.2g})",
                               color=f"C{k}", linestyle="--" if o == "swats" else "-")
        for ax in (ax1, ax2):
            ax.axhline(ds.attrs["min_norm_test_loss"], color="0.4", ls=":", lw=1, label="min-norm interpolant")
        ax1.set(ylabel="final test loss", title="test loss vs learning rate")
        ax1.set_yscale("log")
        ax2.set(ylabel="test loss", title="at each optimizer's best lr")
        ax2.set_xscale("log")
        ax1.legend(fontsize="small")
        ax2.legend(fontsize="small")
        fig.suptitle("Linear regression, 32 examples, 128 features, minibatch 4 "
                     f"({ds.sizes['replicate']} replicates)")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
