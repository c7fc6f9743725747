"""The Adam family (Adam, AdamW, AMSGrad, Adamax, MaxProp, NAdam, RAdam, AdaBound, SWATS)
against NumPy oracles (closed and open loop), PyTorch, optax, and the numbers in the papers
and in lecture 002."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import optsim
from optsim import problems, schedules
from optsim.optimizers.adabound import AdaBound, adabound_bounds
from optsim.optimizers.adam import Adam, adam_step
from optsim.optimizers.adamax import Adamax, adamax_step
from optsim.optimizers.adamw import AdamW
from optsim.optimizers.amsgrad import AMSGrad, amsgrad_step
from optsim.optimizers.maxprop import MaxProp
from optsim.optimizers.nadam import NAdam
from optsim.optimizers.radam import RAdam, radam_rect, radam_rho, radam_step
from optsim.optimizers.swats import SWATS
from optsim.problems.quadratic import rotation_matrix

from reference import rules as rr
from reference.loops import plain_and_general, run, run_open
from reference.problems import ReplayGradients, quadratic as quadratic_gradient
from reference.schedules import step_lr

X0 = [1.0, -0.5, 0.25]
CENTER = [0.1, 0.2, -0.3]
H_DIAG = np.array([1.0, 10.0, 100.0])
STEPS = 100


def quadratic():
    return problems.Quadratic(curvatures=H_DIAG, rotation_seed=3, x0=X0, center=CENTER)


def quadratic_oracle():
    q = rotation_matrix(3, None, 3)
    return quadratic_gradient((q * H_DIAG) @ q.T, np.array(CENTER))


def gradient_sequence(steps=STEPS, seed=7):
    """Gradients of mixed scale and sign, with a run of zeros and a spike (open loop)."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, 3)) * np.array([0.01, 1.0, 30.0])
    G[40:50, 1] = 0.0
    G[60, 0] = 5.0
    return G


