"""optsim.tuning: search spaces, equal budgets, validation-based selection and the readouts,
against brute-force oracles (tests/reference/tuning.py) and hand-computed tables."""

import numpy as np
import pytest
import xarray as xr

import optsim
from optsim import tuning
from optsim.optimizers import SGD, Adam
from reference.tuning import best_of_k_enumerated, dodge_expected_max, profile_by_hand


def _trials(val, rep=None):
    val = xr.DataArray(np.asarray(val, float), dims="trial")
    return val, (val if rep is None else xr.DataArray(np.asarray(rep, float), dims="trial"))


@pytest.mark.parametrize("replace", [False, True])
def test_best_of_k_matches_enumeration_of_subsets(replace):
    rng = np.random.default_rng(1)
    n = 7
    val = np.round(rng.normal(size=n), 1)
    val[3] = val[5]  # a tie: the earlier trial wins
    rep = rng.normal(size=n) * 10
    ks = [1, 2, 3, 5, 7] if not replace else [1, 2, 3, 4]
    v, r = _trials(val, rep)
    for minimize in (True, False):
        got = tuning.expected_best_of_k(v, r, ks=ks, minimize=minimize, replace=replace)
        for k in ks:
            m, var = best_of_k_enumerated(val, rep, k, replace=replace, minimize=minimize)
            assert got["mean"].sel(k=k).item() == pytest.approx(m, rel=1e-12, abs=1e-12)
            assert got["var"].sel(k=k).item() == pytest.approx(var, rel=1e-9, abs=1e-12)


def test_best_of_k_is_dodge_expected_maximum():
    v = np.random.default_rng(2).uniform(size=12)
    da, _ = _trials(v)
    got = tuning.expected_best_of_k(da, ks=[1, 3, 10, 30], minimize=False, replace=True)
    for k in (1, 3, 10, 30):
        assert got["mean"].sel(k=k).item() == pytest.approx(dodge_expected_max(v, k), rel=1e-12)
    # without replacement, k = N takes every trial: the maximum, with no variance
    full = tuning.expected_best_of_k(da, ks=[12], minimize=False)
    assert full["mean"].item() == v.max() and full["var"].item() == 0.0
    assert tuning.expected_best_of_k(da, ks=[1])["mean"].item() == pytest.approx(v.mean(), rel=1e-12)


def test_best_of_k_monte_carlo_of_subsets_for_a_large_n():
    """N = 40 is too many subsets to enumerate for k = 8: draw 40000 of them."""
    rng = np.random.default_rng(3)
    val, rep = rng.normal(size=40), rng.normal(size=40)
    v, r = _trials(val, rep)
    got = tuning.expected_best_of_k(v, r, ks=[8])
    picks = np.array([rep[s[np.argmin(val[s])]] for s in (rng.choice(40, 8, replace=False) for _ in range(40000))])
    se = picks.std() / np.sqrt(picks.size)
    assert abs(got["mean"].item() - picks.mean()) < 4 * se
    assert got["var"].item() == pytest.approx(picks.var(), rel=0.05)


def test_best_of_k_weights_sum_to_one_and_refuse_bad_budgets():
    for n, k, rep in [(1, 1, False), (64, 64, False), (64, 16, False), (500, 3, False), (5, 9, True)]:
        w = tuning.best_of_k_weights(n, k, rep)
        assert w.shape == (n,) and w.sum() == pytest.approx(1.0) and np.all(w >= 0)
        assert np.all(np.diff(w) <= 1e-15)  # the better a trial, the likelier it is selected
    with pytest.raises(optsim.ParameterError, match=r"k=9 must lie in \[1, N=5\]"):
        tuning.best_of_k_weights(5, 9)
    with pytest.raises(optsim.ParameterError, match="k=0"):
        tuning.expected_best_of_k(_trials([1.0, 2.0])[0], ks=[0])


def test_nan_validation_is_never_preferred():
    v, r = _trials([np.nan, 2.0, 1.0], [0.0, 5.0, 7.0])
    assert tuning.select(v, r)["report"].item() == 7.0
    # the NaN trial is selected only when the subset holds nothing else: never for k = 2
    m = tuning.expected_best_of_k(v, r, ks=[2])["mean"].item()
    assert m == pytest.approx((7.0 + 7.0 + 5.0) / 3)


