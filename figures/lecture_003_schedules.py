"""Cyclical learning rate, SGDR and warm-up, as optsim's schedules compute them.

Left: the triangular cyclical learning rate of Smith (2017) between a base lr of 0.01 and
max_lr 0.1 with a step size of 500 updates, and its halving variant triangular2.  Middle:
SGDR, cosine annealing with warm restarts (T_0 = 500 updates, T_mult = 1 and 2).  Right:
warm-up: linear over 300 updates then cosine decay, and the Transformer schedule (linear
rise to update 400, then ~1/sqrt(t); its own scale on the right axis).
"""

from optsim import plotting

NAME = "lecture_003_schedules"
STUDY = "lecture_003"
LECTURE = "003"
SLIDE = "Cyclical LR [Smith, WACV'17]; SGDR [Loshchilov, et al., ICLR'17]; 'Adam need warm-up'"
CLAIM = ("Learning-rate schedules vary the rate over training: cyclically between two bounds (cyclical LR), by "
         "cosine decays with warm restarts (SGDR), or small at first and then larger (warm-up).")

TITLES = {"cyclical": "cyclical learning rate", "sgdr": "SGDR (warm restarts)", "warmup": "warm-up"}


def draw(results):
    sc = results["schedules"]
    k = sc["k"].values
    with plotting.use_style():
        fig, axes = plotting.new_figure(1, 3, figsize=(12.5, 3.4))
        for ax, panel in zip(axes, ("cyclical", "sgdr", "warmup")):
            names = [str(n) for n in sc["schedule"].values if str(sc["panel"].sel(schedule=n).values) == panel]
            for i, name in enumerate(names):
                y = sc["lr"].sel(schedule=name).values
                if name.startswith("Transformer"):
                    twin = ax.twinx()
                    twin.plot(k, y, color="C1", ls="--", label=name)
                    twin.set_ylabel("Transformer lr", color="C1")
                    twin.grid(False)
                    ax.plot([], [], color="C1", ls="--", label=name)
                else:
                    ax.plot(k, y, color=f"C{i}", ls="-" if i == 0 else "--", label=name)
            ax.set(xlabel="update", ylabel="learning rate", title=TITLES[panel])
            ax.set_ylim(0, 1.35 * ax.get_ylim()[1])
            if panel == "warmup":
                twin.set_ylim(0, 1.35 * twin.get_ylim()[1])
            ax.legend(fontsize="x-small", loc="upper right")
    return fig


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
