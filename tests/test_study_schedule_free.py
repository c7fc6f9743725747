"""Smoke and claim tests of the Schedule-Free anytime study (tiny scale), with a NumPy oracle of
the bootstrap ratio and of the horizon-wise tuning."""

import importlib

import numpy as np
import pytest
from study_cache import assert_readme_verdicts, tiny_results
from verdict_checks import assert_firm_verdicts_keep_their_status, implied_status

from studies import schedule_free as s


def test_tiny_run_verdict_and_figure():
    for attr in ("NAME", "TITLE", "QUESTION", "HYPOTHESIS"):
        assert isinstance(getattr(s, attr), str) and getattr(s, attr)
    assert set(s.SCALES) == {"tiny", "quick", "paper"}
    results = tiny_results(s)
    assert set(results) == {"cosine", "wsd", "schedule_free", "regression_cosine", "regression_sf"}
    rows = s.verdict(results)
    assert len(rows) == 8  # the quadratic's five, then the regression's three
    for row in rows:
        assert set(row) >= {"claim", "source", "expected", "measured", "reproduced"}
        assert isinstance(row["reproduced"], bool)
        assert any(ch.isdigit() for ch in row["measured"])
    import matplotlib.pyplot as plt

    for name in s.FIGURES:
        mod = importlib.import_module(f"figures.{name}")
        assert mod.NAME == name and mod.STUDY == s.NAME and mod.__doc__
        fig = mod.draw(results)
        assert fig.axes and all(ax.get_xlabel() for ax in fig.axes if ax.get_visible())
        plt.close(fig)


def test_tiny_headline_claims():
    """At the tiny scale: one Schedule-Free run, tuned once, is not significantly worse than cosine
    and WSD tuned for each T; cosine tuned for the short T and continued is worse."""
    rows = s.verdict(tiny_results(s))
    for start in ("Schedule-Free SGD, run once, matches cosine", "Schedule-Free SGD, run once, matches WSD",
                  "A schedule tuned for a shorter horizon is worse when continued"):
        (row,) = [r for r in rows if r["claim"].startswith(start)]
        assert row["reproduced"], row["measured"]
    # the measured answer on beta: the smallest beta of the grid is best, 0.9 clearly worse
    (row,) = [r for r in rows if r["claim"].startswith("Schedule-Free is insensitive to beta")]
    assert not row["reproduced"] and "best beta 0.5" in row["measured"], row["measured"]


def test_tuning_and_readout_against_numpy():
    """tuned_at_horizon and sf_at_horizons read the right cells: recomputed from the raw array."""
    res = tiny_results(s)
    cos, sf = res["cosine"], res["schedule_free"]
    loss = cos["loss"].isel(optimizer=0)
    tuned, best = s.tuned_at_horizon(cos, "T_max")
    for k, h in enumerate(cos.attrs["horizons"]):
        arr = loss.sel(T_max=float(h), step=h).transpose("lr", "replicate").values
        j = int(np.argmin(np.median(arr, axis=1)))
        assert float(best[k]) == float(cos["lr"].values[j])
        np.testing.assert_array_equal(tuned.values[k], arr[j])
    b, lr = s.sf_best_anytime(sf)
    raw = sf["loss"].isel(optimizer=0).sel(momentum=b, lr=lr).transpose("replicate", "step")
    got = s.sf_at_horizons(sf, b, lr)
    for k, h in enumerate(sf.attrs["horizons"]):
        np.testing.assert_array_equal(got.values[k], raw.values[:, list(sf["step"].values).index(h)])


def test_median_ratio_bootstrap():
    rng = np.random.default_rng(1)
    a = rng.lognormal(0.0, 0.3, size=400)
    b = 2.0 * rng.lognormal(0.0, 0.3, size=400)
    r, lo, hi = s.median_ratio(a, b, n_boot=1000)
    assert r == np.median(a) / np.median(b)
    assert lo < r < hi and lo < 0.5 < hi and hi - lo < 0.2
    r, lo, hi = s.median_ratio(a, a, n_boot=200)
    assert r == lo == hi == 1.0


def test_tiny_regression_claims_and_readme_verdicts():
    """At the tiny scale, as at the quick one: on the logistic regression Schedule-Free AdamW is
    significantly worse than AdamW with warm-up + cosine at the end, along part of the curve, and as
    one run against cosine tuned for each horizon."""
    rows = s.verdict(tiny_results(s))
    assert_readme_verdicts("schedule_free", rows)
    for start in ("Schedule-Free AdamW matches AdamW with warm-up and cosine at the end",
                  "Schedule-Free AdamW's whole curve is at or below", "Schedule-Free AdamW, run once, matches"):
        (row,) = [r for r in rows if r["claim"].startswith(start)]
        assert not row["reproduced"], row["measured"]