def relerr(a, b):
    """The largest normwise relative error over the rows (steps)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return float(np.max(num / den))


def sweep_cases(opt, cases, problem, schedule=None, steps=STEPS, record=("params",)):
    """One sweep with the cases zipped along one grid axis: {case index: the recorded array}."""
    if len(cases) == 1:
        ds = optsim.sweep(problem, opt.replace(**cases[0]), schedule=schedule, steps=steps, record_every=1,
                          record=record)
        return {0: ds[record[0]].values[0]}
    keys = sorted({k for c in cases for k in c})
    defaults = opt.values
    rows = [tuple(c.get(k, defaults[k]) for k in keys) for c in cases]
    axis = tuple(f"optimizer.{k}" for k in keys)
    grid = {axis: rows} if len(keys) > 1 else {axis[0]: [r[0] for r in rows]}
    ds = optsim.sweep(problem, opt, schedule=schedule, steps=steps, record_every=1, record=record, grid=grid)
    return {i: ds[record[0]].values[i, 0] for i in range(len(cases))}


# -- the cases: every option, with non-default hyperparameters where conventions bite ----------

BASE = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-3)

CASES = {
    "adam": (Adam, rr.AdamRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, eps_mode="sqrt_v"),
        dict(BASE, eps_mode="inside"),
        dict(BASE, bias_correction_m=False, bias_correction_v=False),
        dict(BASE, bias_correction_m=False),
        dict(BASE, bias_correction_v=False, eps_mode="sqrt_v"),
        dict(BASE, amsgrad=True, weight_decay=0.01),
        dict(BASE, amsgrad=True, amsgrad_mode="max_vhat"),
        dict(BASE, amsgrad=True, amsgrad_mode="max_vhat", eps_mode="sqrt_v"),
        dict(BASE, amsgrad=True, amsgrad_mode="max_vhat", eps_mode="inside", weight_decay=0.01),
        dict(BASE, amsgrad=True, eps_mode="sqrt_v"),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True, decay_scaling="multiplier"),
        dict(BASE, maximize=True, weight_decay=0.01),
    ]),
    "adamw": (AdamW, rr.AdamRef, [
        dict(lr=0.01, weight_decay=1e-2, decoupled_weight_decay=True),
        dict(BASE, weight_decay=0.05, decoupled_weight_decay=True),
        dict(BASE, weight_decay=0.05, decoupled_weight_decay=True, decay_scaling="multiplier"),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True, amsgrad=True),
        dict(BASE, weight_decay=4e-3, decoupled_weight_decay=True, eps_mode="sqrt_v"),  # Keras AdamW
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=False),
    ]),
    "amsgrad": (AMSGrad, rr.AMSGradRef, [
        dict(BASE, form="torch"),
        dict(BASE, form="keras"),
        dict(BASE, form="optax"),
        dict(BASE, form="paper"),
        dict(BASE, form="torch", weight_decay=0.01),
        dict(BASE, form="optax", weight_decay=0.01, decoupled_weight_decay=True),
        dict(BASE, form="paper", maximize=True),
    ]),
    "adamax": (Adamax, rr.AdamaxRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, eps_mode="outside"),
        dict(BASE, weight_decay=0.01),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True, eps_mode="outside"),
        dict(BASE, maximize=True),
    ]),
    "maxprop": (MaxProp, rr.MaxPropRef, [
        dict(lr=0.01),
        dict(lr=0.003, beta=0.9, eps=1e-3),
        dict(lr=0.01, beta=0.99, eps=1e-3, weight_decay=0.01),
        dict(lr=0.001, maximize=True),
    ]),
    "nadam": (NAdam, rr.NAdamRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, momentum_decay=0.1),
        dict(BASE, momentum_decay=0.0),
        dict(BASE, form="keras"),
        dict(BASE, form="optax"),
        dict(BASE, form="lecture"),
        dict(BASE, weight_decay=0.01),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True, form="keras"),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True),
        dict(BASE, maximize=True, form="optax"),
    ]),
    "radam": (RAdam, rr.RAdamRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, comparison=">="),
        dict(BASE, threshold=4.0),
        dict(BASE, threshold=6.0, comparison=">="),
        dict(BASE, below="none"),
        dict(BASE, below="none", comparison=">=", weight_decay=0.01, decoupled_weight_decay=True),
        dict(BASE, eps_mode="sqrt_vhat", comparison=">="),
        dict(BASE, weight_decay=0.01),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True),
        dict(BASE, maximize=True),
    ]),
    "adabound": (AdaBound, rr.AdaBoundRef, [
        dict(lr=0.01),
        dict(BASE, final_lr=0.05, gamma=0.05),
        dict(BASE, amsbound=True, final_lr=0.05, gamma=0.05),
        dict(BASE, weight_decay=0.01, final_lr=0.05, gamma=0.05),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True, final_lr=0.05, gamma=0.05),
        dict(BASE, weight_decay=0.01, decoupled_weight_decay=True, amsbound=True),
    ]),
    "swats": (SWATS, rr.SWATSRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(lr=0.001, eps=1e-6),  # switches at k = 2 on the quadratic
        dict(lr=0.001, eps=1e-6, require_positive=True, weight_decay=0.01),
        dict(BASE, eps=1e-6, weight_decay=0.01),
    ]),
}


def closed_loop_mismatches(cls, oracle, cases, rtol=1e-12):
    """{case: relative error} of the cases of ``cls`` whose closed-loop trajectory on the
    rotated quadratic misses ``oracle``'s (one sweep for all cases)."""
    got = sweep_cases(cls(), cases, quadratic())
    grad, loss = quadratic_oracle()
    errs = {str(kw): relerr(got[i], run(oracle(**kw), grad, loss, X0, STEPS, kw["lr"])[0])
            for i, kw in enumerate(cases)}
    return {k: e for k, e in errs.items() if not e <= rtol}


def open_loop_mismatches(cls, oracle, cases, rtol=1e-12):
    """The same for the open loop: the gradients of :func:`gradient_sequence` replayed."""
    G = gradient_sequence()
    got = sweep_cases(cls(), cases, ReplayGradients(grads=G, x0=X0))
    errs = {str(kw): relerr(got[i], run_open(oracle(**kw), G, X0, kw["lr"])) for i, kw in enumerate(cases)}
    return {k: e for k, e in errs.items() if not e <= rtol}


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_loop_matches_oracle(name):
    bad = closed_loop_mismatches(*CASES[name])
    assert not bad, bad


