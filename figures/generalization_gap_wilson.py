"""Adaptive methods overfit Wilson et al.'s construction.

Left: test classification error against the label probability p for full-batch Adam,
RMSProp, AdaGrad, GD and heavy-ball from w0 = 0 (mean and range over label draws and
training-set sizes), with the 1 - p that the sign(X^T y) solution predicts.  Right: the
cosine between each final w and the two candidate solutions.
"""

import numpy as np

from optsim import plotting

NAME = "generalization_gap_wilson"
STUDY = "generalization_gap"

_COLORS = {"adam": "C0", "rmsprop": "C1", "adagrad": "C2", "gd": "C3", "gd+momentum": "C4"}
_MARKERS = {"adam": "o", "rmsprop": "s", "adagrad": "^", "gd": "D", "gd+momentum": "v"}


def draw(results):
    w = results["wilson"]
    opts = [str(o) for o in w["optimizer"].values]
    ps = w["p"].values
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(9.5, 3.8))
        pp = np.linspace(0.5, 1.0, 50)
        ax1.plot(pp, 1 - pp, color="0.5", lw=1, ls="--", label="1 - p (labels all +1)")
        dx = np.linspace(-0.012, 0.012, len(opts))
        for k, o in enumerate(opts):
            e = w["test_error"].sel(optimizer=o).stack(s=("n", "data_seed"))
            mean, lo, hi = e.mean("s").values, e.min("s").values, e.max("s").values
            ax1.errorbar(ps + dx[k], mean, yerr=[mean - lo, hi - mean], fmt=_MARKERS[o], color=_COLORS[o],
                         ms=5, capsize=2, lw=1, label=o)
        ax1.set(xlabel="probability p of the label +1", ylabel="test classification error",
                title="test error (mean, min-max over draws and n)", xlim=(0.5, 0.95), ylim=(-0.02, 0.55))
        ax1.legend(fontsize="small")
        x = np.arange(len(opts))
        for j, (var, lab, c) in enumerate([("cos_sign", "cos(w, sign(X$^T$y))", "0.3"),
                                          ("cos_min_norm", "cos(w, min-norm)", "0.75")]):
            da = w[var].stack(s=("n", "p", "data_seed"))
            med = da.median("s").values
            lo, hi = da.min("s").values, da.max("s").values
            ax2.bar(x + (j - 0.5) * 0.38, med, width=0.38, color=c, label=lab,
                    yerr=[med - lo, hi - med], capsize=2)
        ax2.set_xticks(x, opts, rotation=20)
        ax2.set(xlabel="method", ylabel="cosine similarity", ylim=(0, 1.3), title="which solution is reached (median, range)")
        ax2.legend(fontsize="small", loc="upper center", ncol=2)
        ns = ", ".join(str(int(n)) for n in w["n"].values)
        fig.suptitle(f"Wilson et al. construction, full batch from 0 (n = {ns}; {w.sizes['data_seed']} draws each)")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
