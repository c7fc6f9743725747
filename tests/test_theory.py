"""optsim.theory against independent oracles: values by hand from the papers, optsim's own
simulations, Monte-Carlo draws and plain NumPy loops."""

import math

import numpy as np
import pytest
from reference import problems as ref

import optsim
from optsim import theory
from optsim.optimizers import SGD, Adam
from optsim.problems import Replay


def _ema(beta, g):
    """m_t for t = 1..len(g), from m_0 = 0, as a plain loop."""
    m, out = 0.0, []
    for gi in g:
        m = beta * m + (1 - beta) * gi
        out.append(m)
    return np.array(out)


# -- bias factors and Adam's step size ------------------------------------------------------------


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.999])
def test_bias_correction_is_the_ema_of_a_constant(beta):
    t = np.arange(1, 60)
    np.testing.assert_allclose(theory.bias_correction(beta, t), _ema(beta, np.ones(59)), rtol=1e-12, atol=1e-15)
    w = theory.ema_weights(beta, 37)
    assert w.shape == (37,) and w.sum() == pytest.approx(theory.bias_correction(beta, 37), rel=1e-12)
    impulse = np.zeros(37)
    impulse[10] = 1.0  # g_11
    assert _ema(beta, impulse)[-1] == pytest.approx(w[10], rel=1e-12, abs=1e-300)


def test_adam_first_steps_from_optsim():
    """Kingma & Ba: with eps = 0 the corrected first step is exactly lr whatever the gradient; the
    uncorrected one is lr (1 - beta1)/sqrt(1 - beta2), 100 lr for beta1 = 0, beta2 = 0.9999 (PAPERS §4)."""
    assert theory.uncorrected_step_ratio(0.0, 0.9999) == pytest.approx(100.0, rel=1e-9)
    g = np.array([[3.0], [3.0], [3.0], [3.0]])
    lr = 1e-2
    for b1, b2 in [(0.9, 0.999), (0.0, 0.99)]:
        for corrected in (True, False):
            ds = optsim.sweep(Replay(grads=g), Adam(lr=lr, beta1=b1, beta2=b2, eps=0.0, bias_correction=corrected),
                              steps=4, record_every=1, record=("params",))
            x = ds["params"].isel(replicate=0, param=0).values
            step = np.abs(np.diff(x)) / lr
            t = np.arange(1, 5)
            want = np.ones(4) if corrected else theory.uncorrected_step_ratio(b1, b2, t)
            np.testing.assert_allclose(step, want, rtol=1e-12)
            # Kingma & Ba's alpha_t m_t / sqrt(v_t), with m_t = bc1 g and v_t = bc2 g^2
            if corrected:
                np.testing.assert_allclose(
                    theory.adam_step_size(lr, b1, b2, t) * theory.bias_correction(b1, t) / np.sqrt(theory.bias_correction(b2, t)),
                    lr, rtol=1e-12)
    assert theory.adam_step_size(1e-3, 0.9, 0.999, 1) == pytest.approx(3.16227766e-4, rel=1e-8)
    assert theory.adam_step_factor(0.9, 0.999, 1e9) == pytest.approx(1.0)


def test_adam_momentum_bound():
    """|m_t/(1-b1)| / sqrt(v_t/(1-b2)) never exceeds the bound and reaches it for g_i ~ (b1/b2)^(t-i)."""
    b1, b2, t = 0.9, 0.999, 400
    bound = theory.adam_momentum_bound(b1, b2)
    rng = np.random.default_rng(0)
    for g in [rng.standard_normal(t), rng.standard_cauchy(t), (b1 / b2) ** (t - np.arange(1, t + 1))]:
        m, v = _ema(b1, g)[-1], _ema(b2, g * g)[-1]
        ratio = abs(m / (1 - b1)) / math.sqrt(v / (1 - b2))
        assert ratio <= bound * (1 + 1e-12)
    assert ratio == pytest.approx(bound, rel=1e-6)


# -- EMA memory -----------------------------------------------------------------------------------


