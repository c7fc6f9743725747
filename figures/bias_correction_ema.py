"""Bias of an exponential moving average started at zero.

Left: one noisy sequence (dots), its slowly varying mean, and the EMA with and without the
correction m_t / (1 - beta^t); the uncorrected EMA starts near zero.  Right: the EMA of
observations with mean 1, divided by that mean, over the first steps (median and 10-90%
band over replicates) against the closed form 1 - beta^t (dashed); the corrected EMA is
unbiased from the first step.
"""


from optsim import plotting

NAME = "bias_correction_ema"
STUDY = "bias_correction"


def draw(results):
    e = results["ema"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4))
        t = e.step.values
        b = float(e.beta.values[min(1, e.sizes["beta"] - 1)])
        n = min(t.size, 300)
        ax1.plot(t[:n], e["obs"].values[:n], ".", color="0.6", markersize=2.5, label="observations")
        ax1.plot(t[:n], e["truth"].values[:n], color="k", lw=1.2, label="true mean")
        ax1.plot(t[:n], e["ema_illustration"].sel(beta=b).values[:n], color="C3",
                 label=fr"EMA, $\beta$={b:g}")
        ax1.plot(t[:n], e["ema_illustration_corrected"].sel(beta=b).values[:n], color="C0",
                 label=fr"EMA / (1 - $\beta^t$)")
        ax1.set(xlabel="step t", ylabel="value", title="one noisy sequence")
        ax1.legend(loc="lower right")
        m = min(t.size, 500)
        for k, beta in enumerate(e.beta.values):
            c = f"C{k}"
            plotting.plot_band(ax2, e["ema"].sel(beta=beta).isel(step=slice(0, m)), color=c,
                               label=fr"$\beta$={beta:g}, uncorrected")
            plotting.plot_band(ax2, e["ema_corrected"].sel(beta=beta).isel(step=slice(0, m)), color=c,
                               linestyle=":", alpha=0.08, label=fr"$\beta$={beta:g}, corrected")
            ax2.plot(t[:m], e["expected_ratio"].sel(beta=beta).values[:m], "--", color="k", lw=0.8,
                     label="1 - $\\beta^t$ (exact mean)" if k == 0 else None)
        ax2.set_xscale("log")
        ax2.set_yscale("linear")
        ax2.set_ylim(0, 2.0)
        ax2.set(xlabel="step t", ylabel="EMA / true mean", title="EMA of observations with mean 1")
        ax2.legend(fontsize="x-small", ncol=2, loc="upper left")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
