"""Which learning rates train: Adam with and without warm-up, and RAdam.

Left: final loss against the learning rate on a noisy ill-conditioned quadratic (median
and 10-90% band over replicates; star: best).  Right: the share of replicates that failed
(diverged, or ended above the starting loss) against the learning rate.
"""

from optsim import plotting

NAME = "radam_warmup_lr_range"
STUDY = "radam_warmup"

_STYLE = {"adam": ("C0", "-"), "adam+linear warm-up": ("C3", "--"), "adam+exp. warm-up": ("C4", "-."),
          "radam": ("C2", "-"), "radam (no SGD phase)": ("C1", ":")}


def draw(results):
    ds = results["lr_range"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        for k, o in enumerate(ds["optimizer"].values):
            c, ls = _STYLE.get(str(o), (f"C{k}", "-"))
            plotting.plot_loss_vs_lr(ax1, ds.sel(optimizer=o), label=str(o), color=c)
            fail = ds["failed"].sel(optimizer=o).mean("replicate")
            ax2.plot(ds["lr"].values, fail.values, color=c, ls=ls, marker=".", label=str(o))
        ax1.axhline(ds.attrs["initial_loss"], color="0.5", ls=":", lw=1, label="starting loss")
        ax1.set(ylabel="final loss", title="final loss (diverged runs off the top)")
        ax1.set_yscale("log")
        ax1.legend(fontsize="x-small")
        ax2.set_xscale("log")
        ax2.set(xlabel="learning rate", ylabel="share of replicates failed", ylim=(-0.03, 1.03),
                title="failures (diverged or above the start)")
        ax2.legend(fontsize="x-small")
        fig.suptitle(f"Quadratic, condition number 100, Gaussian noise sigma=1, {int(ds.sizes['step'] and ds['step'].values[-1])} "
                     f"steps, {ds.sizes['replicate']} replicates")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
