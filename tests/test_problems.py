"""The problems: formulas against NumPy oracles, gradients against finite differences,
optima, short sweeps, and the published behaviours they exist to reproduce."""

import math

import numpy as np
import pytest

import optsim
from optsim import _rng, noise, optimizers, problems, registry
from optsim._components import ParameterError

from reference import problems as ref


def _rng_state(stream=0):
    s = np.zeros(4, dtype=np.uint64)
    _rng.seed_stream(s, 12345, 0, stream, 0)
    return s


def _pdata(p):
    return tuple(np.ascontiguousarray(a) for a in p.data())


def objective(p, x):
    return type(p).kernels["objective"](np.asarray(x, dtype=float), p.row(), _pdata(p))


def value_and_grad(p, x, t=0, rng=None):
    g = np.empty(p.dimension())
    f = type(p).kernels["value_and_grad"](np.asarray(x, dtype=float).copy(), g, t, p.row(), _pdata(p),
                                         _rng_state() if rng is None else rng)
    return f, g


def fd_grad(fun, x, h=1e-4):
    """Fourth-order central differences."""
    x = np.asarray(x, dtype=float)
    g = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (8 * (fun(x + e) - fun(x - e)) - (fun(x + 2 * e) - fun(x - 2 * e))) / (12 * h)
    return g


# -- every deterministic problem: oracle, gradient, value ------------------------------------


CASES = {
    "rosenbrock": (lambda: problems.Rosenbrock(a=1.3, b=50.0), ref.rosenbrock),
    "beale": (lambda: problems.Beale(), ref.beale),
    "saddle": (lambda: problems.Saddle(), ref.saddle),
    "saddle_quartic": (lambda: problems.Saddle(quartic=0.5), ref.saddle),
    "himmelblau": (lambda: problems.Himmelblau(), ref.himmelblau),
    "nqm": (lambda: problems.NoisyQuadraticModel(dim=7), ref.nqm),
    "sigmoid_sum": (lambda: problems.SigmoidNeuron(), ref.sigmoid_neuron),
    "sigmoid_mean": (lambda: problems.SigmoidNeuron(reduction="mean", n_points=50, data_seed=3), ref.sigmoid_neuron),
    "linreg": (lambda: problems.LinearRegression(n_train=30, n_test=20, n_features=5, l2=0.1), ref.linear_regression),
    "linreg_over": (lambda: problems.LinearRegression(n_train=8, n_test=5, n_features=20), ref.linear_regression),
    "logreg": (lambda: problems.LogisticRegression(n_train=30, n_test=20, n_features=5, l2=0.05), ref.logistic_regression),
    "wilson": (lambda: problems.Wilson(n_train=6, n_test=50, data_seed=1), ref.wilson),
    "double_well": (lambda: problems.DoubleWell(), ref.double_well),
}


def _points(p, k=4, seed=0):
    rng = np.random.default_rng(seed)
    d = p.dimension()
    pts = [p.start_point()]
    if isinstance(p, problems.DoubleWell):
        # both basins, the barrier region and both walls
        return [np.array([z]) for z in (-1.05, -0.7, 0.3, 1.6, 2.4, -4.5, 5.2)]
    for _ in range(k):
        pts.append(rng.uniform(-1.5, 1.5, d))
    return pts


