"""What SGD with momentum's test-accuracy advantage over Adam and AdamW depends on.

One panel per factor, moved one at a time away from part (d)'s digits setting: the hidden
width, the minibatch size, the label noise (a Gaussian mixture with few training rows,
clean test labels) and the training length (records of the base run).  Each point is the
gap, sgd+momentum's median test accuracy minus the better of Adam's and AdamW's, each at
its learning rate selected on the validation loss, with its 99% paired bootstrap interval
over replicates; above the dashed line SGD with momentum generalizes better.
"""

import numpy as np
from matplotlib.ticker import NullFormatter, ScalarFormatter

from optsim import plotting

from studies._gap_factors import FACTORS, level_gaps

NAME = "generalization_gap_factors"
STUDY = "generalization_gap"

_DATA = {"digits": "digits", "gaussian_mixture": "Gaussian mixture"}


def _panel_title(factor, ds):
    data = _DATA.get(ds.attrs["dataset"], ds.attrs["dataset"])
    if factor == "width":
        return f"width ({data}, batch {ds.attrs['batch_size']})"
    if factor == "batch":
        return f"batch size ({data}, width {ds.attrs['width']})"
    if factor == "label_noise":
        rows = f", {ds.attrs['n_train']} train+val rows" if "n_train" in ds.attrs else ""
        return f"label noise ({data}{rows}, width {ds.attrs['width']})"
    return f"training length ({data}, width {ds.attrs['width']}, batch {ds.attrs['batch_size']})"


def plot_gaps(ax, factor, ds):
    """The gap (percentage points) with its interval against the factor's levels."""
    levels, g, ints, change, change_int = level_gaps(ds)
    x = np.asarray(levels, dtype=float)
    err = 100 * np.abs(ints - g[:, None]).T
    ax.axhline(0.0, color="0.4", ls="--", lw=1)
    ax.errorbar(x, 100 * g, yerr=err, color="C0", marker="o", ms=5, lw=1.6, capsize=3)
    if FACTORS[factor]["log"]:
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(x)
    change_text = (f"last - first: {100 * change:+.1f} pp [{100 * change_int[0]:+.1f}, "
                   f"{100 * change_int[1]:+.1f}]")
    ax.set(xlabel=FACTORS[factor]["label"], ylabel="gap (pp)", title=f"{_panel_title(factor, ds)}\n{change_text}")
    return ax


def draw(results):
    factors = [f for f, spec in FACTORS.items() if spec["key"] in results]
    cols = min(len(factors), 2)
    rows = -(-len(factors) // cols)
    with plotting.use_style():
        fig, axes = plotting.new_figure(rows, cols, figsize=(4.8 * cols, 3.7 * rows))
        axes = np.atleast_1d(axes).ravel()
        for ax, factor in zip(axes, factors):
            plot_gaps(ax, factor, results[FACTORS[factor]["key"]])
        for ax in axes[len(factors):]:
            ax.set_visible(False)
        ds0 = results[FACTORS[factors[0]]["key"]]
        fig.suptitle("Test-accuracy gap: sgd+momentum minus the better of adam, adamw "
                     "(percentage points; above 0: sgd+momentum ahead),\n"
                     f"lrs selected on validation; gap of the medians over {ds0.sizes['replicate']} replicates "
                     f"and its 99% paired bootstrap interval")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
