"""Adam against SGDM on a noisy valley: fast but unstable against stable.

SGDM (momentum 0.9) and Adam on f = 1/2 (x^2 + 10^4 y^2) from (-10, 1) with Gaussian
gradient noise (sigma = 1), over a grid of learning rates and many seeds.  Left: the loss
(median and 10-90% band over seeds) of each optimizer at its "fast" learning rate (lowest
median loss after 10% of the steps; solid) and its "tuned" one (lowest median final loss;
dashed).  Middle: the final loss of every seed at those learning rates (bar: median).
Right: the final loss against the learning rate (median and 10-90% band; circle: fast,
star: tuned).
"""

import numpy as np

from optsim import plotting

NAME = "lecture_003_adam_vs_sgdm"
STUDY = "lecture_003"
LECTURE = "003"
SLIDE = "Adam vs SGDM: 'Adam: fast training, large generalization gap, unstable; SGDM: stable, little generalization gap, better convergence(?)'"
CLAIM = "Adam trains fast but is unstable; SGDM is stable and (perhaps) converges better."

LABELS = {"sgdm": "SGDM", "adam": "Adam"}


def draw(results):
    ds = results["adam_vs_sgdm"]
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(13, 3.9), width_ratios=[1.2, 1, 1])
        pos, ticks = 0, []
        rng = np.random.default_rng(0)
        for o in ("sgdm", "adam"):
            c = plotting.optimizer_color(o)
            fast, tuned = float(ds["fast_lr"].sel(optimizer=o)), float(ds["tuned_lr"].sel(optimizer=o))
            for kind, lr, style in (("fast", fast, "-"), ("tuned", tuned, "--")):
                if kind == "tuned" and lr == fast:
                    label = None
                else:
                    label = f"{LABELS[o]}, {kind} lr {lr:.2g}" + (" (= tuned)" if kind == "fast" and lr == tuned else "")
                if label:
                    plotting.plot_band(ax1, ds["loss"].sel(optimizer=o, lr=lr), color=c, ls=style, label=label)
                f = ds["final_loss"].sel(optimizer=o, lr=lr).values
                ax2.plot(pos + 0.25 * rng.uniform(-1, 1, f.size), f, ".", color=c, ms=2.5, alpha=0.5)
                ax2.plot([pos - 0.3, pos + 0.3], [np.median(f)] * 2, color="k", lw=1.5)
                ticks.append(f"{LABELS[o]}\n{kind}\nlr {lr:.2g}")
                pos += 1
            plotting.plot_loss_vs_lr(ax3, ds.sel(optimizer=o), label=LABELS[o], color=c)
            ax3.plot(fast, float(ds["final_loss"].sel(optimizer=o, lr=fast).median()), "o", color=c, mec="k", mew=0.5)
        ax1.axvline(ds.attrs["early_step"], color="0.5", lw=0.8, ls=":")
        ax1.set(xlabel="step", ylabel="loss", title="loss: median and 10-90% band over seeds")
        ax1.legend(fontsize="x-small")
        ax2.set_yscale("log")
        ax2.set_xticks(range(len(ticks)), ticks, fontsize=7)
        ax2.set(xlabel="optimizer and learning rate", ylabel="final loss",
                title=f"final loss of each of {ds.sizes['replicate']} seeds")
        ax3.set(title="final loss against the learning rate")
        ax3.legend(fontsize="x-small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