@pytest.mark.parametrize("name", sorted(CASES))
def test_open_loop_matches_oracle(name):
    bad = open_loop_mismatches(*CASES[name])
    assert not bad, bad


SCHEDULED = [
    (AdamW, rr.AdamRef, [dict(BASE, weight_decay=0.05, decoupled_weight_decay=True),
                         dict(BASE, weight_decay=0.05, decoupled_weight_decay=True, decay_scaling="multiplier")]),
    (AdaBound, rr.AdaBoundRef, [dict(BASE, final_lr=0.05, gamma=0.05),
                                dict(BASE, final_lr=0.05, gamma=0.05, amsbound=True, weight_decay=0.01)]),
]


@pytest.mark.parametrize("cls, oracle, cases", SCHEDULED, ids=["adamw", "adabound"])
def test_schedule_multiplier_forms_follow_the_schedule(cls, oracle, cases):
    """AdamW's paper form scales the decay by lr_t/base_lr; AdaBound's final_lr follows lr_t/base_lr."""
    sched = schedules.StepDecay(step_size=30, gamma=0.5)
    got = sweep_cases(cls(), cases, quadratic(), schedule=sched)
    grad, loss = quadratic_oracle()
    for i, kw in enumerate(cases):
        xs, _ = run(oracle(**kw), grad, loss, X0, STEPS, kw["lr"], schedule=step_lr(30, 0.5))
        assert relerr(got[i], xs) <= 1e-12, kw


def test_adamw_forms_differ_by_the_lr_factor():
    """With g = 0 the parameters only decay: (1 - lr wd)^T (torch) versus (1 - wd)^T (paper) at constant lr."""
    G = np.zeros((20, 3))
    prob = ReplayGradients(grads=G, x0=X0)
    out = sweep_cases(AdamW(lr=0.1, weight_decay=0.01), [dict(decay_scaling="lr"), dict(decay_scaling="multiplier")],
                      prob, steps=20)
    np.testing.assert_allclose(out[0][-1], np.array(X0) * (1 - 0.1 * 0.01) ** 20, rtol=1e-13)
    np.testing.assert_allclose(out[1][-1], np.array(X0) * (1 - 0.01) ** 20, rtol=1e-13)


@pytest.mark.parametrize("cls, step", [(Adam, adam_step), (AMSGrad, amsgrad_step), (RAdam, radam_step)],
                         ids=["adam", "amsgrad", "radam"])
def test_branch_free_loops_match_the_general_loop_to_the_bit(cls, step):
    # the default options run a loop without branches (see plain_and_general)
    runs = plain_and_general(step, cls)
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_adam_keeps_its_options_and_defaults():
    a = Adam()
    assert (a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.amsgrad, a.eps_mode) == (1e-3, 0.9, 0.999, 1e-8, 0.0, False, "sqrt_vhat")
    assert (a.amsgrad_mode, a.decay_scaling, a.decoupled_weight_decay) == ("max_v", "lr", False)
    w = AdamW()
    assert (w.weight_decay, w.decoupled_weight_decay, w.lr) == (1e-2, True, 1e-3)
    assert (Adamax().lr, NAdam().lr, NAdam().momentum_decay, RAdam().threshold, SWATS().eps) == (2e-3, 2e-3, 4e-3, 5.0, 1e-9)
    for cls in (Adam, AdamW, AMSGrad, Adamax, NAdam, RAdam, AdaBound, SWATS):
        assert cls.momentum_param == "beta1"
        assert cls.params[0].name == "lr" and len(cls.slot_names) == cls.slots


def test_every_rule_reports_a_finite_eff_lr():
    for cls in (Adam, AdamW, AMSGrad, Adamax, MaxProp, NAdam, RAdam, AdaBound, SWATS):
        ds = optsim.sweep(quadratic(), cls(lr=0.01), steps=30, record_every=1, record=("eff_lr",))
        eff = ds.eff_lr.isel(step=slice(1, None)).values
        assert np.all(np.isfinite(eff)) and np.all(eff >= 0), cls.__name__


