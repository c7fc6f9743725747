"""Interactive explorers of the headline figures of the studies and lectures.

    python docs/explorers/build.py OUTDIR

writes one self-contained HTML page per figure (:func:`optsim.explore`) from tiny sweeps
set up by the studies' and lectures' own functions, in well under a minute once the
kernels are compiled.  ``build(outdir)`` returns the paths written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import optsim
from optsim.analysis import loss_surface


def momentum_valley():
    """Lecture 000's deep valley, GD against momentum (the lecture's form), with gradient noise
    added along a ``sigma`` axis (sigma = 0 is the slide's deterministic run)."""
    from studies import lecture_000 as lec

    pb = lec.valley()
    ds = optsim.sweep(
        problem=pb, noise=optsim.noise.Gaussian(sigma=0.0),
        optimizer={"gd": optsim.optimizers.SGD(),
                   "momentum": optsim.optimizers.SGD(momentum=lec.GAMMA, momentum_form="lr_inside")},
        grid={"lr": np.logspace(-3, -1, 7), "sigma": [0.0, 1.0, 4.0]}, replicates=16,
        steps=lec.SCALES["tiny"]["valley_steps"] * 2, record_every=1, record=("loss", "grad_norm", "params"), seed=0,
    )
    ds["surface"] = loss_surface(pb, lec.XLIM, lec.YLIM, n=121)
    ds.attrs["optimum"] = pb.optimum()
    return ds, {"title": "Momentum in a deep valley (lecture 000), with gradient noise", "variables": ["loss"],
                "max_paths": 4, "start": {"sigma": 1.0, "lr": 0.01}}


def adam_bias_correction():
    """The bias-correction study's ablation (noisy quadratic model): Adam with and without
    bias correction over beta1, beta2 and the learning rate."""
    from studies import bias_correction as study

    ds = study._ablation(study.SCALES["tiny"]["ablation"])
    return ds, {"title": "Adam with and without bias correction on a noisy quadratic (study bias_correction)",
                "variables": ["loss"], "compare": study.BC_DIM}


def beta2_memory_reddi():
    """Reddi et al.'s stochastic counter-example: Adam without bias correction against AMSGrad,
    AdaBound and the later rules, the iterate x and the average regret."""
    from studies import beta2_memory as study

    ds = study._reddi(study.SCALES["tiny"]["reddi"])["reddi_stochastic"]
    return ds, {"title": "beta2's memory on Reddi et al.'s stochastic problem (study beta2_memory)", "var": "x"}


def radam_warmup_variance():
    """RAdam's argument: the variance of the adaptive step size psi_t over the first steps, per
    gradient mean mu (groups of samples as replicates), with the rectified variance."""
    from studies import radam_warmup as study

    ds = study._monte_carlo(study.SCALES["tiny"])
    return ds, {"title": "RAdam's warm-up: the variance of Adam's adaptive step (study radam_warmup)",
                "var": "var_psi", "compare": "mu"}


def sparse_sigmoid():
    """Lecture 002's sigmoid neuron on sparse data: GD, momentum, NAG and AdaGrad on the loss contours."""
    from studies import lecture_002 as lec

    ds = lec._sigmoid_run(lec.SPARSE_METHODS, (-2.0, -2.0), lec.WINDOWS["sparse"], lec.SCALES["tiny"],
                          record=("loss", "params", "dist"))
    return ds, {"title": "The sigmoid neuron on sparse data (lecture 002): GD, momentum, NAG, AdaGrad"}


EXPLORERS = {
    "momentum_valley": momentum_valley,
    "adam_bias_correction": adam_bias_correction,
    "beta2_memory_reddi": beta2_memory_reddi,
    "radam_warmup_variance": radam_warmup_variance,
    "sparse_sigmoid": sparse_sigmoid,
}


def build(outdir, names=None):
    """Write the explorers (all, or those in ``names``) to ``outdir``; returns the paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or EXPLORERS:
        ds, options = EXPLORERS[name]()
        written.append(optsim.explore(ds, outdir / f"{name}.html", **options))
    return written


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    t0 = time.perf_counter()
    for path in build(argv[0], argv[1:] or None):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
    print(f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
