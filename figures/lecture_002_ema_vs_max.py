"""Exponential averaging of squared gradients against the max norm, on the lecture's gradient profiles.

Top: the gradients fed to both rules (open loop, ``optsim.Replay``): a profile with 50% zeros
that starts 1, 0, 1 (the lecture's worked example), and one that is 1.16 for t = 0..10 and
then decreases.  Bottom: the effective learning rate eta / sqrt(v_hat_t) of RMSProp with
bias correction against eta / v_t of MaxProp, v_t = max(beta v_(t-1), |g_t|); eta = 1,
beta = 0.999.
"""

from optsim import plotting

NAME = "lecture_002_ema_vs_max"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = ("module 5.9, AdaMax ('The problem with exponential averaging ... is that it increases the learning rate "
         "despite grad = 0' and 'Let's see the behaviour of exponential averaging and Max norm for the following "
         "gradient profile')")
CLAIM = ("Exponential averaging (even with bias correction) raises the learning rate whenever the gradient is zero "
         "or shrinking, 1 -> 1.41 after one zero gradient, whereas the max norm is conservative (1 -> 1.001).")

STYLES = ["-", "--"]


def draw(results):
    ds = results["ema_max"]
    k = ds["update"].values
    with plotting.use_style():
        fig, axes = plotting.new_figure(2, 2, figsize=(11, 6.4), sharex="col",
                                        gridspec_kw={"height_ratios": [1, 1.5]})
        for j, profile in enumerate(ds["sequence"].values):
            top, bottom = axes[0, j], axes[1, j]
            top.bar(k, ds["grad"].sel(sequence=profile).values, width=0.8, color="0.45")
            top.set(ylabel="gradient $g_t$", title=f"profile: {profile}")
            for label, ls in zip(ds["optimizer"].values, STYLES):
                e = ds["eff_lr"].sel(optimizer=label, sequence=profile).isel(replicate=0, param=0).values[1:]
                bottom.plot(k, e, color=plotting.optimizer_color(label), ls=ls, marker=".", markersize=3,
                            label=str(label))
            bottom.set(xlabel="iteration t", ylabel="effective learning rate")
            bottom.legend(fontsize="small", loc="upper left")
        e = ds["eff_lr"].sel(sequence=ds["sequence"].values[0]).isel(replicate=0, param=0, step=2)
        axes[1, 0].annotate(f"after g = 0: {float(e[0]):.2f} against {float(e[1]):.3f}", xy=(1, float(e[0])),
                            xytext=(8, float(e[0]) + 0.25), fontsize="small",
                            arrowprops={"arrowstyle": "->", "color": "0.3"})
        fig.suptitle("Exponential averaging (RMSProp, bias-corrected) against the max norm (MaxProp), beta = 0.999")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
