"""optsim.sde: the discrete path is the sweep's, the coupling, the integrators against closed forms."""

import math

import numpy as np
import pytest

import optsim
import optsim.sde as sde
from optsim import ParameterError
from optsim.noise import AlphaStable, CurvatureScaled, Gaussian, StudentT
from optsim.optimizers import SGD, Adam, RMSprop
from optsim.problems import Quadratic

DIAG = Quadratic(curvatures=[1.0, 4.0])
ROTATED = Quadratic(curvatures=[0.5, 3.0], rotation=30.0, x0=[1.0, -0.5])


def _ou(h, x0, s2, eta, t):
    """The Ornstein-Uhlenbeck process dX = -h X dt + sqrt(eta s2) dW from x0, written out here."""
    mean = x0 * math.exp(-h * t)
    var = eta * s2 * (1.0 - math.exp(-2.0 * h * t)) / (2.0 * h)
    return mean, var


@pytest.mark.parametrize("problem,noise,opt", [
    (DIAG, Gaussian(sigma=0.7), SGD(lr=0.05)),
    (ROTATED, CurvatureScaled(batch_size=2.0), SGD(lr=0.1)),
    (DIAG, Gaussian(sigma=1.0), RMSprop(lr=0.01, initial_scale=1.0)),
    (ROTATED, CurvatureScaled(batch_size=4.0), Adam(lr=0.02, beta1=0.8)),
    (DIAG, StudentT(nu=3.0), SGD(lr=0.05)),
])
def test_discrete_path_is_the_sweeps_to_the_bit(problem, noise, opt):
    ds = sde.coupled_paths(problem, opt, noise, steps=40, replicates=3, seed=11, record_every=10)
    sw = optsim.sweep(problem, opt, noise=noise, steps=40, replicates=3, seed=11, record=("loss", "params"),
                      record_every=10)
    assert np.array_equal(sw["loss"].values.reshape(3, -1), ds["loss_discrete"].values)
    params = sw["params"].transpose(..., "replicate", "step", sw["params"].dims[-1]).values.reshape(3, 5, 2)
    assert np.array_equal(params, ds["x_discrete"].values)


def test_sgd_euler_with_one_substep_is_the_discrete_path():
    for problem, noise in ((DIAG, Gaussian(sigma=0.7)), (ROTATED, CurvatureScaled(batch_size=2.0))):
        ds = sde.coupled_paths(problem, SGD(lr=0.05), noise, steps=50, replicates=4, seed=2, record_every=5)
        assert np.allclose(ds["x_sde"].values, ds["x_discrete"].values, rtol=0, atol=1e-12)


def test_coupled_paths_stay_close_and_approach_the_discrete_one():
    """With m substeps the SDE path differs from the discrete one by much less than an
    independent discrete path does, and the gap grows from zero as m goes from 1 up."""
    p, n = DIAG, Gaussian(sigma=1.0)
    gaps = []
    for m in (1, 2, 8):
        ds = sde.coupled_paths(p, SGD(lr=0.05), n, steps=100, replicates=200, seed=5, substeps=m)
        gaps.append(float(np.abs(ds["x_sde"] - ds["x_discrete"]).isel(step=-1).mean()))
    other = sde.coupled_paths(p, SGD(lr=0.05), n, steps=100, replicates=200, seed=6)
    ref = sde.coupled_paths(p, SGD(lr=0.05), n, steps=100, replicates=200, seed=5)
    independent = float(np.abs(other["x_discrete"].values - ref["x_discrete"].values)[:, -1].mean())
    assert gaps[0] < 1e-3 * gaps[1] and gaps[1] < gaps[2] < 0.2 * independent


def test_bridge_split_sums_to_the_step_and_has_the_brownian_variance():
    from optsim._sde_kernels import bridge_split
    from optsim.rng import stream_state

    rng = stream_state(1, 0, 1001, 0)
    total = np.array([0.3, -1.2])
    out = np.empty((4, 2))
    draws = []
    for _ in range(4000):
        bridge_split(total, math.sqrt(0.5), 4, rng, out)
        assert np.allclose(out.sum(axis=0), total, atol=1e-14)
        draws.append(out[:, 0].copy())
    draws = np.array(draws)
    # given the sum, each increment has variance (h/m)(1 - 1/m) and mean total/m
    assert np.allclose(draws.mean(axis=0), 0.3 / 4, atol=4 * math.sqrt(0.5 / 4 * 0.75 / 4000))
    assert np.allclose(draws.var(axis=0), 0.5 / 4 * 0.75, rtol=0.1)


@pytest.mark.parametrize("order", [1, 2])
def test_sme_is_the_ornstein_uhlenbeck_process(order):
    """Heun with 8 substeps against the OU mean and variance, z-scores below 4."""
    h, eta, s, steps = 2.0, 0.1, 1.5, 20
    p = Quadratic(curvatures=[h])
    ds = sde.coupled_paths(p, SGD(lr=eta), Gaussian(sigma=s), steps=steps, replicates=4000, seed=3, substeps=8,
                           scheme="heun", order=order)
    a = h * (1.0 + 0.5 * eta * h) if order == 2 else h
    mean, var = _ou(a, 1.0, s * s, eta, steps * eta)
    x = ds["x_sde"].isel(step=-1, coord=0).values
    n = x.shape[0]
    assert abs(x.mean() - mean) / math.sqrt(var / n) < 4
    assert abs(x.var(ddof=1) - var) / (var * math.sqrt(2.0 / (n - 1))) < 4
    m2, v2 = sde.sme_quadratic_moments([h], [1.0], [0.0], [s * s], eta, steps * eta, order=order)
    assert np.allclose([m2[0], v2[0]], [mean, var], rtol=1e-12)


