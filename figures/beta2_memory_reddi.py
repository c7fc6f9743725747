"""Reddi et al.'s counter-examples: Adam converges to the worst point, AMSGrad and AdaBound do not.

The iterate x_t (top) and the average regret R_t/t (bottom) on the online problem
(1010 x every 101st step, else -10 x; left) and the stochastic one (1010 x with
probability 0.01; right, median and 10-90% band over seeds), with beta1 = 0.9,
beta2 = 0.99, lr 0.5/sqrt(t).  The optimum is x* = -1; Adam settles at +1.  The later rules
(ADOPT with and without its clip, Yogi, AdEMAMix) are dashed; on the stochastic problem Yogi and
AdEMAMix come from their own sweep (``reddi_stochastic_later``, same seeds) when the results have
it, in the colours they have on the online problem.
"""

from optsim import plotting

NAME = "beta2_memory_reddi"
STUDY = "beta2_memory"

_LABELS = {"adam": "Adam (no bias correction)", "amsgrad": "AMSGrad (paper form)", "adabound": "AdaBound",
           "adopt": "ADOPT (clipped, default)", "adopt_noclip": "ADOPT (no clip)", "yogi": "Yogi (paper form)",
           "ademamix": "AdEMAMix (beta3 0.9999, alpha 8)"}


def draw(results):
    with plotting.use_style():
        fig, axes = plotting.new_figure(2, 2, figsize=(10, 7), sharex="col")
        for j, (key, title) in enumerate((("reddi_online", "online problem (period 101)"),
                                          ("reddi_stochastic", "stochastic problem (p = 0.01)"))):
            ds = results[key].isel(step=slice(1, None))
            for k, opt in enumerate(ds.optimizer.values):
                ls = "-" if k < 3 else "--"
                plotting.plot_band(axes[0, j], ds["x"].sel(optimizer=opt), color=f"C{k}", ls=ls,
                                   label=_LABELS.get(str(opt), opt))
                plotting.plot_band(axes[1, j], ds["avg_regret"].sel(optimizer=opt), color=f"C{k}", ls=ls)
            if key == "reddi_stochastic" and "reddi_stochastic_later" in results:
                colours = {str(o): f"C{k}" for k, o in enumerate(results["reddi_online"].optimizer.values)}
                sl = results["reddi_stochastic_later"].isel(step=slice(1, None))
                for opt in sl.optimizer.values:
                    c = colours.get(str(opt))
                    plotting.plot_band(axes[0, j], sl["x"].sel(optimizer=opt), color=c, ls="--",
                                       label=_LABELS.get(str(opt), opt))
                    plotting.plot_band(axes[1, j], sl["avg_regret"].sel(optimizer=opt), color=c, ls="--")
            axes[0, j].axhline(-1, color="k", lw=0.7, ls=":")
            axes[0, j].axhline(1, color="k", lw=0.7, ls=":")
            axes[0, j].set(xscale="log", yscale="linear", ylim=(-1.08, 1.08), ylabel="x (optimum -1)", xlabel="",
                           title=title)
            axes[1, j].set(xscale="log", yscale="log", xlabel="step t", ylabel="average regret $R_t/t$")
        axes[0, 0].legend(fontsize="x-small", loc="center right")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
