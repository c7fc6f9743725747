"""The root-mean-square adaptive learning rate gets close to the end, then bursts.

The lecture's theta^(t+1) = theta^t - eta/sigma^t g^t with sigma^t the root mean square of
all past gradients of each coordinate (eta = 0.3, constant), on the valley of the previous
figure.  Left: its path.  Middle: the distance to the minimum (shaded: bursts).  Right: the
step of each coordinate relative to its stability limit, eta/sigma_i^t * H_ii: gradient
descent along a coordinate is unstable above 2.  On the valley floor the steep coordinate's
gradients are tiny, sigma_2 stops growing while t grows, its rate passes 2 and the steep
coordinate bursts; the burst's large gradients raise sigma_2 and the rate falls below 2.
"""


from optsim import plotting
from studies.lecture_004 import bursts

NAME = "lecture_004_rms_burst"
STUDY = "lecture_004"
LECTURE = "004"
SLIDE = "Root Mean Square (used in Adagrad); the Adagrad figure: '為甚麼後來會突然爆炸呢' (why does it suddenly blow up?)"
CLAIM = ("With sigma = the root mean square of the past gradients the parameters walk along the flat valley and get "
         "very close to the end, then suddenly blow up, because sigma accumulated many small gradients; after the "
         "burst sigma grows and the steps shrink again.")

LABEL = "eta / sigma (RMS), eta = {eta:g}"


AXES = {"xlabel": r"$\theta_1$ (flat direction)", "ylabel": r"$\theta_2$ (steep direction)"}


def draw(results):
    rms = results["rms"]
    color = plotting.optimizer_color("adagrad")
    d = rms["dist"].values
    _, found = bursts(d)
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(12.5, 3.7), width_ratios=[1.5, 1, 1])
        plotting.plot_contours(ax1, rms["surface"], optimum=tuple(rms.attrs["optimum"]))
        ax1.set(**AXES)
        plotting.plot_path(ax1, rms["params"].values, label=LABEL.format(eta=rms.attrs["eta"]), color=color,
                           linewidth=0.7)
        ax1.set_title(f"{len(d) - 1} steps of the lecture's RMS method")
        ax1.legend(loc="lower left", fontsize="x-small")
        steps = rms["step"].values
        ax2.semilogy(steps, d, color=color)
        for _, s, _, e in found:
            for ax in (ax2, ax3):
                ax.axvspan(s, e, color="#F4CCCC", lw=0)
        ax2.set(xlabel="step", ylabel="distance to the minimum", title=f"{len(found)} bursts")
        t = rms["t"].values
        for p, style, name in (("x1", "-", r"steep $\theta_2$"), ("x0", "--", r"flat $\theta_1$")):
            ax3.semilogy(t, rms["stability"].sel(param=p), color=color, ls=style, label=name)
        ax3.axhline(2.0, color="k", lw=0.8, ls=":", label="stability limit 2")
        ax3.set(xlabel="step", ylabel=r"$\eta/\sigma_i^t \cdot H_{ii}$", title="step relative to curvature")
        ax3.legend(fontsize="x-small", loc="lower right")
    return fig


def animate(results, frames=120):
    rms = results["rms"]
    label = LABEL.format(eta=rms.attrs["eta"])
    fig, anim = plotting.animate_paths(rms["surface"], {label: rms["params"].values}, frames=frames,
                                     optimum=tuple(rms.attrs["optimum"]), colors={label: plotting.optimizer_color("adagrad")},
                                     title="RMS adaptive rate: close, then bursts", figsize=(6.0, 4.2))
    fig.axes[0].set(**AXES)
    return fig, anim


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