# -- PyTorch -----------------------------------------------------------------------------------


def torch_trajectory(make, steps=STEPS, maximize_sign=1.0):
    torch = pytest.importorskip("torch")
    grad, _ = quadratic_oracle()
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        p = torch.nn.Parameter(torch.tensor(X0))
        opt = make(torch.optim, [p])
        xs = [p.detach().numpy().copy()]
        for _ in range(steps):
            opt.zero_grad()
            p.grad = torch.tensor(grad(p.detach().numpy().copy()))
            opt.step()
            xs.append(p.detach().numpy().copy())
    finally:
        torch.set_default_dtype(old)
    return np.array(xs)


TB = dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3)
EB = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-3)

TORCH_CASES = [
    (Adam, dict(EB), "Adam", dict(TB)),
    (Adam, dict(EB, amsgrad=True), "Adam", dict(TB, amsgrad=True)),
    (Adam, dict(EB, weight_decay=0.01), "Adam", dict(TB, weight_decay=0.01)),
    (Adam, dict(EB, weight_decay=0.01, decoupled_weight_decay=True, amsgrad=True), "Adam",
     dict(TB, weight_decay=0.01, decoupled_weight_decay=True, amsgrad=True)),
    (Adam, dict(EB, maximize=True, weight_decay=0.01), "Adam", dict(TB, maximize=True, weight_decay=0.01)),
    (AdamW, dict(EB), "AdamW", dict(TB)),
    (AdamW, dict(EB, weight_decay=0.05, amsgrad=True), "AdamW", dict(TB, weight_decay=0.05, amsgrad=True)),
    (AMSGrad, dict(EB, weight_decay=0.01), "Adam", dict(TB, weight_decay=0.01, amsgrad=True)),
    (Adamax, dict(EB), "Adamax", dict(TB)),
    (Adamax, dict(EB, weight_decay=0.01, maximize=True), "Adamax", dict(TB, weight_decay=0.01, maximize=True)),
    (NAdam, dict(EB), "NAdam", dict(TB)),
    (NAdam, dict(EB, momentum_decay=0.1, weight_decay=0.01), "NAdam", dict(TB, momentum_decay=0.1, weight_decay=0.01)),
    (NAdam, dict(EB, weight_decay=0.01, decoupled_weight_decay=True), "NAdam",
     dict(TB, weight_decay=0.01, decoupled_weight_decay=True)),
    (NAdam, dict(EB, momentum_decay=1.0), "NAdam", dict(TB, momentum_decay=1.0)),
    (NAdam, dict(EB, form="keras"), "NAdam", dict(TB, momentum_decay=1.0)),  # Keras = torch with psi = 1
    (NAdam, dict(EB, form="optax"), "NAdam", dict(TB, momentum_decay=1e9)),  # huge psi: constant mu
    (RAdam, dict(EB), "RAdam", dict(TB)),
    (RAdam, dict(EB, weight_decay=0.01), "RAdam", dict(TB, weight_decay=0.01)),
    (RAdam, dict(EB, weight_decay=0.01, decoupled_weight_decay=True), "RAdam",
     dict(TB, weight_decay=0.01, decoupled_weight_decay=True)),
    (RAdam, dict(EB, maximize=True), "RAdam", dict(TB, maximize=True)),
]


@pytest.mark.parametrize("cls, kw, tname, tkw", TORCH_CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(TORCH_CASES)])
def test_matches_pytorch(cls, kw, tname, tkw):
    expected = torch_trajectory(lambda optim, ps: getattr(optim, tname)(ps, **tkw))
    got = sweep_cases(cls(), [kw], quadratic())[0]
    assert relerr(got, expected) <= 1e-12


# -- optax -------------------------------------------------------------------------------------


def optax_trajectory(make, steps=STEPS):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    grad, _ = quadratic_oracle()
    opt = make(optax)
    x = jnp.asarray(X0, dtype=jnp.float64)
    state = opt.init(x)
    xs = [np.asarray(x)]
    for _ in range(steps):
        g = jnp.asarray(grad(np.asarray(x)))
        upd, state = opt.update(g, state, x)
        x = optax.apply_updates(x, upd)
        xs.append(np.asarray(x))
    return np.array(xs)


