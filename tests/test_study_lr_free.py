"""Smoke and claim tests of the learning-rate-free study (studies/lr_free.py)."""

import importlib

import numpy as np
import pytest
from study_cache import tiny_results

import optsim
from reference import rules_adapt as ra
from reference.loops import run
from studies import lr_free

ORACLES = {"dadapt_sgd": ra.DAdaptSGDRef, "dadapt_adam": ra.DAdaptAdamRef, "dog": ra.DoGRef}


def test_tiny_run_verdict_and_figures():
    for attr in ("NAME", "TITLE", "QUESTION", "HYPOTHESIS"):
        assert isinstance(getattr(lr_free, attr), str) and getattr(lr_free, attr)
    assert set(lr_free.SCALES) == {"tiny", "quick", "paper"}
    results = tiny_results(lr_free)
    rows = lr_free.verdict(results)
    assert len(rows) == 6
    for row in rows:
        assert set(row) >= {"claim", "source", "expected", "measured", "reproduced"}
        assert isinstance(row["reproduced"], bool)
        assert any(ch.isdigit() for ch in row["measured"])
    for name in lr_free.FIGURES:
        mod = importlib.import_module(f"figures.{name}")
        assert mod.NAME == name and mod.STUDY == lr_free.NAME and mod.__doc__
        fig = mod.draw(results)
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes if ax.get_visible())
        import matplotlib.pyplot as plt

        plt.close(fig)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_driven_estimates_match_the_numpy_oracles(name):
    """The study's step-by-step driver reads the same d (rbar) as the NumPy oracle's history
    on the deterministic quadratic, and its iterates are the sweep's."""
    pb = lr_free.problem(6)
    h = np.asarray(pb.hessian_diag())
    rule, scalar, _ = lr_free.METHODS[name]
    est, xs = lr_free.drive(rule, scalar, pb, 0.0, 60, 1)
    ref = ORACLES[name](lr=1.0)
    rx = run(ref, lambda x: h * x, None, pb.start_point(), 60, 1.0)[0]
    assert np.max(np.abs(est[0, 1:] - np.array(ref.history)) / np.array(ref.history)) <= 1e-12
    assert np.max(np.abs(xs[0] - rx)) <= 1e-12 * max(1.0, np.max(np.abs(rx)))
    got = optsim.sweep(pb, rule, steps=60, record_every=1, record=("params",))["params"].values[0]
    assert np.max(np.abs(got - xs[0])) <= 1e-12


def test_tiny_headline_claims():
    """At the tiny scale: D-Adaptation SGD's d stays below D and ends within 10x of it; DoG's rbar
    is the distance travelled and ends near D; D-Adaptation Adam's d overshoots the max-norm
    distance; Prodigy's estimate does not reach D_inf/2 sooner than D-Adaptation Adam's."""
    rows = lr_free.verdict(tiny_results(lr_free))
    assert [r["reproduced"] for r in rows[:4]] == [True, False, False, True], rows
    e = tiny_results(lr_free)["estimates"]
    ratio = e["ratio"].sel(rule="dadapt_sgd", sigma=0.0).isel(replicate=0).values
    assert np.all(np.diff(ratio) >= 0) and ratio.max() <= 1.0


def test_boot_median_interval_contains_the_median():
    a = np.random.default_rng(1).lognormal(size=101)
    m, lo, hi = lr_free.boot_median(a)
    assert m == float(np.median(a)) and lo <= m <= hi
    assert lr_free.boot_median([1.0, 2.0, np.inf])[0] == 2.0