def test_performance_profile_against_a_hand_table():
    # 4 problems x 3 solvers; solver 2 fails on problem 3
    table = [[1.0, 2.0, 4.0], [3.0, 3.0, 1.0], [2.0, 10.0, 2.0], [5.0, 1.0, np.inf]]
    cost = xr.DataArray(np.array(table), dims=("problem", "optimizer"),
                        coords={"optimizer": ["a", "b", "c"]})
    taus = [1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0]
    rho = tuning.performance_profile(cost, taus=taus)
    for j, tau in enumerate(taus):
        assert rho.isel(tau=j).values.tolist() == pytest.approx(profile_by_hand(table, tau))
    # by hand: at tau = 1, a wins problems 0 and 2; b wins 3; c wins 1 and 2 (a tie counts for both)
    assert rho.sel(tau=1.0).values.tolist() == [0.5, 0.25, 0.5]
    assert rho.sel(tau=100.0).values.tolist() == [1.0, 1.0, 0.75]  # c never solves problem 3
    r = tuning.profile_ratios(cost)
    assert r.sel(optimizer="a").values.tolist() == [1.0, 3.0, 1.0, 5.0]
    with pytest.raises(optsim.ParameterError, match="above 0"):
        tuning.performance_profile(cost - 2.0)


def test_random_search_reproducible_in_range_and_prefix_stable():
    space = {"lr": tuning.LogUniform(1e-5, 1.0), "momentum": tuning.Uniform(0.0, 0.99),
             "nesterov": tuning.Choice([False, True]), "k": tuning.IntUniform(1, 4)}
    a = tuning.random_search(space, 2000, seed=7)
    assert list(a) == ["lr,momentum,nesterov,k"]
    rows = np.array(a["lr,momentum,nesterov,k"], dtype=float)
    assert a == tuning.random_search(space, 2000, seed=7)
    assert a != tuning.random_search(space, 2000, seed=8)
    assert tuning.random_search(space, 10, seed=7)["lr,momentum,nesterov,k"] == a["lr,momentum,nesterov,k"][:10]
    lr, mom, nest, k = rows.T
    assert lr.min() >= 1e-5 and lr.max() <= 1.0 and mom.min() >= 0 and mom.max() <= 0.99
    assert set(nest) == {0.0, 1.0} and set(k) == {1.0, 2.0, 3.0, 4.0}
    # log-uniform: each decade equally likely (5 decades, 400 expected each, sd 18)
    counts = np.histogram(np.log10(lr), bins=5, range=(-5, 0))[0]
    assert np.all(np.abs(counts - 400) < 80), counts
    assert abs(np.mean(mom) - 0.495) < 4 * 0.99 / np.sqrt(12 * 2000)
    one = tuning.random_search({"lr": tuning.LogUniform(1e-3, 1e-1)}, 3)
    assert list(one) == ["lr"] and all(isinstance(v, float) for v in one["lr"])


def test_grid_search_is_the_product_of_the_axes():
    g = tuning.grid_search({"lr": tuning.LogUniform(1e-3, 1e-1), "beta1": tuning.Choice([0.0, 0.9])},
                           points={"lr": 3})
    assert g == {"lr,beta1": [(1e-3, 0.0), (1e-3, 0.9), (pytest.approx(1e-2), 0.0), (pytest.approx(1e-2), 0.9),
                              (pytest.approx(1e-1), 0.0), (pytest.approx(1e-1), 0.9)]}
    with pytest.raises(optsim.ParameterError, match="not in the space"):
        tuning.grid_search({"lr": tuning.Uniform(0.1, 1.0)}, points={"momentum": 3})


@pytest.mark.parametrize("bad, match", [
    (lambda: tuning.LogUniform(0.0, 1.0), r"LogUniform: low=0.0 must be above 0"),
    (lambda: tuning.Uniform(1.0, 1.0), r"Uniform: low=1.0 must be below high=1.0"),
    (lambda: tuning.Uniform(0.0, float("nan")), r"Uniform: high=nan must be a finite number"),
    (lambda: tuning.IntUniform(1, 2.5), r"IntUniform: high=2.5 must be an integer"),
    (lambda: tuning.Choice([]), r"Choice: values=\[\] must be a non-empty sequence"),
    (lambda: tuning.random_search({"lr": (1e-3, 1.0)}, 3), r"space\['lr'\]=\(0.001, 1.0\) must be"),
    (lambda: tuning.random_search({"lr": tuning.Uniform(0.1, 1.0)}, 0), r"random_search: n=0 must be an integer >= 1"),
    (lambda: tuning.split_replicates(xr.DataArray(np.ones((3, 1)), dims=("trial", "replicate"))),
     r"replicate has 1 entry"),
])
def test_bad_input_is_one_line_naming_the_parameter(bad, match):
    with pytest.raises(optsim.ParameterError, match=match) as e:
        bad()
    assert "\n" not in str(e.value)


