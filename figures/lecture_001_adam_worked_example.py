"""Adam's first step on f(x) = (2x - 10)^2, by hand and by optsim.

Left: the notes' worked example as a table, one row per quantity of step t = 1: the value
printed in the notes, optsim's (correct) value, and the notes' own recipe with its
square root on 1 - beta1^t computed in NumPy; red: where the notes differ from Adam.
Right: x_t over the steps for optsim's Adam, the notes' mistaken recipe and gradient
descent (all lr = 0.1), with the minimum x* = 5.
"""

import numpy as np

from optsim import plotting

NAME = "lecture_001_adam_worked_example"
STUDY = "lecture_001"
LECTURE = "001"
SLIDE = "Adam, the worked example 'ex) f(x) = (2x-10)^2, init x_0 = 0, lr = 0.1'"
CLAIM = ("By hand, Adam's first step on (2x - 10)^2 has a_1 = -4, b_1 = 1.6, alpha_hat_1 = 0.0158 and "
         "x_1 = 0.0499; Adam starts slower than gradient descent but arrives at the minimum without passing it.")

_ROWS = {
    "g_1": r"$g_1 = 4(2x_0 - 10)$",
    "a_1": r"$a_1 = m_1$",
    "b_1": r"$b_1 = v_1$",
    "alpha_hat_1": r"$\hat\alpha_1$",
    "x_1": r"$x_1$",
}


def _fmt(v):
    return f"{v:.4f}" if abs(v) < 1 else f"{v:.4g}"


def draw(results):
    tab, ds = results["worked_example"], results["adam"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(10.5, 3.8), width_ratios=[1.15, 1])
        ax1.axis("off")
        cols = ["printed in the notes", "optsim (Adam)", r"notes' recipe, $\sqrt{1-\beta_1^t}$"]
        cells, colours = [], []
        for q in tab["quantity"].values:
            p, o, n = (float(tab[k].sel(quantity=q)) for k in ("printed", "optsim", "notes_recipe"))
            cells.append([_fmt(p), _fmt(o), _fmt(n)])
            wrong = abs(p - o) > 5e-5
            colours.append(["#F4CCCC" if wrong else "#D9EAD3", "#D9EAD3", "#FFF2CC" if abs(n - o) > 5e-5 else "#D9EAD3"])
        table = ax1.table(cellText=cells, rowLabels=[_ROWS[q] for q in tab["quantity"].values], colLabels=cols,
                          cellColours=colours, loc="center", cellLoc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(8.5)
        table.scale(1.0, 1.7)
        ax1.set_title("step t = 1: green = Adam's value, red = the notes differ,\n"
                      r"yellow = the notes' formula $\hat\alpha_t = \alpha\sqrt{1-\beta_2^t}/\sqrt{1-\beta_1^t}$",
                      fontsize=8.5)
        ax1.text(0.5, 0.02, r"Adam: $\hat\alpha_t = \alpha\sqrt{1-\beta_2^t}\,/\,(1-\beta_1^t)$, "
                 r"$x_t = x_{t-1} - \hat\alpha_t\, a_t / \sqrt{b_t + \epsilon}$",
                 transform=ax1.transAxes, ha="center", fontsize=8.5)
        steps = ds["step"].values
        adam = ds["params"].sel(optimizer="adam").isel(replicate=0, param=0).values
        gd = ds["params"].sel(optimizer="gd").isel(replicate=0, param=0).values
        ax2.plot(steps, gd, color=plotting.optimizer_color("gd"), label="gradient descent, lr 0.1")
        ax2.plot(steps, adam, color=plotting.optimizer_color("adam"), label="Adam (optsim)")
        ax2.plot(steps, ds["notes_x"].values, color=plotting.optimizer_color("adam"), ls="--",
                 label=r"notes' recipe ($\sqrt{1-\beta_1^t}$)")
        ax2.axhline(5.0, color="k", lw=0.8, ls=":", label="minimum x* = 5")
        ax2.set(xlabel="step t", ylabel="$x_t$", title="f(x) = (2x - 10)^2 from x_0 = 0", ylim=(-0.2, 5.4))
        ax2.legend(loc="lower right", fontsize="x-small")
        peak = int(np.argmax(adam))
        zoom = ax2.inset_axes([0.45, 0.33, 0.52, 0.4])
        late = steps >= peak // 2
        zoom.plot(steps[late], adam[late], color=plotting.optimizer_color("adam"))
        zoom.plot(steps[late], ds["notes_x"].values[late], color=plotting.optimizer_color("adam"), ls="--")
        zoom.axhline(5.0, color="k", lw=0.8, ls=":")
        zoom.plot(steps[peak], adam[peak], "v", color=plotting.optimizer_color("adam"), ms=4)
        zoom.annotate(f"Adam passes x* and peaks at {adam[peak]:.3f} (step {peak})", (steps[peak], adam[peak]),
                      xytext=(4, 4), textcoords="offset points", fontsize=6.5)
        zoom.set_ylim(4.9, 5.02 + 1.2 * (adam[peak] - 5.0))
        zoom.tick_params(labelsize=6.5)
        zoom.set_title("zoom", fontsize=7, pad=2)
        zoom.set_xlabel("step t", fontsize=6.5, labelpad=1)
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
