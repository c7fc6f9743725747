"""Schedule-Free's anytime claim on a noisy quadratic, and its sensitivity to beta.

Left: loss against the horizon T.  The single Schedule-Free SGD run (its (beta, lr) tuned once for
all horizons) as a curve over steps; cosine and WSD tuned for each T, and Schedule-Free
re-tuned for each T, as points at T; the cosine tuned for the shortest T, continued (rate 0 past
T_max).  Lines: replicate medians; bands: 10-90% of the replicates.  Right: Schedule-Free's loss
at the longest horizon against its lr for each beta.
"""

from optsim import plotting

NAME = "schedule_free_anytime"
STUDY = "schedule_free"


def draw(results):
    from studies import schedule_free as s

    cos, wsd, sf = results["cosine"], results["wsd"], results["schedule_free"]
    hz = list(sf.attrs["horizons"])
    t_long, t_short = max(hz), min(hz)
    beta, lr = s.sf_best_anytime(sf)
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 4.2))
        plotting.plot_band(ax1, s._loss(sf).sel(momentum=beta, lr=lr).isel(step=slice(1, None)),
                           label=f"Schedule-Free, one run (beta {beta:g}, lr {lr:.3g})", color="C0")
        tc, _ = s.tuned_at_horizon(cos, "T_max")
        tw, _ = s.tuned_at_horizon(wsd, "total_steps")
        plotting.plot_band(ax1, tc, x="horizon", label="cosine tuned for each T", color="C1", marker="o")
        plotting.plot_band(ax1, tw, x="horizon", label="WSD tuned for each T", color="C2", marker="s")
        per_t = s.sf_tuned_per_horizon(sf)
        plotting.plot_band(ax1, per_t, x="horizon", label="Schedule-Free re-tuned for each T", color="C0",
                           marker="^", ls=":")
        _, best = s.tuned_at_horizon(cos, "T_max")
        lr_s = float(best.sel(horizon=t_short))
        cont = s._loss(cos).sel(T_max=float(t_short), lr=lr_s).isel(step=slice(1, None))
        plotting.plot_band(ax1, cont, label=f"cosine tuned for T={t_short}, continued", color="C3", ls="--")
        ax1.set_xscale("log")
        ax1.set(xlabel="step / horizon T", ylabel="loss at the recorded point",
                title=f"noisy quadratic, kappa {sf.attrs['condition_number']:g}, sigma {sf.attrs['sigma']:g}")
        ax1.legend(fontsize="x-small")
        final = s._loss(sf).sel(step=t_long)
        for i, b in enumerate(sf["momentum"].values):
            plotting.plot_band(ax2, final.sel(momentum=b), x="lr", label=f"beta = {float(b):g}", color=f"C{i + 4}",
                               marker=".")
        ax2.set_xscale("log")
        ax2.set(xlabel="Schedule-Free lr", ylabel=f"loss at T = {t_long}", title="sensitivity to beta")
        ax2.legend(fontsize="x-small")
        fig.suptitle(f"medians and 10-90% bands over {sf.sizes['replicate']} replicates")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