def test_selection_on_validation_is_unbiased_where_selection_on_the_report_is_not():
    """Every trial has the same true score 0; their measured scores are noise.  Selecting on
    the reported numbers reports the minimum of N noisy values (biased low by about
    E[min of 16 normals] = -1.77 sd); selecting on disjoint validation seeds reports an
    unbiased value."""
    rng = np.random.default_rng(5)
    reps, n, r = 400, 16, 8
    x = xr.DataArray(rng.normal(size=(reps, n, r)), dims=("repeat", "trial", "replicate"))
    val, rep = tuning.split_replicates(x, reduce="mean")
    honest = tuning.select(val, rep)["report"]
    biased = tuning.select(rep, rep)["report"]
    sd = 1 / np.sqrt(r // 2)
    assert abs(float(honest.mean())) < 4 * float(honest.std()) / np.sqrt(reps)
    assert float(biased.mean()) < -1.5 * sd
    # the same through expected_best_of_k: honest for every budget, optimistic on the report
    e_honest = tuning.expected_best_of_k(val, rep, ks=[1, 4, 16])["mean"].mean("repeat")
    e_biased = tuning.expected_best_of_k(rep, ks=[1, 4, 16])["mean"].mean("repeat")
    assert np.all(np.abs(e_honest.values) < 4 * sd / np.sqrt(reps) * 1.5)
    assert float(e_biased.sel(k=16)) < -1.5 * sd


def test_tuning_sweep_equal_budgets_defaults_and_trials_match_direct_sweeps():
    pb = optsim.problems.Quadratic(curvatures=[1.0, 10.0])
    noise = optsim.noise.Gaussian(sigma=0.3)
    spaces = {"sgd": {"lr": tuning.LogUniform(1e-3, 0.5)},
              "adam": {"lr": tuning.LogUniform(1e-3, 0.5), "beta1": tuning.Uniform(0.0, 0.99)}}
    kw = dict(noise=noise, replicates=4, steps=50, record=())
    ds = tuning.tuning_sweep(pb, {"sgd": SGD(momentum=0.9), "adam": Adam()}, spaces, 5, search_seed=3, **kw)
    assert ds.sizes["trial"] == 6 and ds["default"].values.tolist() == [True] + [False] * 5
    assert ds["hp_lr"].sel(optimizer="sgd", trial=0).item() == 1e-3
    assert ds["hp_beta1"].sel(optimizer="adam", trial=0).item() == 0.9
    assert np.isnan(ds["hp_beta1"].sel(optimizer="sgd")).all()
    # the random trials are random_search's at trial_seed(3, label): the same alone or with others
    grid = tuning.random_search(spaces["adam"], 5, tuning.trial_seed(3, "adam"))
    assert ds["hp_lr"].sel(optimizer="adam").values[1:].tolist() == [a for a, _ in grid["lr,beta1"]]
    alone = tuning.tuning_sweep(pb, {"adam": Adam()}, spaces, 5, search_seed=3, **kw)
    assert np.array_equal(alone["final_loss"].values[0], ds["final_loss"].sel(optimizer="adam").values)
    # a trial's losses are those of a plain sweep at its configuration
    lr, b1 = grid["lr,beta1"][2]
    direct = optsim.sweep(pb, Adam(lr=lr, beta1=b1), **kw)
    assert np.array_equal(direct["final_loss"].values, ds["final_loss"].sel(optimizer="adam", trial=3).values)
    with pytest.raises(optsim.ParameterError, match="grid is made from the search spaces"):
        tuning.tuning_sweep(pb, {"sgd": SGD()}, spaces, 2, grid={"lr": [0.1]}, **kw)


def test_best_of_k_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    x = xr.DataArray(rng.lognormal(size=(2, 20, 8)), dims=("optimizer", "trial", "replicate"),
                     coords={"optimizer": ["a", "b"]})
    out = tuning.best_of_k_interval(x, [1, 4, 16], n_boot=200)
    assert out["mean"].dims == ("optimizer", "k")
    assert np.allclose(out["draws"].mean("boot"), out["mean"])  # re-centred on the estimate
    plain = tuning.best_of_k_interval(x, [1, 4, 16], n_boot=200, centre=False)
    # resampled trials repeat, so their best of 16 of 20 is worse (larger) than the data's
    assert np.all(plain["draws"].mean("boot").sel(k=16) > plain["mean"].sel(k=16))
    assert np.all(out["lower"] <= out["mean"]) and np.all(out["mean"] <= out["upper"])
    point = tuning.expected_best_of_k(*tuning.split_replicates(x), ks=[1, 4, 16])["mean"]
    assert np.allclose(out["mean"], point)
    # on the validation score itself a larger budget never does worse (on held-out seeds it may)
    val = tuning.split_replicates(x)[0]
    assert np.all(np.diff(tuning.expected_best_of_k(val, ks=[1, 4, 16])["mean"].values, axis=-1) <= 1e-12)


def test_defaults_vs_tuned_by_hand():
    dv = xr.DataArray([[3.0, 1.0], [2.0, 5.0]], dims=("optimizer", "problem"), coords={"optimizer": ["a", "b"]})
    dr = xr.DataArray([[3.5, 1.5], [2.5, 4.0]], dims=("optimizer", "problem"), coords={"optimizer": ["a", "b"]})
    tuned = xr.DataArray([[1.0, 1.0], [2.0, 0.5]], dims=("optimizer", "problem"), coords={"optimizer": ["a", "b"]})
    out = tuning.defaults_vs_tuned(dv, dr, tuned)
    # problem 0: b's default is best on validation (2.0) and reports 2.5; problem 1: a's (1.0), reporting 1.5
    assert out["best_default"].values.tolist() == [2.5, 1.5]
    assert out["best_default_solver"].values.tolist() == ["b", "a"]
    assert out["ratio"].sel(optimizer="a").values.tolist() == pytest.approx([1.0 / 2.5, 1.0 / 1.5])


def test_tuning_sweep_with_a_shared_space_a_choice_and_bad_labels():
    pb = optsim.problems.Quadratic(curvatures=[1.0, 10.0])
    kw = dict(noise=optsim.noise.Gaussian(sigma=0.3), replicates=2, steps=20, record=())
    space = {"lr": tuning.LogUniform(1e-3, 0.1), "eps_mode": tuning.Choice(["sqrt_vhat", "inside"])}
    ds = tuning.tuning_sweep(pb, {"adam": Adam(), "amsgrad": Adam(amsgrad=True)}, space, 4, defaults=False, **kw)
    assert ds.sizes["trial"] == 4 and not ds["default"].any()
    idx = ds["hp_eps_mode_index"].sel(optimizer="adam").values
    grid = tuning.random_search(space, 4, tuning.trial_seed(0, "adam"))["lr,eps_mode"]
    assert [space["eps_mode"].values[int(i)] for i in idx] == [m for _, m in grid]
    with pytest.raises(optsim.ParameterError, match="'sgdm', which is not an optimizer label"):
        tuning.tuning_sweep(pb, {"adam": Adam()}, {"sgdm": {"lr": tuning.Uniform(0.1, 1.0)}}, 2, **kw)


def _population(rng, shape, noise=0.5):
    """Trials of true quality q ~ N(0, 1) whose validation and report scores add independent noise."""
    q = rng.normal(size=shape)
    return q + noise * rng.normal(size=shape), q + noise * rng.normal(size=shape)


def _fresh_best_of_k(rng, k, m=400000):
    """E[report of the best-on-validation of k fresh trials], by Monte Carlo of the population."""
    v, r = _population(rng, (m, k))
    picks = r[np.arange(m), v.argmin(1)]
    return picks.mean(), picks.std() / np.sqrt(m)


def test_expected_best_of_k_is_unbiased_for_fresh_trials():
    """The mean over every k-subset of N observed trials estimates the best of k fresh ones
    without bias (a U-statistic); 4000 experiments of N = 20 trials."""
    rng = np.random.default_rng(2)
    v, r = _population(rng, (4000, 20))
    out = tuning.expected_best_of_k(xr.DataArray(v, dims=("e", "trial")), xr.DataArray(r, dims=("e", "trial")),
                                    ks=[1, 4, 16])
    for k in (1, 4, 16):
        truth, se_t = _fresh_best_of_k(rng, k)
        m = out["mean"].sel(k=k).values
        assert abs(m.mean() - truth) < 4 * np.hypot(m.std() / np.sqrt(m.size), se_t), (k, m.mean(), truth)


@pytest.mark.slow
def test_best_of_k_interval_coverage():
    """The re-centred 90% interval covers the fresh-trial expectation in about 90% of 300
    experiments (N = 20 trials x 8 replicates); measured 0.93, 0.92, 0.87 for k = 1, 4, 16."""
    rng = np.random.default_rng(1)
    ks = [1, 4, 16]
    truth = {k: _fresh_best_of_k(rng, k, 1000000)[0] for k in ks}
    cover = dict.fromkeys(ks, 0)
    n_exp = 300
    for e in range(n_exp):
        x = rng.normal(size=(20, 1)) + rng.normal(size=(20, 8))  # half means: noise sd 0.5, as _population
        out = tuning.best_of_k_interval(xr.DataArray(x, dims=("trial", "replicate")), ks, n_boot=200, seed=e,
                                        reduce=np.mean)
        for k in ks:
            cover[k] += float(out["lower"].sel(k=k)) <= truth[k] <= float(out["upper"].sel(k=k))
    for k in ks:
        assert 0.8 <= cover[k] / n_exp <= 0.97, (k, cover[k] / n_exp)
