"""Schedule-Free AdamW against AdamW with warm-up and cosine on a logistic regression with
minibatch noise.

Left: the suboptimality f(x) - f* against the step.  Schedule-Free AdamW and AdamW with
warm-up + cosine, each at its best learning rate for the longest horizon, as curves; each
method tuned for every horizon T as points at T, with 10-90% error bars.  Right: the suboptimality at the longest
horizon against the learning rate of the common grid (the tuning budget of both).  Lines:
replicate medians; bands: 10-90% of the replicates.
"""

import xarray as xr

from optsim import plotting

NAME = "schedule_free_regression"
STUDY = "schedule_free"


def draw(results):
    from studies import schedule_free as s

    cos, sf = results["regression_cosine"], results["regression_sf"]
    hz = list(sf.attrs["horizons"])
    t_long = max(hz)
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.2))
        lr_s, f = s.reg_sf_tuned(sf, t_long)
        lr_c, c = s.reg_cosine_tuned(cos, t_long)
        plotting.plot_band(ax1, f.isel(step=slice(1, None)), label=f"Schedule-Free AdamW (lr {lr_s:.3g})", color="C0")
        plotting.plot_band(ax1, c.isel(step=slice(1, None)), label=f"AdamW, warm-up + cosine to T={t_long} "
                           f"(lr {lr_c:.3g})", color="C1")
        per_c = xr.concat([s.reg_cosine_tuned(cos, h)[1].sel(step=h, drop=True) for h in hz], "horizon")
        per_s = xr.concat([s.reg_sf_tuned(sf, h)[1].sel(step=h, drop=True) for h in hz], "horizon")
        per_c, per_s = (da.assign_coords(horizon=hz).transpose("horizon", "replicate") for da in (per_c, per_s))
        for da, label, c, mk in ((per_c, "cosine tuned for each T", "C1", "o"),
                                 (per_s, "Schedule-Free tuned for each T", "C0", "^")):
            lo, mid, hi = (da.quantile(q, "replicate").values for q in (0.1, 0.5, 0.9))
            ax1.errorbar(hz, mid, yerr=[mid - lo, hi - mid], color=c, marker=mk, ls="", capsize=3, label=label)
        ax1.set_xscale("log")
        ax1.set(xlabel="step / horizon T", ylabel="f(x) - f*",
                title=f"logistic regression, minibatch {sf.attrs['batch_size']}")
        ax1.legend(fontsize="x-small")
        plotting.plot_band(ax2, s._sub(sf).sel(step=t_long), x="lr", label="Schedule-Free AdamW", color="C0",
                           marker=".")
        plotting.plot_band(ax2, s._sub(cos).sel(decay_steps=t_long, step=t_long), x="lr",
                           label=f"AdamW, warm-up + cosine to {t_long}", color="C1", marker=".")
        ax2.set_xscale("log")
        ax2.set(xlabel="lr", ylabel=f"f(x) - f* at T = {t_long}", title="the common lr grid")
        ax2.legend(fontsize="x-small")
        fig.suptitle(f"medians and 10-90% bands over {sf.sizes['replicate']} replicates")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