@pytest.mark.parametrize("case", list(CASES))
def test_objective_matches_numpy_oracle(case):
    make, oracle = CASES[case]
    p = make()
    for x in _points(p):
        f = objective(p, x)
        assert f == pytest.approx(oracle(x, p), rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("case", list(CASES))
def test_gradient_matches_finite_differences(case):
    make, oracle = CASES[case]
    p = make()
    for x in _points(p):
        f, g = value_and_grad(p, x)
        assert f == objective(p, x)  # the returned loss is the objective at x
        fd = fd_grad(lambda z: oracle(z, p), x)
        scale = max(1.0, np.max(np.abs(g)))
        np.testing.assert_allclose(g, fd, rtol=0, atol=1e-6 * scale)


def test_value_and_grad_leaves_x_alone_and_overwrites_g():
    for make, _ in CASES.values():
        p = make()
        x = p.start_point() + 0.1
        x_before = x.copy()
        g = np.full(p.dimension(), 123.0)
        type(p).kernels["value_and_grad"](x, g, 0, p.row(), _pdata(p), _rng_state())
        np.testing.assert_array_equal(x, x_before)
        g2 = np.full(p.dimension(), -7.0)
        type(p).kernels["value_and_grad"](x, g2, 0, p.row(), _pdata(p), _rng_state())
        np.testing.assert_array_equal(g, g2)


# -- optima ----------------------------------------------------------------------------------


OPTIMA = {
    "rosenbrock": problems.Rosenbrock(a=1.3, b=50.0),
    "beale": problems.Beale(),
    "saddle": problems.Saddle(quartic=0.5),
    "himmelblau": problems.Himmelblau(),
    "nqm": problems.NoisyQuadraticModel(dim=7),
    "sigmoid": problems.SigmoidNeuron(),
    "linreg_l2": problems.LinearRegression(n_train=30, n_features=5, l2=0.1),
    "linreg_ls": problems.LinearRegression(n_train=30, n_features=5),
    "linreg_over": problems.LinearRegression(n_train=8, n_features=20),
    "logreg_l2": problems.LogisticRegression(n_train=30, n_features=5, l2=0.05),
    "wilson": problems.Wilson(n_train=10),
}


@pytest.mark.parametrize("case", list(OPTIMA))
def test_gradient_vanishes_at_the_optimum(case):
    p = OPTIMA[case]
    xs = p.optimum()
    assert xs is not None and xs.shape == (p.dimension(),)
    f, g = value_and_grad(p, xs)
    assert np.max(np.abs(g)) < 1e-9
    # and it is a minimum: small perturbations do not lower the loss
    rng = np.random.default_rng(1)
    for _ in range(5):
        assert objective(p, xs + 1e-3 * rng.standard_normal(p.dimension())) >= f - 1e-12


def test_known_optimum_values():
    assert problems.Rosenbrock(a=1.3).optimum() == pytest.approx([1.3, 1.69])
    assert objective(problems.Beale(), [3.0, 0.5]) == 0.0
    assert problems.Saddle().optimum() is None
    assert problems.Saddle(quartic=4.0, x0=[1.0, -0.1]).optimum() == pytest.approx([0.0, -0.5])
    h = problems.Himmelblau()
    for m in h.minima():
        assert objective(h, m) < 1e-20
        assert np.max(np.abs(value_and_grad(h, m)[1])) < 1e-10
    assert h.optimum() == pytest.approx([3.0, 2.0])
    assert problems.Himmelblau(x0=[-4.0, -4.0]).optimum() == pytest.approx([-3.779310, -3.283186], abs=1e-6)
    assert problems.LogisticRegression().optimum() is None


def test_regression_labels_sum_each_row_in_order():
    # X w summed j = 0, 1, ... as written, not by a BLAS call whose order (and so the last
    # bits of the labels) depends on the library's build and the CPU
    p = problems.LinearRegression(n_train=40, n_test=9, n_features=13, noise=0.3, data_seed=5)
    rng = np.random.default_rng(5)
    w = rng.standard_normal(13) / math.sqrt(13)
    X = rng.standard_normal((49, 13))
    eps = rng.standard_normal(49)
    want = []
    for i in range(49):
        s = 0.0
        for j in range(13):
            s += X[i, j] * w[j]
        want.append(s + 0.3 * eps[i])
    X_tr, y_tr, X_te, y_te = p.data()[:4]
    np.testing.assert_array_equal(np.concatenate([X_tr, X_te]), X)
    np.testing.assert_array_equal(np.concatenate([y_tr, y_te]), want)


def test_sweep_reads_the_optimum_only_for_distances(monkeypatch):
    calls = []
    cls = problems.LinearRegression
    solve = cls.optimum
    monkeypatch.setattr(cls, "optimum", lambda self: calls.append(1) or solve(self))
    p = cls(n_train=20, n_test=0, n_features=3)
    optsim.sweep(p, optimizers.SGD(lr=0.01), steps=5)
    assert calls == []
    ds = optsim.sweep(p, optimizers.SGD(lr=0.01), steps=5, record=("loss", "dist"))
    assert calls and np.isfinite(ds.dist.values).all()


def test_linear_regression_min_norm_when_overparameterised():
    p = problems.LinearRegression(n_train=8, n_test=4, n_features=20)
    X, y = p.data()[:2]
    w = p.optimum()
    np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-12)
    np.testing.assert_allclose(X @ w, y, atol=1e-10)
    assert objective(p, w) < 1e-20
    q = p.replace(l2=0.3)
    np.testing.assert_allclose(q.hessian_diag(), np.diag(X.T @ X) / 8 + 0.3, rtol=1e-12)


