"""GD, momentum, NAG and AdaGrad on the sparse sigmoid neuron (eta = 0.1, beta = 0.9).

Trajectories in (w, b) from (-2, -2) on the contours of the summed squared error of the
lecture's toy network (500 points, about 80% of the inputs x set to 0).  Left: the whole
excursion; right: the first steps near the start, where GD, momentum and NAG move along b
while AdaGrad also moves w.
"""

from matplotlib.patches import Rectangle

from optsim import plotting
from studies.lecture_002 import SPARSE_METHODS, path

NAME = "lecture_002_sparse_paths"
STUDY = "lecture_002"
LECTURE = "002"
SLIDE = "module 5.9, 'Adagrad' (eta0 = 0.1 for all the algorithms, momentum beta = 0.9, 500 points, 80% set to zero)"
CLAIM = ("On sparse data GD, momentum and NAG initially move mainly along b and hardly along w, whereas AdaGrad's "
         "per-parameter learning rate moves w as well (and then slows down near the minimum).")

ZOOM = ((-2.6, 1.6), (-2.6, 3.0))


def draw(results):
    ds = results["sparse"]
    optimum = ds.attrs["optimum"]
    with plotting.use_style():
        fig, (ax1, ax2) = plotting.new_figure(1, 2, figsize=(11, 5.2), gridspec_kw={"width_ratios": [1, 1.15]})
        for ax in (ax1, ax2):
            plotting.plot_contours(ax, ds["surface"], optimum=optimum)
            for label in SPARSE_METHODS:
                plotting.plot_path(ax, path(ds, label), label=label, markers=ax is ax2)
        ax2.set(xlim=ZOOM[0], ylim=ZOOM[1], title="near the start (dots: iterates)")
        ax1.set_title(f"{ds.sizes['step'] - 1} iterations")
        ax1.text(0.03, 0.97, "large b: the sigmoid saturates,\nthe surface is flat", transform=ax1.transAxes,
                 va="top", fontsize="small", color="0.2")
        (x0, x1), (y0, y1) = ZOOM
        ax1.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", lw=0.8, ec="0.25", zorder=4))
        ax1.text(x1, y1, " right panel", fontsize="x-small", color="0.25", va="bottom")
        ax2.legend(loc="upper left", fontsize="small", framealpha=0.9)
        fig.suptitle("Sparse sigmoid neuron: GD, momentum, NAG and AdaGrad from (-2, -2), eta = 0.1")
    return fig


def animate(results, frames=40):
    ds = results["sparse"]
    return plotting.animate_paths(ds["surface"], {label: path(ds, label) for label in SPARSE_METHODS},
                                  frames=frames, optimum=ds.attrs["optimum"], figsize=(4.6, 6.0),
                                  title="GD, momentum, NAG, AdaGrad (eta = 0.1)")


if __name__ == "__main__":  # `python figures/<name>.py [--scale S]` draws it from saved results
    import sys

    from studies._runner import figure_main

    sys.exit(figure_main(NAME))
