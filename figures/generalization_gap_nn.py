"""Test accuracy against training loss for MLPs trained by Adam, AdamW, SGD with momentum,
SWATS and Muon, each at its learning rate selected on the validation split.

One panel per task (digits; teacher-student).  Along each optimizer's training run the
median training loss over replicates is the x coordinate; the line is the median test
accuracy, the band its 10-90% range over the replicates (which share their initial
networks and batches across optimizers).  Reading across at one training loss compares
the optimizers' generalization at equal fit.
"""

import numpy as np
from matplotlib.ticker import NullFormatter

from optsim import plotting

from studies._gap_nn import selected

NAME = "generalization_gap_nn"
STUDY = "generalization_gap"

_TITLES = {"digits": "digits (8x8 images, 10 classes)", "teacher_student": "teacher-student (20 inputs, 4 classes)"}


def draw(results):
    keys = sorted(k for k in results if k.startswith("nn_"))
    with plotting.use_style():
        fig, axes = plotting.new_figure(1, len(keys), figsize=(4.8 * len(keys), 3.9))
        for ax, key in zip(np.atleast_1d(axes), keys):
            ds = results[key]
            pick = selected(ds)
            for c, o in enumerate(ds["optimizer"].values):
                sub = ds.sel(optimizer=o).isel(lr_index=pick[str(o)], step=slice(1, None))
                loss = sub["loss"].median("replicate").values
                acc = sub["metrics"].sel(metric="test_accuracy")
                q = acc.quantile([0.1, 0.5, 0.9], "replicate").values
                lr = float(ds["lr"].sel(optimizer=o).isel(lr_index=pick[str(o)]))
                ls = "--" if str(o) == "swats" else "-"
                ax.plot(loss, 100 * q[1], color=f"C{c}", ls=ls, lw=1.6, label=f"{o} (lr {lr:.2g})")
                ax.fill_between(loss, 100 * q[0], 100 * q[2], color=f"C{c}", alpha=0.18, lw=0)
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide on short ranges
            ax.invert_xaxis()
            task = ds.attrs.get("task", key[3:])
            ax.set(xlabel="median training loss (decreasing)", ylabel="test accuracy (%)",
                   title=f"{_TITLES.get(task, task)}, width {ds.attrs.get('width')}")
            ax.legend(fontsize="small", loc="lower right")
        ds0 = results[keys[0]]
        fig.suptitle(f"MLPs, minibatch {ds0.attrs.get('batch_size')}, lr selected on validation "
                     f"({ds0.sizes['replicate']} replicates; median and 10-90% band)")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