def test_exact_sgd_moments_match_monte_carlo():
    h, eta, s, steps = np.array([1.0, 4.0]), 0.2, 0.8, 15
    ds = sde.coupled_paths(DIAG, SGD(lr=eta), Gaussian(sigma=s), steps=steps, replicates=4000, seed=4)
    mean, var = sde.sgd_quadratic_moments(h, [1.0, 1.0], [0.0, 0.0], [s * s] * 2, eta, steps)
    # written out: q = 1 - eta h; Var = eta^2 s^2 (1 - q^2K)/(1 - q^2)
    q = 1.0 - eta * h
    assert np.allclose(var, eta ** 2 * s ** 2 * (1 - q ** (2 * steps)) / (1 - q ** 2))
    x = ds["x_discrete"].isel(step=-1).values
    assert np.all(np.abs(x.mean(axis=0) - mean) / np.sqrt(var / 4000) < 4)


@pytest.mark.parametrize("scheme,order", [("euler", 1), ("heun", 2)])
def test_weak_order_of_the_schemes(scheme, order):
    """E X_T(m) - E X_T(2m) halves (Euler) or quarters (Heun) as m doubles, with the noise on;
    from x0 = 10 with small noise the differences are far above their standard errors (the
    exact ratios for these settings: 2.06 and 4.8, tending to 2 and 4)."""
    p = Quadratic(curvatures=[1.0], x0=[10.0])
    runs = [sde.coupled_paths(p, SGD(lr=0.2), Gaussian(sigma=0.1), steps=10, replicates=2000, seed=9, substeps=m,
                              scheme=scheme)["x_sde"].isel(step=-1, coord=0).values for m in (1, 2, 4)]
    d1, d2 = runs[0] - runs[1], runs[1] - runs[2]
    ratio = d1.mean() / d2.mean()
    assert abs(d2.mean()) > 5 * d2.std() / math.sqrt(d2.size)
    assert 2 ** order * 0.75 < ratio < 2 ** order * 1.35


def test_uncoupled_heavy_tailed_noise_gets_its_gaussian_stand_in():
    m = sde.linear_model(DIAG, StudentT(nu=4.0, scale=2.0))
    assert not m.coupled and np.allclose(m.noise_cov, 4.0 * 2.0 * np.eye(2))
    assert np.allclose(sde.linear_model(DIAG, StudentT(nu=1.5), match="variance").C, np.eye(2))
    assert np.allclose(sde.linear_model(DIAG, AlphaStable(alpha=1.5, scale=0.5)).noise_cov, 0.5 * np.eye(2))
    r = sde.linear_model(ROTATED, CurvatureScaled(batch_size=4.0))
    assert r.coupled and np.allclose(r.noise_cov, ROTATED.hessian() / 4.0)


def test_svag_with_one_is_sgd_and_its_weights():
    ds = sde.svag_paths(DIAG, Gaussian(sigma=0.5), lr=0.05, ell=1, steps=30, replicates=3, seed=1, record_every=10)
    sw = optsim.sweep(DIAG, SGD(lr=0.05), noise=Gaussian(sigma=0.5), steps=30, replicates=3, seed=1,
                      record_every=10)
    assert np.array_equal(sw["loss"].values.reshape(3, -1), ds["loss"].values)
    for ell in (1, 2, 7, 64):
        w1, w2 = sde.svag_weights(ell)
        assert math.isclose(w1 + w2, 1.0) and math.isclose(w1 * w1 + w2 * w2, ell)


def test_scale_rule():
    a = sde.scale_rule(Adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8), 4)
    assert np.allclose([a.lr, a.beta1, a.beta2, a.eps], [2e-3, 0.6, 0.996, 5e-9])
    r = sde.scale_rule(RMSprop(lr=1e-2, alpha=0.99), 9)
    assert np.allclose([r.lr, r.alpha], [3e-2, 0.91])
    assert sde.scale_rule(Adam(lr=1e-3), 8, rule="linear").lr == pytest.approx(8e-3)


@pytest.mark.parametrize("call,word", [
    (lambda: sde.coupled_paths(DIAG, SGD(lr=0.1, momentum=0.9), Gaussian(), steps=5), "momentum"),
    (lambda: sde.coupled_paths(DIAG, Adam(amsgrad=True), Gaussian(), steps=5), "amsgrad"),
    (lambda: sde.coupled_paths(DIAG, SGD(lr=0.1), Gaussian(), steps=0), "steps"),
    (lambda: sde.coupled_paths(DIAG, SGD(lr=0.1), Gaussian(), steps=5, substeps=0), "substeps"),
    (lambda: sde.coupled_paths(DIAG, SGD(lr=0.1), Gaussian(), steps=5, scheme="rk9"), "scheme"),
    (lambda: sde.coupled_paths(DIAG, Adam(), Gaussian(), steps=5, order=2), "order"),
    (lambda: sde.coupled_paths(optsim.problems.Rosenbrock(), SGD(), Gaussian(), steps=5), "affine"),
    (lambda: sde.svag_paths(DIAG, Gaussian(), lr=0.1, ell=0, steps=5), "ell"),
    (lambda: sde.scale_rule(Adam(beta1=0.9), 20), "kappa"),
])
def test_bad_input_is_one_line(call, word):
    with pytest.raises(ParameterError) as err:
        call()
    assert word in str(err.value) and "\n" not in str(err.value)