def test_sigmoid_neuron_data_matches_the_lecture_setup():
    p = problems.SigmoidNeuron()
    x, y = p.dataset()
    assert x.shape == y.shape == (500,)
    assert 0.75 < np.mean(x == 0) < 0.85  # "roughly 80% of these pairs we set x to 0"
    np.testing.assert_array_equal(p.dataset()[0], x)  # deterministic from data_seed
    assert not np.array_equal(problems.SigmoidNeuron(data_seed=1).dataset()[0], x)
    assert p.start_point().tolist() == [-2.0, -2.0]
    assert p.coord_names() == ["w", "b"]
    assert p.n_samples() == 500
    # 'sum' is n times 'mean'
    q = problems.SigmoidNeuron(reduction="mean")
    x0 = np.array([0.3, -0.7])
    assert objective(p, x0) == pytest.approx(500 * objective(q, x0), rel=1e-12)


# -- minibatches ------------------------------------------------------------------------------


BATCHED = {
    "sigmoid_sum": problems.SigmoidNeuron(n_points=40),
    "sigmoid_mean": problems.SigmoidNeuron(n_points=40, reduction="mean"),
    "linreg": problems.LinearRegression(n_train=40, n_features=6, l2=0.2),
    "logreg": problems.LogisticRegression(n_train=40, n_features=6, l2=0.2),
    "wilson": problems.Wilson(n_train=40),
}


@pytest.mark.parametrize("case", list(BATCHED))
def test_batch_gradient(case):
    p = BATCHED[case]
    n = p.n_samples()
    bvg = type(p).kernels["batch_value_and_grad"]
    x = np.random.default_rng(0).uniform(-1, 1, p.dimension())
    # the whole dataset as one batch is the full gradient
    g = np.empty(p.dimension())
    idx = np.arange(n, dtype=np.int64)[::-1].copy()
    fb = bvg(x, g, idx, n, p.row(), _pdata(p))
    f, gfull = value_and_grad(p, x)
    assert fb == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(g, gfull, rtol=1e-12, atol=1e-14)
    # a batch: the mean of the per-example gradients (times n for reduction='sum'), and
    # only the first nb entries of idx count
    rows = np.array([3, 17, 5, 3, 29], dtype=np.int64)
    idx = np.concatenate([rows, np.arange(n - rows.size, dtype=np.int64)])
    bvg(x, g, idx, rows.size, p.row(), _pdata(p))
    per = []
    for r in rows:
        gi = np.empty(p.dimension())
        one = np.array([r], dtype=np.int64)
        bvg(x, gi, one, 1, p.row(), _pdata(p))
        per.append(gi)
    np.testing.assert_allclose(g, np.mean(per, axis=0), rtol=1e-12, atol=1e-14)
    # the average over all single-example gradients is the full gradient (unbiased)
    allg = []
    for r in range(n):
        gi = np.empty(p.dimension())
        bvg(x, gi, np.array([r], dtype=np.int64), 1, p.row(), _pdata(p))
        allg.append(gi)
    np.testing.assert_allclose(np.mean(allg, axis=0), gfull, rtol=1e-10, atol=1e-13)


