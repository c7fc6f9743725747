"""AdEMAMix against Adam on Rosenbrock's function from (-3, 5), without noise.

Left: the loss along the run, at the common learning rate (solid) and at each method's
tuned learning rate (dashed).  Right: the distance to the minimum (1, 1), the progress
along the valley.  One deterministic trajectory per curve.
"""

from optsim import plotting

NAME = "ademamix_rosenbrock"
STUDY = "ademamix"


def draw(results):
    from studies.ademamix import tuned_clean

    c = results["clean"]
    lr0 = float(c["lr"].sel(lr=c.attrs["common_lr"], method="nearest"))
    best = tuned_clean(c)
    with plotting.use_style():
        fig, axes = plotting.new_figure(1, 2, figsize=(10, 4))
        for ax, var, ylabel in zip(axes, ("loss", "dist"), ("loss f(x, y)", "distance to (1, 1)")):
            for k, o in enumerate(("adam", "ademamix")):
                da = c[var].sel(optimizer=o)
                plotting.plot_band(ax, da.sel(lr=lr0), label=f"{o}, lr = {lr0:g}", color=f"C{k}")
                plotting.plot_band(ax, da.sel(lr=best[o]), label=f"{o}, tuned lr = {best[o]:.3g}", color=f"C{k}",
                                   ls="--")
            ax.set(xlabel="step", ylabel=ylabel)
        axes[0].legend(fontsize="x-small")
        axes[0].set_title("loss")
        axes[1].set_title("progress along the valley")
        x0, y0 = c.attrs["start"]
        fig.suptitle(f"Rosenbrock from ({x0:g}, {y0:g}): AdEMAMix (alpha 8, beta3 0.9999, warm-ups) vs Adam")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
