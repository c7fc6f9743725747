"""Learning-rate scheduling for eta^t/sigma^t: decay removes the burst, warm-up the first jump.

Top left: the schedules eta^t of the lecture's rule theta^(t+1) = theta^t - eta^t/sigma^t g^t:
constant (the bursting run of the previous figure), decay eta/sqrt(t+1) (which makes the
rule AdaGrad) at eta = 0.3 and 3, and a linear warm-up followed by the same decay at
eta = 3.  Top right: their paths on the valley (optsim's Adagrad; the constant-eta path
is faint).  Bottom left: the steep coordinate's step relative to its stability limit,
eta^t/sigma_2^t H_22.  Bottom right: with Gaussian gradient noise, the relative spread
(std/mean over runs) of sigma_2^t: it is largest in the first steps, the lecture's reason
for warm-up.
"""


from optsim import plotting

NAME = "lecture_004_scheduling"
STUDY = "lecture_004"
LECTURE = "004"
SLIDE = "Learning Rate Scheduling: Learning Rate Decay; Warm Up ('Increase and then decrease?')"
CLAIM = ("Making eta depend on time fixes the burst: with learning-rate decay the parameters reach the end smoothly, "
         "and warm-up keeps the first steps small while the estimate of sigma still has a large variance.")

STYLES = {"constant": ":", "decay, eta 0.3": "-", "decay, eta 3": "--", "warm-up + decay, eta 3": "-."}


AXES = {"xlabel": r"$\theta_1$ (flat direction)", "ylabel": r"$\theta_2$ (steep direction)"}


def _style(name):
    return STYLES.get(name, "-")


def draw(results):
    sc, rms = results["schedules"], results["rms"]
    color = plotting.optimizer_color("adagrad")
    H22 = rms.attrs["H22"]
    with plotting.use_style():
        fig, axes = plotting.new_figure(2, 2, figsize=(11, 7.2))
        (ax1, ax2), (ax3, ax4) = axes
        t = sc["t"].values
        for name in sc["schedule"].values:
            c = "0.6" if name == "constant" else color
            ax1.loglog(t + 1, sc["eta_t"].sel(schedule=name), color=c, ls=_style(str(name)), label=str(name))
        ax1.set(xlabel="step t + 1", ylabel=r"$\eta^t$", title=r"schedules of $\eta^t$")
        ax1.legend(fontsize="x-small")
        plotting.plot_contours(ax2, sc["surface"], optimum=tuple(sc.attrs["optimum"]))
        ax2.set(**AXES)
        plotting.plot_path(ax2, sc["rms_params"].values, label="constant (bursts)", color="0.6", linewidth=0.5,
                           start=False, end=False)
        for name in sc["optimizer"].values:
            xy = sc["params"].sel(optimizer=name).transpose("step", "param").values
            plotting.plot_path(ax2, xy, label=str(name), color=color, linestyle=_style(str(name)))
        ax2.set_title("paths (optsim Adagrad with these schedules)")
        ax2.legend(loc="lower left", fontsize="x-small")
        ax3.loglog(rms["t"] + 1, rms["stability"].sel(param="x1"), color="0.6", ls=":", label="constant, eta 0.3")
        for name in sc["optimizer"].values:
            ax3.loglog(t + 1, sc["eff_lr"].sel(optimizer=name, param="x1").values[1:] * H22, color=color,
                         ls=_style(str(name)), label=str(name))
        ax3.axhline(2.0, color="k", lw=0.8, label="stability limit 2")
        ax3.set(xlabel="step t + 1", ylabel=r"$\eta^t/\sigma_2^t \cdot H_{22}$", title="steep coordinate: step vs curvature")
        ax3.legend(fontsize="x-small", loc="lower right")
        sig = sc["noisy_sigma"].sel(nparam="x1")
        n = sig.sizes["replicate"]
        for name in sc["optimizer"].values:
            s = sig.sel(optimizer=name)
            rel = (s.std("replicate") / s.mean("replicate")).values
            ax4.semilogx(sc["nstep"].values, rel, marker="o", ms=3, color=color, ls=_style(str(name)), label=str(name))
        ax4.set(xlabel="gradients averaged in sigma (updates)", ylabel=r"std / mean of $\sigma_2$ over runs",
                title=f"noisy gradients ({n} runs): spread of the estimate of sigma")
        ax4.legend(fontsize="x-small")
    return fig


def animate(results, frames=100):
    sc = results["schedules"]
    paths = {str(n): sc["params"].sel(optimizer=n).transpose("step", "param").values for n in sc["optimizer"].values}
    color = plotting.optimizer_color("adagrad")
    fig, anim = plotting.animate_paths(sc["surface"], paths, frames=frames, optimum=tuple(sc.attrs["optimum"]),
                                     colors={k: color for k in paths}, styles={k: _style(k) for k in paths},
                                     title="decay and warm-up", figsize=(6.0, 4.2))
    fig.axes[0].set(**AXES)
    return fig, anim


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
