"""Learning-rate-free methods on a logistic regression with minibatch noise.

Left: each rule's distance estimate divided by the true distance D = ||x_0 - x*|| (the 2-norm
for D-Adaptation SGD, DoG and DoWG, the max-norm for D-Adaptation Adam and Prodigy); 1 is the
true distance.  Right: the suboptimality f(x) - f* of each rule at its defaults and of Adam and
SGD at the best learning rate of the grid, all at a constant learning rate.  Lines: replicate
medians; bands: 10-90% of the replicates.
"""

from optsim import plotting

NAME = "lr_free_regression"
STUDY = "lr_free"


def draw(results):
    e, L = results["reg_estimates"], results["reg_losses"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        for k, rule in enumerate(e["rule"].values):
            norm = e.attrs["norms"][k]
            plotting.plot_band(ax1, e["ratio"].sel(rule=rule).isel(step=slice(1, None)),
                               label=f"{rule} / D ({norm}-norm)", color=f"C{k}")
        ax1.axhline(1.0, color="k", ls="--", lw=1, label="true distance")
        ax1.set_xscale("log")
        ax1.set(xlabel="step k", ylabel=r"estimate$_k$ / $\|x_0 - x^*\|$", title="distance estimates")
        ax1.legend(fontsize="x-small")
        for o, ls in zip(L["optimizer"].values, ("-", "--")):
            f = L["tuned_final"].sel(optimizer=o).median("replicate")
            best = float(f.idxmin("lr"))
            plotting.plot_band(ax2, L["tuned_curve"].sel(optimizer=o, lr=best), label=f"{o}, best lr {best:.2g}",
                               color="k", ls=ls)
        for k, rule in enumerate(L["rule"].values):
            plotting.plot_band(ax2, L["curve"].sel(rule=rule), label=str(rule), color=f"C{k}")
        ax2.set_xscale("symlog", linthresh=10)
        ax2.set(xlabel="step", ylabel="f(x) - f*", title=f"suboptimality, {L.sizes['replicate']} replicates")
        ax2.legend(fontsize="x-small")
        fig.suptitle(f"logistic regression (n {e.attrs['problem_n_train']}, d {e.attrs['problem_n_features']}), "
                     f"minibatch {e.attrs['batch_size']}")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
