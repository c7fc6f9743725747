"""NAG's look-ahead against momentum, and Nadam against Adam, on a valley.

f = 1/2 (x^2 + 10 y^2) from (-8, 2).  Left: SGDM (lambda = 0.9, lr = 0.02, the lecture's
form) and NAG with the same settings, first 40 steps (dots: iterates); for NAG's first 12
steps the look-ahead point theta_t - lambda m_t where it takes the gradient (crosses, joined
to theta_t by dotted lines).  Middle: Adam and Nadam (Dozat's form), lr = 0.3.  Right: the
loss of all four.
"""

import numpy as np

from optsim import plotting

NAME = "lecture_003_nag_nadam"
STUDY = "lecture_003"
LECTURE = "003"
SLIDE = "Nesterov accelerated gradient (NAG): 'Look into the future'; Nadam [Dozat, ICLR workshop'16]"
CLAIM = ("NAG takes the gradient where momentum is about to carry the parameters (theta - lambda m), which curbs "
         "overshooting; it can be rewritten as an SGDM-like update, and Nadam brings the look-ahead to Adam.")

LABELS = {"momentum": "SGDM", "nag": "NAG", "adam": "Adam", "nadam": "Nadam"}
PATH_STEPS, LOOK_STEPS = 40, 12


def _xy(ds, o, steps=None):
    """The path of optimizer ``o`` (its first ``steps`` steps, or all)."""
    xy = ds["params"].sel(optimizer=o).transpose("step", "param").values
    return xy if steps is None else xy[: steps + 1]


def draw(results):
    ds = results["nag"]
    opt = tuple(ds.attrs["optimum"])
    with plotting.use_style():
        fig, (ax1, ax2, ax3) = plotting.new_figure(1, 3, figsize=(13, 3.8), width_ratios=[1.3, 1.3, 1])
        plotting.plot_contours(ax1, ds["surface"], optimum=opt)
        for o in ("momentum", "nag"):
            plotting.plot_path(ax1, _xy(ds, o, PATH_STEPS), label=f"{LABELS[o]} (lr {ds.attrs['nag_lr']:g})",
                               markers=True)
        look = ds["lookahead"].transpose("step", "param").values[:LOOK_STEPS]
        here = _xy(ds, "nag", LOOK_STEPS)[:LOOK_STEPS]
        c = plotting.optimizer_color("nag")
        for a, b in zip(here, look):
            ax1.plot([a[0], b[0]], [a[1], b[1]], ":", color=c, lw=0.9)
        ax1.plot(look[:, 0], look[:, 1], "x", color="k", ms=4, label=r"NAG look-ahead $\theta_t - \lambda m_t$")
        ax1.set_title(f"momentum vs NAG, first {PATH_STEPS} steps")
        ax1.legend(fontsize="x-small", loc="lower right")
        plotting.plot_contours(ax2, ds["surface"], optimum=opt)
        for o in ("adam", "nadam"):
            plotting.plot_path(ax2, _xy(ds, o), label=f"{LABELS[o]} (lr {ds.attrs['adam_lr']:g})", markers=True)
        ax2.set_title(f"Adam vs Nadam, {ds.sizes['step'] - 1} steps")
        ax2.legend(fontsize="x-small", loc="lower right")
        for o, style in (("momentum", "-"), ("nag", "-"), ("adam", "--"), ("nadam", "--")):
            loss = ds["loss"].sel(optimizer=o).values
            ax3.semilogy(ds["step"], np.where(loss > 0, loss, np.nan), color=plotting.optimizer_color(o), ls=style,
                         label=LABELS[o])
        ax3.set(xlabel="step", ylabel="loss", title="loss")
        ax3.legend(fontsize="x-small")
    return fig


def animate(results, frames=None):
    ds = results["nag"]
    paths = {f"{LABELS[o]}": _xy(ds, o) for o in ("momentum", "nag", "adam", "nadam")}
    styles = {"Adam": "--", "Nadam": "--"}
    return plotting.animate_paths(ds["surface"], paths, frames=frames or ds.sizes["step"],
                                  optimum=tuple(ds.attrs["optimum"]), styles=styles,
                                  title="SGDM, NAG, Adam, Nadam")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