# -- test losses ---------------------------------------------------------------------------


def test_test_losses_match_oracles():
    x = np.random.default_rng(2).uniform(-1, 1, 5)
    p = problems.LinearRegression(n_train=30, n_test=20, n_features=5)
    assert type(p).kernels["test_loss"](x, p.row(), _pdata(p)) == pytest.approx(ref.linear_regression_test(x, p), rel=1e-12)
    for metric in ("loss", "error"):
        p = problems.LogisticRegression(n_train=30, n_test=20, n_features=5, test_metric=metric)
        got = type(p).kernels["test_loss"](x, p.row(), _pdata(p))
        assert got == pytest.approx(ref.logistic_regression_test(x, p), rel=1e-12)
    w = problems.Wilson(n_train=6, n_test=200, data_seed=4)
    for x in (np.zeros(w.dimension()), w.min_norm_solution(), w.adaptive_solution(), -w.min_norm_solution()):
        got = type(w).kernels["test_loss"](x, w.row(), _pdata(w))
        assert got == pytest.approx(ref.wilson_test(x, w), abs=1e-15)
    assert type(w).kernels["test_loss"](np.zeros(w.dimension()), w.row(), _pdata(w)) == 1.0


# -- short sweeps: everything runs and descends ----------------------------------------------


SWEEPS = {
    "rosenbrock": (problems.Rosenbrock(), optimizers.Adam(lr=0.02), 300),
    "beale": (problems.Beale(), optimizers.Adam(lr=0.01), 200),
    "saddle": (problems.Saddle(quartic=1.0), optimizers.SGD(lr=0.1), 200),
    "himmelblau": (problems.Himmelblau(), optimizers.SGD(lr=0.01), 200),
    "nqm": (problems.NoisyQuadraticModel(dim=10, batch_size=16.0), optimizers.SGD(lr=0.5), 200),
    "sigmoid": (problems.SigmoidNeuron(), optimizers.Adam(lr=0.1), 200),
    "linreg": (problems.LinearRegression(n_train=20, n_features=5), optimizers.SGD(lr=0.1), 100),
    "logreg": (problems.LogisticRegression(n_train=20, n_features=5, l2=0.01), optimizers.SGD(lr=0.5), 100),
    "wilson": (problems.Wilson(n_train=10), optimizers.SGD(lr=0.05), 200),
    "reddi_online": (problems.ReddiOnline(), optimizers.SGD(lr=1e-4), 1010),
    "reddi_stochastic": (problems.ReddiStochastic(prob=0.1), optimizers.SGD(lr=1e-4), 1000),
    "double_well": (problems.DoubleWell(x0=-0.85), optimizers.SGD(lr=1e-3), 200),
}


@pytest.mark.parametrize("case", list(SWEEPS))
def test_short_sweep_decreases_the_loss(case):
    p, opt, steps = SWEEPS[case]
    record = ("loss", "test_loss") if "test_loss" in type(p).kernels else ("loss",)
    ds = optsim.sweep(p, opt, replicates=2, steps=steps, record=record, seed=1)
    loss = ds["loss"].values
    assert np.all(np.isfinite(loss))
    assert np.all(loss[:, -1] < loss[:, 0])
    assert not ds["diverged"].values.any()


def test_registry_knows_every_problem():
    table = registry.components("problem")
    for name in ("quadratic", "rosenbrock", "beale", "saddle", "himmelblau", "nqm", "sigmoid_neuron",
                 "linear_regression", "logistic_regression", "wilson", "reddi_online", "reddi_stochastic",
                 "double_well"):
        assert name in table
    p = registry.build("problem", {"name": "rosenbrock", "b": 10.0})
    assert isinstance(p, problems.Rosenbrock) and p.b == 10.0


