"""AdEMAMix against Adam on Rosenbrock's function under Gaussian, Student-t and
alpha-stable gradient noise: the final loss against the learning rate, median over
replicates with the 10-90% band, one panel per noise model.
"""

from optsim import plotting

NAME = "ademamix_noise"
STUDY = "ademamix"


def draw(results):
    n = results["noisy"]
    noises = [str(v) for v in n["noise"].values]
    with plotting.use_style():
        fig, axes = plotting.new_figure(1, len(noises), figsize=(4 * len(noises), 3.8))
        for ax, nz in zip(axes, noises):
            for k, o in enumerate(("adam", "ademamix")):
                plotting.plot_band(ax, n["final_loss"].sel(noise=nz, optimizer=o), x="lr", label=o, color=f"C{k}",
                                   marker="o", ms=3)
            ax.set_xscale("log")
            ax.set(xlabel="learning rate", ylabel="final loss", title=f"{nz.replace('_', '-')} noise")
        axes[0].legend(fontsize="small")
        x0, y0 = n.attrs["start"]
        fig.suptitle(f"Rosenbrock from ({x0:g}, {y0:g}), {n.sizes['replicate']} replicates, "
                     f"{int(n['step'].values[-1])} steps (median, 10-90%)")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
