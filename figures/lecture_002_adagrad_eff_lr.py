"""AdaGrad's effective learning rate for w against b on the sparse sigmoid neuron.

Left: eta / (sqrt(v_t) + eps) per parameter over the iterations of the run from (-2, -2)
with eta = 0.1 (recorded as ``eff_lr``), with the lecture's first-step values (from its own
data) for reference.  Right: the accumulated squared gradients v_t^w and v_t^b.
"""

import numpy as np

from optsim import plotting

NAME = "lecture_002_adagrad_eff_lr"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.9, 'The effective learning rate' (eta_t = eta_0 / sqrt(v_t + eps) for w and for b)"
CLAIM = ("AdaGrad's effective learning rate stays high for the sparse parameter w and is small and decaying for b, "
         "because v_t^b accumulates a dense gradient; neither v_t ever decreases.")

LECTURE_FIRST = {"w": 0.72, "b": 0.01}  # 0.1/sqrt(0.019) and 0.1/sqrt(84.45), on the lecture's data
STYLES = {"w": "-", "b": "--"}


def draw(results):
    ds = results["sparse"]
    e = ds["eff_lr"].sel(optimizer="AdaGrad").isel(replicate=0)
    v = ds["state"].sel(optimizer="AdaGrad").isel(replicate=0, slot=0)
    steps = ds["step"].values[1:]
    color = plotting.optimizer_color("AdaGrad")
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10, 4.2))
        for p in ("w", "b"):
            ax1.plot(steps, e.sel(param=p).values[1:], color=color, ls=STYLES[p], label=f"{p}: eta / (sqrt(v_t) + eps)")
            ax1.plot([1], [LECTURE_FIRST[p]], marker="D", ls="none", mfc="white", mec=color,
                     label=f"{p}: the lecture's first value ({LECTURE_FIRST[p]})")
            ax2.plot(steps, v.sel(param=p).values[1:], color=color, ls=STYLES[p], label=f"$v_t^{p}$")
        ax1.set(xscale="log", yscale="log", xlabel="iteration t", ylabel="effective learning rate",
                title="AdaGrad, eta = 0.1, eps = 1e-8")
        ax1.legend(fontsize="small")
        ax2.set(xscale="log", yscale="log", xlabel="iteration t", ylabel="accumulated squared gradient",
                title="$v_t = v_{t-1} + (\\nabla_t)^2$ (never decreases)")
        ax2.legend(fontsize="small")
        ratio = float(np.min(e.sel(param="w").values[1:] / e.sel(param="b").values[1:]))
        ax1.text(0.02, 0.03, f"w's rate / b's rate >= {ratio:.0f} at every step", transform=ax1.transAxes,
                 fontsize="small")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