def test_regression_optimum_and_tuning_against_numpy():
    """f* is the minimum of the regression's objective (a NumPy gradient vanishes there and random
    nearby points are higher), and the tuned readouts pick the raw array's best cells."""
    pb = s.reg_problem()
    X, y = pb.data()[:2]
    w = np.asarray(pb.optimum())
    sig = 1.0 / (1.0 + np.exp(y * (X @ w)))
    grad = -(X.T @ (y * sig)) / X.shape[0] + pb.l2 * w
    assert np.max(np.abs(grad)) < 1e-12
    fstar = s.reg_optimal_loss(pb)
    rng = np.random.default_rng(0)
    for _ in range(5):
        v = w + 1e-3 * rng.standard_normal(w.shape)
        assert np.mean(np.log1p(np.exp(-y * (X @ v)))) + 0.5 * pb.l2 * v @ v > fstar
    res = tiny_results(s)
    cos, sf = res["regression_cosine"], res["regression_sf"]
    raw = cos["loss"].isel(optimizer=0) - fstar
    for h in cos.attrs["horizons"]:
        arr = raw.sel(decay_steps=h, step=h).transpose("lr", "replicate").values
        lr, curve = s.reg_cosine_tuned(cos, h)
        j = int(np.argmin(np.median(arr, axis=1)))
        assert lr == float(cos["lr"].values[j])
        np.testing.assert_array_equal(curve.sel(step=h).values, arr[j])
    arr = (sf["loss"].isel(optimizer=0) - fstar).sel(step=list(sf.attrs["horizons"])).transpose("lr", "step", "replicate")
    j = int(np.argmin(np.log(np.median(arr.values, axis=-1)).mean(axis=1)))
    assert s.reg_sf_tuned(sf)[0] == float(sf["lr"].values[j])


def test_verdict_rows_carry_a_consistent_criterion():
    """Every row: a status of the three, reproduced iff "reproduced", the statistic inside its 99%
    interval, the uncertainty half its width, the status the interval and threshold imply, and the
    statistic among the numbers the row prints."""
    from studies._criteria import STATUSES

    rows = s.verdict(tiny_results(s))
    for row in rows:
        assert row["status"] in STATUSES and row["reproduced"] is (row["status"] == "reproduced")
        lo, hi = row["interval"]
        assert lo <= row["statistic"] <= hi and row["uncertainty"] == 0.5 * (hi - lo) > 0.0
        assert "99% interval" in row["criterion"] and row["status"] == implied_status(row), row
        assert f"{row['statistic']:.3g}" in row["measured"], row
    (beta,) = [r for r in rows if r["claim"].startswith("Schedule-Free is insensitive to beta")]
    assert beta["threshold"] == 1.5


def test_deciding_row_is_the_intersection_union_test():
    """"Every ratio below 1": not reproduced as soon as one interval lies wholly above 1 (the one
    farthest above decides), reproduced only when every interval lies below 1, else inconclusive;
    the mirror image for "every ratio above 1"."""
    r = np.array([0.5, 0.8, 0.6])

    def status(lo, hi, above=False):
        return s.judge_rows(r, np.array(lo), np.array(hi), ["a", "b", "c"], 1.0, above=above, what="w")["status"]

    assert status([0.4, 0.7, 0.5], [0.6, 0.9, 0.7]) == "reproduced"
    assert status([0.4, 0.7, 0.5], [0.6, 1.1, 0.7]) == "inconclusive"
    assert status([0.4, 1.05, 0.5], [0.6, 1.2, 0.7]) == "not reproduced"
    row = s.judge_rows(r, np.array([0.4, 0.7, 0.5]), np.array([0.6, 1.1, 0.7]), ["a", "b", "c"], 1.0, what="w")
    assert row["interval"] == [0.7, 1.1] and "(b)" in row["criterion"] and "Bonferroni over the 3" in row["criterion"]
    assert status([1.1, 1.2, 1.3], [1.5, 1.6, 1.7], above=True) == "reproduced"
    assert status([0.9, 1.2, 1.3], [1.5, 1.6, 1.7], above=True) == "inconclusive"
    assert status([0.7, 1.2, 1.3], [0.95, 1.6, 1.7], above=True) == "not reproduced"


def test_paired_ratios_use_bonferroni_levels_and_shared_resamples():
    """paired_ratios: each row's interval is the paired percentile bootstrap at 1 - 0.01/rows,
    recomputed here in NumPy with the same replicate indices."""
    rng = np.random.default_rng(2)
    a = rng.lognormal(0.0, 0.4, (3, 64))
    b = 1.5 * rng.lognormal(0.0, 0.4, (3, 64))
    r, lo, hi = s.paired_ratios(a, b, n_boot=500)
    idx = np.random.default_rng(0).integers(0, 64, (500, 64))
    for k in range(3):
        boots = np.median(a[k][idx], axis=1) / np.median(b[k][idx], axis=1)
        want = np.quantile(boots, [0.005 / 3, 1 - 0.005 / 3])
        assert r[k] == np.median(a[k]) / np.median(b[k])
        assert lo[k] == pytest.approx(min(want[0], r[k]), rel=1e-12)
        assert hi[k] == pytest.approx(max(want[1], r[k]), rel=1e-12)


def test_a_verdict_far_from_its_threshold_does_not_change_with_the_seed():
    """The study at the tiny scale under two more seeds: every claim whose statistic lies, at every
    seed, more than 1.5 times its 99% interval's reach away from the threshold keeps its status."""
    runs = [s.verdict(tiny_results(s))] + [s.verdict(s.run("tiny", seed=seed)) for seed in (5, 7)]
    assert_firm_verdicts_keep_their_status(runs, at_least=3)