OB = dict(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-3)

OPTAX_CASES = [
    (Adam, dict(EB), lambda o: o.adam(**OB)),
    (AdamW, dict(EB, weight_decay=0.05), lambda o: o.adamw(**OB, weight_decay=0.05)),
    (Adam, dict(EB, amsgrad=True, amsgrad_mode="max_vhat"), lambda o: o.amsgrad(**OB)),
    (AMSGrad, dict(EB, form="optax"), lambda o: o.amsgrad(**OB)),
    (Adamax, dict(EB), lambda o: o.adamax(**OB)),
    (NAdam, dict(EB, form="optax"), lambda o: o.nadam(**OB)),
    (RAdam, dict(EB, comparison=">=", eps_mode="sqrt_vhat"), lambda o: o.radam(**OB)),
    (RAdam, dict(EB, comparison=">=", eps_mode="sqrt_vhat", threshold=4.0), lambda o: o.radam(**OB, threshold=4.0)),
]


@pytest.mark.parametrize("cls, kw, make", OPTAX_CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(OPTAX_CASES)])
def test_matches_optax(cls, kw, make):
    expected = optax_trajectory(make)
    got = sweep_cases(cls(), [kw], quadratic())[0]
    assert relerr(got, expected) <= 1e-12


def test_amsgrad_torch_and_optax_forms_really_differ():
    got = sweep_cases(AMSGrad(), [dict(EB, form="torch"), dict(EB, form="optax")], quadratic())
    assert relerr(got[0], got[1]) > 1e-6


# -- papers' and lecture's numbers ---------------------------------------------------------------


def first_steps(opt, grads, x0, steps=None):
    G = np.atleast_2d(np.asarray(grads, float))
    prob = ReplayGradients(grads=G, x0=x0)
    steps = steps or G.shape[0]
    ds = optsim.sweep(prob, opt, steps=steps, record_every=1, record=("params",))
    de = optsim.sweep(prob, opt, steps=steps, record_every=1, record=("eff_lr",))
    return ds.params.values[0], de.eff_lr.values[0]


def test_lecture_002_bias_correction_example():
    """eta0 = 1, grad 0.1, beta2 = 0.999: eta_t = eta0/sqrt(v_t) = 316.22 without the correction,
    eta0/sqrt(v_hat) = 10 with it.  (beta1 = 0 so that the first moment is the gradient.)  At the next
    step, with a zero gradient, the lecture gives 316.38 and 13.8; the exact numbers are 316.39 and 14.15
    (the lecture rounds 1 - 0.999^2 to 0.0019 and 0.999e-5 to 0.99e-5)."""
    kw = dict(lr=1.0, beta1=0.0, beta2=0.999, eps=0.0)
    x, eff = first_steps(Adam(**kw, bias_correction=False), [[0.1], [0.0]], [0.0])
    assert eff[1, 0] == pytest.approx(316.22, abs=0.01)
    assert x[1, 0] == pytest.approx(-316.2278 * 0.1, rel=1e-6)
    assert eff[2, 0] == pytest.approx(1 / math.sqrt(0.999e-5), rel=1e-12) and abs(eff[2, 0] - 316.38) < 0.01
    x, eff = first_steps(Adam(**kw), [[0.1], [0.0]], [0.0])
    assert eff[1, 0] == pytest.approx(10.0, rel=1e-12)
    assert x[1, 0] == pytest.approx(-1.0, rel=1e-12)
    assert eff[2, 0] == pytest.approx(math.sqrt((1 - 0.999**2) / 0.999e-5), rel=1e-12)
    assert eff[2, 0] == pytest.approx(14.146, abs=1e-3)
    assert 1 / math.sqrt(0.0052) == pytest.approx(13.87, abs=0.01)  # the lecture's arithmetic


