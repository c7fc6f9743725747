"""Learning-rate-free distance estimates against the true distance, and their losses against tuned Adam.

Left: each rule's distance estimate divided by the true distance D = ||x_0 - x*|| (the 2-norm
for D-Adaptation SGD and DoG, the max-norm for the Adam-type D-Adaptation and Prodigy) on the
noisy quadratic, median and 10-90% band over replicates; 1 is the true distance.  Right: the
loss of each rule at its defaults and of Adam at the best learning rate of the grid, all
under cosine annealing to 0 over the horizon.
"""

from optsim import plotting

NAME = "lr_free_distance"
STUDY = "lr_free"
#: the schedule whose losses the right panel shows
SCHEDULE = "cosine"


def draw(results):
    e, L = results["estimates"], results["losses"]
    sigma = float(e["sigma"].values.max())
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        for k, rule in enumerate(e["rule"].values):
            norm = e.attrs["norms"][k]
            da = e["ratio"].sel(rule=rule, sigma=sigma).isel(step=slice(1, None))
            plotting.plot_band(ax1, da, label=f"{rule} / D ({norm}-norm)", color=f"C{k}")
        ax1.axhline(1.0, color="k", ls="--", lw=1, label="true distance")
        ax1.set_xscale("log")
        ax1.set(xlabel="step k", ylabel=r"estimate$_k$ / $\|x_0 - x^*\|$",
                title=rf"distance estimates, noise $\sigma$ = {sigma:g}")
        ax1.legend(fontsize="x-small")
        adam = L["adam_final_loss"].sel(schedule=SCHEDULE).median("replicate")
        best = float(adam.idxmin("lr"))
        plotting.plot_band(ax2, L["adam_loss"].sel(schedule=SCHEDULE, lr=best), label=f"adam, best lr {best:.2g}",
                           color="k")
        for k, rule in enumerate(L["rule"].values):
            plotting.plot_band(ax2, L["loss"].sel(rule=rule, schedule=SCHEDULE), label=str(rule), color=f"C{k}")
        ax2.set_xscale("symlog", linthresh=10)
        ax2.set(xlabel="step", ylabel="loss", title=f"loss, {SCHEDULE} lr, {L.sizes['replicate']} replicates")
        ax2.legend(fontsize="x-small")
        fig.suptitle(f"quadratic, condition number {e.attrs['condition_number']:g}, dim {e.attrs['dim']}")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