def test_dist_follows_gridded_rosenbrock_a():
    ds = optsim.sweep(problems.Rosenbrock(x0=[0.0, 0.0]), optimizers.SGD(lr=1e-3), grid={"a": [1.0, 2.0]},
                      steps=1, record=("dist",))
    np.testing.assert_allclose(ds["dist"].isel(replicate=0, step=0).values, [math.sqrt(2.0), math.sqrt(20.0)])


def test_parameter_errors():
    with pytest.raises(ParameterError):
        problems.Rosenbrock(x0=[1.0, 2.0, 3.0])
    with pytest.raises(ParameterError):
        problems.Wilson(n_train=10, dim=20)
    with pytest.raises(ParameterError):
        problems.Wilson(p=0.4)
    with pytest.raises(ParameterError):
        problems.ReddiOnline(x0=2.0)
    with pytest.raises(ParameterError):
        problems.DoubleWell(sharp_center=0.0, flat_center=0.5)
    with pytest.raises(ParameterError):
        problems.LinearRegression(n_features=3, x0=[0.0, 1.0])
    with pytest.raises(ParameterError):
        problems.SigmoidNeuron(reduction="median")


# -- NQM: the exact expected-loss curves --------------------------------------------------------


def test_nqm_curvatures_and_start():
    p = problems.NoisyQuadraticModel(dim=5)
    np.testing.assert_allclose(p.hessian_diag(), [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_array_equal(p.start_point(), np.ones(5))
    np.testing.assert_allclose(p.noise_scale(4), np.sqrt(p.hessian_diag() / 4))


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
@pytest.mark.parametrize("batch", [None, 1.0, 32.0])
def test_nqm_expected_loss_matches_step_by_step_recursion(momentum, batch):
    p = problems.NoisyQuadraticModel(dim=12)
    lr = 0.7
    got = p.expected_loss(150, lr, batch, momentum=momentum)
    want = ref.nqm_sgd_recursion(p.hessian_diag(), 150, lr, np.inf if batch is None else batch, momentum)
    assert got.shape == (151,)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300)


def test_nqm_expected_loss_without_noise_is_the_deterministic_run():
    p = problems.NoisyQuadraticModel(dim=10)
    for m in (0.0, 0.8):
        ds = optsim.sweep(p, optimizers.SGD(lr=0.9, momentum=m), steps=60, record_every=1)
        np.testing.assert_allclose(ds["loss"].values[0], p.expected_loss(60, 0.9, None, momentum=m), rtol=1e-10)


def test_nqm_sgd_closed_form_edge_cases():
    p = problems.NoisyQuadraticModel(dim=4)
    # lr * h_1 = 2: beta = 1 for the first coordinate (no decay, linear noise growth)
    got = p.expected_loss(20, 2.0, 8.0, per_coordinate=True)
    want = 0.5 * 1.0 * (1.0 + np.arange(21) * 4.0 / 8.0)
    np.testing.assert_allclose(got[:, 0], want, rtol=1e-12)
    want_all = ref.nqm_sgd_recursion(p.hessian_diag(), 20, 2.0, 8.0)
    np.testing.assert_allclose(got.sum(axis=1), want_all, rtol=1e-12)


def _nqm_monte_carlo(dim, lr, batch, momentum, steps, replicates, builtin, random_start=False):
    p = problems.NoisyQuadraticModel(dim=dim, random_start=random_start, batch_size=batch if builtin else None)
    nz = None if builtin else noise.Gaussian(sigma=1.0, scale=np.sqrt(p.hessian_diag() / batch))
    rec = np.unique(np.linspace(0, steps, 9).astype(int))
    ds = optsim.sweep(p, optimizers.SGD(lr=lr, momentum=momentum), noise=nz, replicates=replicates,
                      steps=steps, record_steps=rec, seed=7)
    loss = ds["loss"].values  # (replicate, step)
    mean = loss.mean(axis=0)
    se = loss.std(axis=0, ddof=1) / math.sqrt(replicates)
    exact = p.expected_loss(steps, lr, batch, momentum=momentum)[rec]
    return mean, se, exact


@pytest.mark.parametrize(
    "momentum,lr,builtin,random_start",
    [(0.0, 0.5, False, False), (0.9, 0.1, False, False), (0.9, 0.1, True, True), (0.0, 1.0, True, False)],
)
def test_nqm_closed_form_matches_monte_carlo(momentum, lr, builtin, random_start):
    mean, se, exact = _nqm_monte_carlo(20, lr, 4.0, momentum, 300, 2000, builtin, random_start)
    assert np.all(np.abs(mean - exact) <= 4.0 * se + 1e-12), (mean, exact, se)


@pytest.mark.slow
@pytest.mark.parametrize("momentum,lr", [(0.0, 0.5), (0.5, 0.3), (0.9, 0.1), (0.99, 0.01)])
def test_nqm_closed_form_matches_monte_carlo_large(momentum, lr):
    mean, se, exact = _nqm_monte_carlo(100, lr, 2.0, momentum, 2000, 8000, False)
    assert np.all(np.abs(mean - exact) <= 4.0 * se + 1e-12), (mean, exact, se)


def test_nqm_random_start_draws_standard_normals():
    p = problems.NoisyQuadraticModel(dim=50, random_start=True)
    ds = optsim.sweep(p, optimizers.SGD(lr=0.1), replicates=400, steps=1, record=("params",))
    x0 = ds["params"].isel(step=0).values
    assert abs(x0.mean()) < 0.02 and abs(x0.var() - 1.0) < 0.03
    assert not np.allclose(x0[0], x0[1])


# -- Wilson et al.: GD generalises, adaptive methods label everything positive ----------------


def test_wilson_construction():
    w = problems.Wilson(n_train=8, data_seed=2)
    X, y = w.design()
    Xr, yr, _ = ref.wilson_design(w)
    np.testing.assert_array_equal(X, Xr)
    np.testing.assert_array_equal(y, yr)
    assert w.dimension() == 48
    u = X.T @ y
    s = np.sign(u)
    np.testing.assert_allclose(X @ s, 4 * y)  # Lemma 3.1 with c = 4
    np.testing.assert_allclose(X @ w.adaptive_solution(), y)
    np.testing.assert_allclose(X @ w.min_norm_solution(), y, atol=1e-12)


def test_wilson_sgd_reaches_min_norm_and_adam_the_sign_solution():
    w = problems.Wilson(n_train=20, p=0.7, n_test=2000, data_seed=0)
    X, y = w.design()
    assert y.sum() > 0 and (y < 0).any()
    ds = optsim.sweep(w, {"sgd": optimizers.SGD(lr=0.15), "adam": optimizers.Adam(lr=1e-3, eps=1e-12)},
                      steps=3000, record_every=3000, record=("loss", "test_loss", "params"))
    sgd = ds.sel(optimizer="sgd").isel(replicate=0, step=-1)
    adam = ds.sel(optimizer="adam").isel(replicate=0, step=-1)
    np.testing.assert_allclose(sgd["params"].values, w.min_norm_solution(), atol=1e-6)
    assert float(sgd["test_loss"]) == 0.0
    xa = adam["params"].values
    s = np.sign(X.T @ y)
    cos = xa @ s / (np.linalg.norm(xa) * np.linalg.norm(s))
    assert cos > 1 - 1e-6
    _, yt = w.labels()
    assert float(adam["test_loss"]) == pytest.approx(np.mean(yt < 0), abs=1e-12)
    assert abs(float(adam["test_loss"]) - 0.3) < 0.05
    assert float(adam["loss"]) < 1e-3


# -- Reddi et al. ------------------------------------------------------------------------------


def test_reddi_online_gradients_and_step_convention():
    p = problems.ReddiOnline()
    x = np.array([0.3])
    for t in range(0, 250):
        f, g = value_and_grad(p, x, t=t)
        assert g[0] == (1010.0 if t % 101 == 0 else -10.0)  # kernel t = paper t - 1
        assert f == pytest.approx(ref.reddi_online_step(x, p, t))
    assert objective(p, x) == pytest.approx(ref.reddi_online(x, p), rel=1e-12)
    q = problems.ReddiOnline(large=3.0, small=-1.0, period=3)
    assert [value_and_grad(q, x, t=t)[1][0] for t in range(6)] == [3.0, -1.0, -1.0, 3.0, -1.0, -1.0]
    assert q.optimum() == pytest.approx([-1.0])
    assert problems.ReddiOnline(large=1.0, small=-1.0, period=3).optimum() == pytest.approx([1.0])


def test_reddi_stochastic_draws_the_rare_gradient_with_probability_q():
    p = problems.ReddiStochastic()
    rng = _rng_state(5)
    gs = [value_and_grad(p, [0.0], t=t, rng=rng)[1][0] for t in range(20000)]
    gs = np.array(gs)
    assert set(np.unique(gs)) == {1010.0, -10.0}
    assert abs(np.mean(gs == 1010.0) - 0.01) < 0.003
    assert objective(p, [1.0]) == pytest.approx(ref.reddi_stochastic([1.0], p))
    assert objective(p, [1.0]) == pytest.approx(0.2)


def test_reddi_projection_keeps_iterates_feasible_and_sgd_goes_to_minus_one():
    online = optsim.sweep(problems.ReddiOnline(), {"fast": optimizers.SGD(lr=0.5), "slow": optimizers.SGD(lr=1e-4)},
                          steps=101 * 1200, record_every=101, record=("params", "loss"))
    x = online["params"].values[..., 0]
    assert np.all(np.abs(x) <= 1.0)
    assert x.max() == 1.0 or x.min() == -1.0  # the large steps did hit the boundary
    slow = online.sel(optimizer="slow")["params"].values[0, -100:, 0]
    assert np.all(slow < -0.85)
    stoch = optsim.sweep(problems.ReddiStochastic(x0=-0.5), optimizers.SGD(lr=2e-6), replicates=8,
                         steps=2_000_000, record_every=100_000, record=("params",))
    xs = stoch["params"].values[..., 0]
    assert np.all(np.abs(xs) <= 1.0)
    assert xs[:, -1].mean() < -0.85


# -- double well -------------------------------------------------------------------------------


def test_double_well_basins():
    p = problems.DoubleWell()
    m = p.minima()
    np.testing.assert_allclose(m, [-1.0, 2.0], atol=1e-6)
    for z in m:
        assert abs(value_and_grad(p, [z])[1][0]) < 1e-10
    fa, fb = objective(p, [m[0]]), objective(p, [m[1]])
    assert fa == pytest.approx(-1.0, abs=1e-6) and fb == pytest.approx(-1.0, abs=1e-6)
    c = p.barrier()
    assert m[0] < c < m[1]
    assert abs(value_and_grad(p, [c])[1][0]) < 1e-12
    np.testing.assert_array_equal(p.basin_of(np.array([-3.0, -1.0, c - 1e-6, c + 1e-6, 2.0, 6.0])), [0, 0, 0, 1, 1, 1])
    assert p.basin_of(np.zeros((2, 3))).shape == (2, 3)
    # sharp is sharp: curvature ratio (w_f / w_s)^2 = 25
    h = 1e-4
    curv = [(objective(p, [z + h]) - 2 * objective(p, [z]) + objective(p, [z - h])) / h**2 for z in m]
    assert curv[0] / curv[1] == pytest.approx(25.0, rel=1e-3)
    assert p.optimum() is None
    # mirrored: flat basin on the left
    q = problems.DoubleWell(sharp_center=3.0, flat_center=0.0)
    assert q.basin_of(np.array([3.0, 0.0])).tolist() == [0, 1]


def test_double_well_starts_in_the_sharp_basin_and_follows_the_grid():
    ds = optsim.sweep(problems.DoubleWell(), optimizers.SGD(lr=1e-3), grid={"sharp_center": [-1.0, -2.0]},
                      steps=1, record=("params",))
    np.testing.assert_allclose(ds["params"].isel(replicate=0, step=0).values[:, 0], [-1.0, -2.0])
    ds = optsim.sweep(problems.DoubleWell(x0=0.5), optimizers.SGD(lr=1e-3), steps=1, record=("params",))
    assert float(ds["params"].isel(replicate=0, step=0, param=0)) == 0.5


def _dot_row():
    """x_i . w summed over j = 0, 1, ... in turn: one row at a time, the reference."""
    from numba import njit

    @njit
    def dot_row(X, i, w):
        s = 0.0
        for j in range(w.shape[0]):
            s += X[i, j] * w[j]
        return s

    return dot_row


@pytest.mark.parametrize("rows", [1, 3, 4, 7, 32])
def test_regression_row_loops_match_one_row_at_a_time_to_the_bit(rows):
    # the row loops take four rows' dot products together; each sum keeps its own order
    from numba import njit

    from optsim.problems import regression as R

    dot_row = _dot_row()

    @njit
    def one_at_a_time(x, g, X, y, idx, nb, logistic):
        n = X.shape[0] if nb < 0 else nb
        g[:] = 0.0
        f = 0.0
        for k in range(n):
            i = k if nb < 0 else idx[k]
            if logistic:
                m = y[i] * dot_row(X, i, x)
                f += R._log1pexp(-m)
                c = -y[i] * R._sigmoid(-m)
            else:
                c = dot_row(X, i, x) - y[i]
                f += 0.5 * c * c
            for j in range(x.shape[0]):
                g[j] += c * X[i, j]
        for j in range(x.shape[0]):
            g[j] /= max(n, 1)
        return f / max(n, 1)

    rng = np.random.default_rng(rows)
    X = rng.normal(size=(40, 13)) * 3.0
    y = np.sign(rng.normal(size=40))
    x = rng.normal(size=13)
    x[0] = 0.0  # a zero margin somewhere is no special case
    idx = rng.permutation(40)[:rows].astype(np.int64)
    for logistic, fn in ((True, R.logistic_rows), (False, R.squares_rows)):
        for sel, nb in ((idx, rows), (R.ALL_ROWS, -1)):
            g1, g2 = np.empty(13), np.empty(13)
            f1 = fn(x, g1, X, y, sel, nb)
            f2 = one_at_a_time(x, g2, X, y, sel, nb, logistic)
            assert f1 == f2
            np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("n", [1, 3, 4, 7])
def test_regression_objectives_match_one_row_at_a_time_to_the_bit(n):
    # the training and test losses take four rows' dot products together too
    from numba import njit

    from optsim.problems import regression as R

    dot_row = _dot_row()

    @njit
    def one_at_a_time(x, X, y, logistic, mode):
        f = 0.0
        for i in range(X.shape[0]):
            if logistic:
                m = y[i] * dot_row(X, i, x)
                if mode == 0.0:
                    f += R._log1pexp(-m)
                elif m <= 0.0:
                    f += 1.0
            else:
                r = dot_row(X, i, x) - y[i]
                f += 0.5 * r * r
        return f

    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, 9)) * 3.0
    y = np.sign(rng.normal(size=n))
    x = rng.normal(size=9)
    pp = np.array([0.0])
    for mode in (0.0, 1.0):
        data = (X, y, X, y, np.array([mode]))
        assert R.logreg_objective(x, pp, data) == one_at_a_time(x, X, y, True, 0.0) / n
        assert R.logreg_test_loss(x, pp, data) == one_at_a_time(x, X, y, True, mode) / n
    data = (X, y, X, y)
    assert R.linreg_objective(x, pp, data) == one_at_a_time(x, X, y, False, 0.0) / n
    assert R.linreg_test_loss(x, pp, data) == one_at_a_time(x, X, y, False, 0.0) / n