def test_lecture_002_adamax_example():
    """One gradient of -0.0314 with eta = 0.025: bias-corrected Adam and AdaMax both take the effective
    learning rate 0.025/0.0314 = 0.796 (the lecture prints 0.79)."""
    g = -0.0314
    for opt in (Adam(lr=0.025, eps=0.0), Adamax(lr=0.025, eps=0.0), Adamax(lr=0.025, eps=0.0, eps_mode="outside")):
        x, eff = first_steps(opt, [[g]], [0.0])
        rate = abs(x[1, 0] - x[0, 0]) / abs(g)
        assert rate == pytest.approx(0.025 / 0.0314, rel=1e-12)
        assert math.floor(rate * 100) / 100 == 0.79
        assert eff[1, 0] * (1 - 0.9) == pytest.approx(rate, rel=1e-12)  # eff_lr multiplies the raw m
    assert 0.001 * g**2 / 0.001 == pytest.approx(0.00098, abs=1e-5)


def test_maxprop_lecture_form_and_bound():
    """v_t = max(beta v_{t-1}, |g_t|); a zero gradient never raises the rate by more than 1/beta, and
    the step never exceeds lr (eps = 0)."""
    G = np.array([[1.0], [0.0], [1.0], [0.5], [-3.0]])
    x, eff = first_steps(MaxProp(lr=1.0, beta=0.999, eps=0.0), G, [0.0])
    np.testing.assert_allclose(eff[1:, 0], [1.0, 1 / 0.999, 1.0, 1 / 0.999, 1 / 3.0], rtol=1e-12)  # the lecture's 1, 1.001, 1
    assert np.all(np.abs(np.diff(x[:, 0])) <= 1.0 + 1e-15)


def test_radam_rho_and_rectification():
    b2 = 0.999
    rho_inf, _ = radam_rho(1, b2)
    assert rho_inf == pytest.approx(1999.0, rel=1e-12)
    rhos = [radam_rho(t, b2)[1] for t in range(1, 8)]
    np.testing.assert_allclose(rhos, [rr.radam_rho(t, b2)[1] for t in range(1, 8)], rtol=1e-13)
    assert rhos[0] == pytest.approx(1.0, rel=1e-9)  # rho_1 = 1 for every beta2
    assert 4.0 < rhos[4] < 5.0 < rhos[5]  # rho_5 = 4.996, rho_6 = 5.994
    r5, r6 = radam_rect(rhos[4], rho_inf), radam_rect(rhos[5], rho_inf)
    assert r5 == pytest.approx(rr.radam_r(5, b2), rel=1e-12) and r5 == pytest.approx(0.01731, abs=1e-5)
    assert r6 == pytest.approx(rr.radam_r(6, b2), rel=1e-12) and r6 == pytest.approx(0.02582, abs=1e-5)
    assert radam_rect(rho_inf * (1 - 1e-15), rho_inf) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("threshold, first", [(4.0, 5), (5.0, 6)])
def test_radam_first_rectified_step(threshold, first):
    """A constant gradient g = 1 (so m_hat = 1, sqrt(v_hat) = 1, eps = 0): the steps are lr (momentum SGD)
    or 0 (official default) below the threshold, and lr * r_t from the first rectified step on."""
    lr = 0.1
    G = np.ones((8, 1))
    out = sweep_cases(RAdam(lr=lr, eps=0.0, threshold=threshold), [dict(below="sgd"), dict(below="none")],
                      ReplayGradients(grads=G, x0=[0.0]), steps=8)
    for case, below_step in ((0, lr), (1, 0.0)):
        steps = -np.diff(out[case][:, 0])
        np.testing.assert_allclose(steps[: first - 1], below_step, rtol=1e-12, atol=0)
        expected = [lr * rr.radam_r(t, 0.999) for t in range(first, 9)]
        np.testing.assert_allclose(steps[first - 1:], expected, rtol=1e-12)