@pytest.mark.parametrize("beta2", [0.9, 0.99, 0.999])
def test_ema_half_life_of_optsims_second_moment(beta2):
    """Adam's v_t after one gradient spike G (optsim, replayed gradients) against the spike's
    closed-form excess, and its measured half-life against ln 2 / -ln(beta2)."""
    t0, G = 5, 10.0
    T = t0 + int(3 * theory.ema_memory(beta2))
    g = np.ones((T, 1))
    g[t0 - 1, 0] = G
    ds = optsim.sweep(Replay(grads=g), Adam(lr=1e-12, beta2=beta2), steps=T, record_every=1,
                      record=("state",), diverge_factor=np.inf)
    v = ds["state"].sel(slot="v").isel(replicate=0, param=0).values
    steps = ds["step"].values
    excess = v - theory.bias_correction(beta2, steps)
    exact = theory.ema_spike_excess(beta2, steps, t0, G)
    np.testing.assert_allclose(excess, exact, rtol=1e-9, atol=1e-12)
    after = excess[t0:]
    measured = int(np.nonzero(after <= 0.5 * after[0])[0][0])
    assert measured == math.ceil(theory.ema_half_life(beta2))
    assert theory.ema_half_life_approx(beta2) == pytest.approx(theory.ema_half_life(beta2), rel=1 - beta2)


def test_half_life_values():
    assert theory.ema_half_life(0.999) == pytest.approx(692.8005, rel=1e-6)
    assert theory.ema_half_life(0.9) == pytest.approx(6.5788, rel=1e-4)
    assert theory.ema_memory(0.999) == pytest.approx(1000.0)


# -- momentum -------------------------------------------------------------------------------------


def test_momentum_effective_lr_and_coast_from_optsim():
    """Heavy ball under a constant gradient approaches the step lr/(1-m) g; after the gradient
    stops it coasts |V| m (1 - m^k)/(1 - m) further in k steps."""
    lr, m, n, z = 0.01, 0.9, 300, 40
    g = np.concatenate([np.ones((n, 1)), np.zeros((z, 1))])
    ds = optsim.sweep(Replay(grads=g), SGD(lr=lr, momentum=m), steps=n + z, record_every=1, record=("params",),
                      diverge_factor=np.inf)
    x = ds["params"].isel(replicate=0, param=0).values
    steps = -np.diff(x)
    assert steps[n - 1] == pytest.approx(theory.momentum_effective_lr(lr, m), rel=1e-12)
    assert x[n] - x[-1] == pytest.approx(theory.momentum_coast(steps[n - 1], m, z), rel=1e-10)


# -- RAdam ----------------------------------------------------------------------------------------


def test_radam_rho_and_r_t_by_hand():
    """Liu et al. 2020: rho_inf = 2/(1-beta2) - 1 = 1999 for beta2 = 0.999, rho_1 = 1; rho_t first
    exceeds 4 at t = 5 and 5 at t = 6; r_t from eq. (7) written out at a few steps."""
    assert theory.radam_rho_inf(0.999) == pytest.approx(1999.0, rel=1e-12)
    assert theory.radam_rho_inf(0.99) == pytest.approx(199.0, rel=1e-12)
    t = np.arange(1, 8)
    rho_inf, rho = theory.radam_rho_t(t, 0.999)
    assert rho[0] == pytest.approx(1.0, abs=1e-9)
    assert list(t[rho > 4]) == [5, 6, 7] and list(t[rho > 5]) == [6, 7]
    for tt in (5, 6, 10, 100, 1000):
        b = 0.999**tt
        r_inf = 1999.0
        rho_t = r_inf - 2 * tt * b / (1 - b)
        want = math.sqrt((rho_t - 4) * (rho_t - 2) * r_inf / ((r_inf - 4) * (r_inf - 2) * rho_t))
        ri, rt = theory.radam_rho_t(tt)
        assert theory.radam_r_t(rt, ri) == pytest.approx(want, rel=1e-10)
    r = theory.radam_r_t(rho, rho_inf)
    assert np.isnan(r[:4]).all() and (np.diff(r[4:]) > 0).all()
    assert np.isnan(theory.radam_r_t(rho, rho_inf, threshold=5.0)[4])
    assert theory.radam_r_t(rho_inf, rho_inf) == pytest.approx(1.0)
    _, late = theory.radam_rho_t(1e7)
    assert late == pytest.approx(1999.0)


