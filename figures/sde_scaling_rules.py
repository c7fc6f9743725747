"""Adam's square-root scaling rule against the linear rule, across batch sizes.

Each panel: the loss above the optimum against the fraction of training, median and 10-90%
band over replicates, for the base batch (kappa = 1) and the largest kappa under the
square-root rule (lr sqrt(kappa) eta, 1 - beta -> kappa (1 - beta), eps/sqrt(kappa)) and the
linear rule (lr kappa eta), each run for 1/kappa as many steps; thin lines are the medians at
the intermediate kappa.  Left: the NQM from its optimum; middle and right: a linear
regression with minibatches drawn with and without replacement.
"""

from optsim import plotting

NAME = "sde_scaling_rules"
STUDY = "sde_scaling"
KEYS = ("scaling_nqm", "scaling_regression_with_replacement", "scaling_regression_without_replacement")


def draw(results):
    with plotting.use_style():
        fig, axes = plotting.new_figure(1, 3, figsize=(14, 4.2))
        for ax, key in zip(axes, KEYS):
            s = results[key]
            loss = s["loss"]
            kappas = s["kappa"].values
            kmax = int(kappas.max())
            plotting.plot_band(ax, loss.sel(rule="sqrt", kappa=kappas[0]), x="frac", color="k", label="kappa = 1")
            plotting.plot_band(ax, loss.sel(rule="sqrt", kappa=kmax), x="frac", color="C0",
                               label=f"sqrt rule, kappa = {kmax}")
            plotting.plot_band(ax, loss.sel(rule="linear", kappa=kmax), x="frac", color="C3", ls="--",
                               label=f"linear rule, kappa = {kmax}")
            for k in kappas[1:-1]:
                for rule, color, ls in (("sqrt", "C0", "-"), ("linear", "C3", "--")):
                    ax.plot(s["frac"].values, loss.sel(rule=rule, kappa=k).median("replicate").values, color=color,
                            ls=ls, lw=0.7, alpha=0.6)
            ax.set(xlabel=f"fraction of training ({s.attrs['steps0']} steps at kappa = 1)",
                   ylabel="loss above the optimum", title=s.attrs["problem"])
            ax.legend(fontsize="x-small")
        fig.suptitle(f"Adam, lr {s.attrs['lr0']:g}, betas ({s.attrs['beta1']:g}, {s.attrs['beta2']:g}) at kappa = 1")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