def test_adabound_bounds_at_the_first_step_and_late():
    lo, hi = adabound_bounds(1, 1e-3, 1e-3, 0.1, 1e-3)
    assert lo == pytest.approx(1e-4, rel=1e-3) and hi == pytest.approx(100.0, rel=2e-3)
    assert lo == pytest.approx(0.1 * (1 - 1 / 1.001), rel=1e-12) and hi == pytest.approx(0.1 * 1001, rel=1e-12)
    lo2, hi2 = adabound_bounds(1, 0.5e-3, 1e-3, 0.1, 1e-3)  # a schedule at half the base lr halves them
    assert (lo2, hi2) == pytest.approx((lo / 2, hi / 2), rel=1e-12)
    # Late in a run every coordinate's rate is squeezed into [final_lr (1 - d), final_lr (1 + d)].
    steps = 20000
    ds = optsim.sweep(quadratic(), AdaBound(lr=0.01, final_lr=0.02, gamma=0.1), steps=steps,
                      record_steps=[1, steps], record=("eff_lr",))
    eff = ds.eff_lr.values[0]
    lo, hi = adabound_bounds(steps, 0.01, 0.01, 0.02, 0.1)
    assert np.all(eff[-1] >= lo * (1 - 1e-14)) and np.all(eff[-1] <= hi * (1 + 1e-14))
    np.testing.assert_allclose(eff[-1], 0.02, rtol=1e-3)
    assert np.ptp(eff[0]) > 0  # at the start the rates still differ per coordinate


def test_swats_switches_and_then_steps_at_lambda():
    """Gradients that settle after a large first one: Lambda_k catches up with gamma_k and the rule
    switches (at k = 7 here).  Afterwards eff_lr is the frozen Lambda, the updates are
    -(1 - beta1) Lambda v_k with v_k = beta1 v_{k-1} + g_k, and for a constant gradient the step
    tends to Lambda * g."""
    G = np.array([[5.0, -5.0]] + [[1.0, -0.5]] * 299)
    opt = SWATS(lr=0.01, eps=1e-4)
    x, eff = first_steps(opt, G, [0.0, 0.0])
    oracle = rr.SWATSRef(lr=0.01, eps=1e-4)
    xs = run_open(oracle, G, [0.0, 0.0], 0.01)
    assert relerr(x, xs) <= 1e-12
    k, Lam = oracle.switch_step, oracle.Lambda
    assert k == 7 and 0.005 < Lam < 0.01
    np.testing.assert_allclose(eff[k:], Lam, rtol=1e-12)
    assert not np.allclose(eff[k - 1], Lam)
    v = np.zeros(2)
    for j in range(k, 300):  # update j + 1 uses gradient row j
        v = 0.9 * v + G[j]
        np.testing.assert_allclose(x[j + 1] - x[j], -(1 - 0.9) * Lam * v, rtol=1e-12)
    np.testing.assert_allclose((x[300] - x[299]) / G[299], -Lam, rtol=1e-10)


def test_swats_switch_on_the_quadratic_and_none_with_the_paper_eps():
    grad, loss = quadratic_oracle()
    for kw, switches in ((dict(lr=0.001, eps=1e-6), True), (dict(lr=0.01, eps=1e-9), False)):
        ds = optsim.sweep(quadratic(), SWATS(**kw), steps=300, record_every=1, record=("eff_lr",))
        o = rr.SWATSRef(**kw)
        run(o, grad, loss, X0, 300, kw["lr"])
        eff = ds.eff_lr.values[0]
        assert (o.switch_step is not None) == switches
        if switches:
            np.testing.assert_allclose(eff[o.switch_step:], o.Lambda, rtol=1e-12)
        else:
            assert np.ptp(eff[-1]) > 0


# -- step-size bounds (Kingma & Ba 2015, §2.1 and §7.1) --------------------------------------------


def adam_tight_bound(b1, b2, t):
    """max |m_hat_t| / sqrt(v_hat_t) over all gradient histories (Cauchy-Schwarz; attained by
    g_i proportional to (b1/b2)^(t-i))."""
    s = sum((b1 * b1 / b2) ** j for j in range(t))
    return (1 - b1) / (1 - b1**t) * math.sqrt((1 - b2**t) / (1 - b2)) * math.sqrt(s)


def adamax_tight_bound(b1, b2, t):
    """max |m_hat_t| / u_t (attained by |g_i| proportional to b2^-(t-i))."""
    return (1 - b1) / (1 - b1**t) * sum((b1 / b2) ** j for j in range(t))