@pytest.mark.parametrize("beta2", [0.9, 0.99, 0.999])
def test_radam_kernel_forms_equal_numpy_forms(beta2):
    """The compiled scalars that RAdam's kernel inlines give the NumPy forms' numbers (to the last
    bits of beta2^t, where NumPy's vectorised power and the kernel's scalar pow may differ)."""
    from optsim.optimizers.radam import radam_rect as kernel_rect
    from optsim.optimizers.radam import radam_rho as kernel_rho

    assert kernel_rho is theory.radam_rho and kernel_rect is theory.radam_rect
    t = np.array([1, 2, 5, 6, 7, 50, 1000, 100_000])
    rho_inf, rho = theory.radam_rho_t(t, beta2)
    r = theory.radam_r_t(rho, rho_inf)
    for k, tt in enumerate(t):
        ri, rt = theory.radam_rho(int(tt), beta2)
        assert ri == rho_inf and rt == pytest.approx(rho[k], rel=1e-11)
        if rho[k] > 4:
            assert theory.radam_rect(rt, ri) == pytest.approx(r[k], rel=1e-9)
            assert theory.radam_rect(rho[k], rho_inf) == theory.radam_rect.py_func(rho[k], rho_inf)


def test_inverse_chi_square_variance_by_monte_carlo():
    """Var[psi], psi = sqrt(nu tau^2 / X), X ~ chi2(nu), against numpy's chi-square draws."""
    rng = np.random.default_rng(1)
    n = 200_000
    for nu, sigma in [(5.0, 1.0), (12.0, 0.5), (60.0, 2.0)]:
        x = rng.chisquare(nu, n)
        psi = np.sqrt(nu / sigma**2 / x)
        var = psi.var(ddof=1)
        # the standard error of a sample variance: sqrt((m4 - var^2) / n)
        se = math.sqrt((np.mean((psi - psi.mean()) ** 4) - var**2) / n)
        assert abs(theory.inv_chi2_psi_var(nu, sigma) - var) < 5 * se
    assert np.isnan(theory.inv_chi2_psi_var(2.0))
    assert theory.inv_chi2_psi_var(2000.0) == pytest.approx(1 / (2 * 2000.0), rel=0.01)


def test_r_t_is_the_variance_ratio_to_first_order():
    """Liu et al.: r_t = sqrt(Var[psi]_inf / Var[psi]_t) under the first-order approximation;
    against the exact inverse-chi-square variance it holds ever better as rho_t grows."""
    rho_inf, rho = theory.radam_rho_t(np.array([20, 100, 1000, 5000]), 0.999)
    r = theory.radam_r_t(rho, rho_inf)
    exact = np.sqrt(theory.inv_chi2_psi_var(rho_inf) / theory.inv_chi2_psi_var(rho))
    err = np.abs(exact / r - 1)
    assert err[0] < 0.1 and (err[1:] < 0.02).all() and (np.diff(err) < 0).all()


# -- warm-up and the noisy quadratic model -------------------------------------------------------


def test_untuned_warmup_periods():
    """Ma & Yarats: the linear factor reaches 1 at 2/(1-beta2); the effective warm-up period
    sum_t (1 - omega_t) is 1/(exp(1-beta2) - 1) for the exponential one and ~ tau/2 for the linear."""
    b2 = 0.999
    t = np.arange(1, 200_001)
    lin, ex = theory.untuned_linear_warmup(t, b2), theory.untuned_exponential_warmup(t, b2)
    assert t[np.argmax(lin >= 1.0)] == 2000
    assert np.sum(1 - ex) == pytest.approx(1 / (math.exp(1 - b2) - 1), rel=1e-9)
    assert np.sum(1 - lin) == pytest.approx(1000.0, abs=1.0)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("batch", [None, 8.0])
def test_nqm_moments_against_the_step_by_step_recursion(momentum, batch):
    h = np.geomspace(1e-3, 1.0, 7)
    lr = 0.7
    if momentum == 0.0:
        s = np.array(list(theory.nqm_sgd_second_moment(h, lr, 50, batch)))
    else:
        s = np.array([x2 for x2, _, _ in theory.nqm_momentum_second_moments(h, lr, momentum, 50, batch)])
    want = ref.nqm_sgd_recursion(h, 50, lr, np.inf if batch is None else batch, momentum)
    np.testing.assert_allclose(0.5 * s @ h, want, rtol=1e-10)


def test_valley_is_one_quadratic():
    pb = optsim.problems.valley(50, x0=[-9.0, 1.2])
    assert isinstance(pb, optsim.problems.Quadratic)
    np.testing.assert_array_equal(pb.curvatures, [1.0, 50.0])