def direct_steps(step_fn, opt, G, slots):
    """Apply the jitted step function directly; the step sizes |Δx| of every update."""
    hp = opt.row()
    d = G.shape[1]
    x = np.zeros(d)
    S = np.zeros((slots, d))
    sc = np.zeros(4)
    out = []
    for t, g in enumerate(G, start=1):
        x_old = x.copy()
        step_fn(x, g.copy(), S, sc, t, hp[0], hp)
        out.append(np.abs(x - x_old))
    return np.array(out)


gradient_rows = st.lists(
    st.lists(st.one_of(st.just(0.0), st.floats(-1e3, 1e3, allow_nan=False)), min_size=2, max_size=2),
    min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(first=st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=2), rows=gradient_rows,
       b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999), amsgrad=st.booleans())
def test_adam_step_never_exceeds_its_bound(first, rows, b1, b2, amsgrad):
    G = np.array([first] + rows)
    lr = 0.01
    steps = direct_steps(adam_step, Adam(lr=lr, beta1=b1, beta2=b2, eps=0.0, amsgrad=amsgrad), G, 3)
    for t, s in enumerate(steps, start=1):
        assert np.all(s <= lr * adam_tight_bound(b1, b2, t) * (1 + 1e-12))
    assert np.all(steps[0] <= lr * (1 + 1e-12))  # the first step is lr * sign(g)


@settings(max_examples=200, deadline=None)
@given(first=st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=2), rows=gradient_rows,
       b1=st.floats(0.0, 0.99), b2=st.floats(0.5, 0.9999), outside=st.booleans())
def test_adamax_step_never_exceeds_its_bound(first, rows, b1, b2, outside):
    G = np.array([first] + rows)
    lr = 0.01
    opt = Adamax(lr=lr, beta1=b1, beta2=b2, eps=0.0, eps_mode="outside" if outside else "inside_max")
    steps = direct_steps(adamax_step, opt, G, 2)
    for t, s in enumerate(steps, start=1):
        assert np.all(s <= lr * adamax_tight_bound(b1, b2, t) * (1 + 1e-12))
    # Kingma & Ba's |step| <= lr holds whenever the gradient magnitudes do not shrink.
    mono = np.maximum.accumulate(np.abs(G), axis=0)
    steps = direct_steps(adamax_step, opt, mono, 2)
    assert np.all(steps <= lr * (1 + 1e-12))


def test_the_papers_step_bounds_are_not_strict():
    """Kingma & Ba §2.1 bound |step| <= lr max(1, (1-b1)/sqrt(1-b2)) and §7.1's |step| <= lr are exceeded
    by gradient histories that grow like (b1/b2)^-k (Adam) or shrink like b2^k (AdaMax); those attain the
    tight bounds above."""
    b1, b2, t, lr = 0.9, 0.99, 30, 0.01
    g = (b1 / b2) ** (t - np.arange(1, t + 1))
    s = direct_steps(adam_step, Adam(lr=lr, beta1=b1, beta2=b2, eps=0.0), g[:, None], 3)[-1, 0]
    assert s > lr * max(1.0, (1 - b1) / math.sqrt(1 - b2)) * 1.2
    assert s == pytest.approx(lr * adam_tight_bound(b1, b2, t), rel=1e-12)
    b1, b2, t = 0.9, 0.999, 50
    g = b2 ** -(t - np.arange(1, t + 1))
    s = direct_steps(adamax_step, Adamax(lr=lr, eps=0.0), g[:, None], 2)[-1, 0]
    assert s > lr * 1.005
    assert s == pytest.approx(lr * adamax_tight_bound(b1, b2, t), rel=1e-12)


def test_amsgrad_paper_form_is_reddi_algorithm_2():
    """form='paper' against Algorithm 2 written out on its own (no bias correction, eps = 0)."""
    G = gradient_sequence()
    G[0] = np.abs(G[0]) + 0.1  # no zero denominators at eps = 0
    kw = dict(lr=0.01, beta1=0.9, beta2=0.99)
    got = sweep_cases(AMSGrad(), [dict(kw, eps=0.0, form="paper")], ReplayGradients(grads=G, x0=X0))[0]
    xs = run_open(rr.AMSGradRef("paper", eps=0.0, **kw), G, X0, 0.01)
    assert relerr(got, xs) <= 1e-12
