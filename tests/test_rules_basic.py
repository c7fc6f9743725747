"""SGD (momentum forms), NAG, Adagrad, RMSprop, Adadelta and Lion against NumPy oracles,
PyTorch, optax and the lectures' numbers.

Each rule runs in one sweep over all its option sets (a zipped grid axis, so one compiled
kernel per rule and problem), closed loop on a rotated quadratic and open loop on a replayed
gradient sequence; the oracles are in ``reference.rules``.
"""

import math

import numpy as np
import pytest

import optsim
from optsim import problems, schedules
from optsim.optimizers.adadelta import Adadelta
from optsim.optimizers.adagrad import Adagrad
from optsim.optimizers.lion import Lion
from optsim.optimizers.nag import NAG
from optsim.optimizers.rmsprop import RMSprop
from optsim.optimizers.sgd import SGD

from reference import rules as ref
from reference.loops import plain_and_general, positions, run_open
from reference.problems import ReplayGradients

X0 = np.array([1.0, -0.5, 0.25])
CENTER = np.array([0.1, 0.2, -0.3])
PROBLEM = problems.Quadratic(curvatures=[1.0, 10.0, 100.0], rotation_seed=3, x0=X0, center=CENTER)
H = PROBLEM.hessian()
STEPS = 100


def quad_grad(x):
    """H (x - c), summed in the same order as the engine's kernel (so bitwise equal)."""
    g = np.empty(3)
    for i in range(3):
        s = 0.0
        for j in range(3):
            s += H[i, j] * (x[j] - CENTER[j])
        g[i] = s
    return g


def _replay_grads():
    rng = np.random.default_rng(0)
    G = rng.standard_normal((STEPS, 3)) * np.array([1.0, 10.0, 0.1])
    G[:5, 2] = 0.0  # a coordinate whose first gradients are exactly zero
    return G


REPLAY_G = _replay_grads()
REPLAY_X0 = np.array([0.3, -0.2, 0.1])
REPLAY = ReplayGradients(grads=REPLAY_G, x0=REPLAY_X0)


def assert_close(a, b, rtol=1e-12):
    """Normwise relative error of each row (each recorded step) at most ``rtol``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    num = np.linalg.norm((a - b).reshape(a.shape[0], -1), axis=1)
    den = np.maximum(np.linalg.norm(b.reshape(b.shape[0], -1), axis=1), 1e-300)
    err = np.max(num / den)
    assert err <= rtol, f"relative error {err:.3g} > {rtol} (first bad step {int(np.argmax(num / den > rtol))})"


def sweep_cases(cls, cases, problem=PROBLEM, schedule=None, record=("params",)):
    """One sweep of ``cls`` over ``cases`` (a zipped grid axis); the Dataset."""
    names = sorted(set().union(*cases))
    defaults = cls().values
    rows = [tuple(case.get(n, defaults[n]) for n in names) for case in cases]
    grid = {tuple(names): rows} if len(names) > 1 else {names[0]: [r[0] for r in rows]}
    return optsim.sweep(problem, cls(), grid=grid, schedule=schedule, steps=STEPS, record_every=1, record=record)


def oracle_kwargs(case):
    return {k: v for k, v in case.items() if k != "lr"}


SGD_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, momentum=0.9, momentum_form="lr_inside"),
    dict(lr=0.01, momentum=0.9, momentum_form="ema"),
    dict(lr=0.01, momentum=0.8, dampening=0.5, weight_decay=0.01),
    dict(lr=0.01, momentum=0.8, dampening=0.5, weight_decay=0.01, momentum_form="lr_inside"),
    dict(lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01),
    dict(lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01, momentum_form="lr_inside"),
    dict(lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01, momentum_form="ema"),
    dict(lr=1e-4, momentum=0.5, maximize=True, momentum_form="ema"),
]
NAG_CASES = [
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.005, momentum=0.8, weight_decay=0.01),
    dict(lr=0.01, momentum=0.0),
    dict(lr=1e-4, momentum=0.5, maximize=True),
]
ADAGRAD_CASES = [
    dict(lr=0.1),
    dict(lr=0.1, eps=1e-3),
    dict(lr=0.1, eps=1e-3, eps_inside=True),
    dict(lr=0.1, lr_decay=0.01, weight_decay=0.01),
    dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-7, eps_inside=True),  # optax's defaults
    dict(lr=0.1, initial_accumulator_value=0.5, eps=0.0, eps_inside=True),
    dict(lr=1e-3, maximize=True),
]
RMSPROP_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, alpha=0.9, eps=1e-3),
    dict(lr=0.01, alpha=0.9, eps=1e-3, eps_inside=True),
    dict(lr=0.01, centered=True, eps=1e-3),
    dict(lr=0.01, centered=True, eps=1e-3, eps_inside=True, alpha=0.9),
    dict(lr=0.005, momentum=0.8, centered=True, weight_decay=0.01),
    dict(lr=0.005, momentum=0.8, momentum_form="lr_inside", eps_inside=True, alpha=0.9),
    dict(lr=0.005, momentum=0.8, nesterov=True),
    dict(lr=0.005, momentum=0.8, nesterov=True, momentum_form="lr_inside"),
    dict(lr=0.01, alpha=0.9, bias_correction=True, eps_inside=True, eps=1e-3),
    dict(lr=0.01, alpha=0.9, bias_correction=True, centered=True, initial_scale=0.5, momentum=0.5),
    dict(lr=1e-4, maximize=True, eps=1e-3),
]
ADADELTA_CASES = [
    dict(lr=1.0),
    dict(lr=0.5, rho=0.95, eps=1e-3, weight_decay=0.01),
    dict(lr=1e-3, rho=0.95, eps=1e-7),  # Keras's defaults
    dict(lr=1e-3, maximize=True),
]
LION_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.01),
    dict(lr=0.003, weight_decay=0.0),
    dict(lr=0.01, beta1=0.0),
]

RULES = [
    (SGD, SGD_CASES, ref.SGDRef),
    (NAG, NAG_CASES, ref.NAGRef),
    (Adagrad, ADAGRAD_CASES, ref.AdagradRef),
    (RMSprop, RMSPROP_CASES, ref.RMSpropRef),
    (Adadelta, ADADELTA_CASES, ref.AdadeltaRef),
    (Lion, LION_CASES, ref.LionRef),
]
RULE_IDS = [cls.name for cls, _, _ in RULES]


# -- every rule and option against its oracle ------------------------------------------------


@pytest.mark.parametrize("cls, cases, oracle", RULES, ids=RULE_IDS)
def test_closed_loop_matches_oracle(cls, cases, oracle):
    got = sweep_cases(cls, cases).params.values[:, 0]
    for case, xs in zip(cases, got):
        want = positions(oracle(**oracle_kwargs(case)), quad_grad, X0, STEPS, case["lr"])
        assert np.all(np.isfinite(want))
        assert_close(xs, want)


@pytest.mark.parametrize("cls, cases, oracle", RULES, ids=RULE_IDS)
def test_open_loop_matches_oracle(cls, cases, oracle):
    ds = sweep_cases(cls, cases, problem=REPLAY, record=("params", "eff_lr"))
    for c, case in enumerate(cases):
        rule = oracle(**oracle_kwargs(case))
        want = run_open(rule, REPLAY_G, REPLAY_X0, case["lr"])
        assert_close(ds.params.values[c, 0], want)
        if hasattr(rule, "eff_lr"):  # after the last update
            assert_close(ds.eff_lr.values[c, 0, -1][None], rule.eff_lr(STEPS, case["lr"])[None])


def test_rmsprop_bias_correction_is_pow_to_the_bit():
    # 1 - alpha**t is pow(alpha, t), as Python computes it; numba's power with an integer
    # exponent multiplies instead, which differs in the last bit from t = 4 on
    cases = [c for c in RMSPROP_CASES if c.get("bias_correction")]
    got = sweep_cases(RMSprop, cases).params.values[:, 0]
    for case, xs in zip(cases, got):
        want = positions(ref.RMSpropRef(**oracle_kwargs(case)), quad_grad, X0, STEPS, case["lr"])
        np.testing.assert_array_equal(xs, want)


@pytest.mark.parametrize("cls, kw", [
    (SGD, {}), (SGD, dict(momentum=0.9)), (SGD, dict(momentum=0.9, nesterov=True)),
    (SGD, dict(momentum=0.5, dampening=0.3)), (RMSprop, {}), (RMSprop, dict(eps_inside=True, eps=1e-3)),
], ids=["sgd", "momentum", "nesterov", "dampening", "rmsprop", "rmsprop-eps-inside"])
def test_branch_free_loops_match_the_general_loop_to_the_bit(cls, kw):
    # the plain forms run loops without branches (see plain_and_general)
    from optsim.optimizers.rmsprop import rmsprop_step
    from optsim.optimizers.sgd import sgd_step

    runs = plain_and_general({SGD: sgd_step, RMSprop: rmsprop_step}[cls], cls, **kw)
    assert not np.array_equal(runs[0][0], np.linspace(-1.0, 1.0, 64))  # it moved
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_option_grid_is_one_kernel_and_forms_differ_only_under_a_schedule():
    # constant lr: the three momentum forms; 'torch' and 'lr_inside' are the same trajectory
    ds = optsim.sweep(PROBLEM, SGD(lr=0.01, momentum=0.9), grid={"momentum_form": ["torch", "lr_inside", "ema"]},
                      steps=STEPS, record_every=1, record=("params",))
    p = ds.params.values[:, 0]
    assert_close(p[1], p[0], rtol=1e-13)
    assert np.max(np.abs(p[2] - p[0])) > 1e-2


SCHEDULE = schedules.StepDecay(step_size=30, gamma=0.5)


def step_lr(k, base):
    return base * 0.5 ** (k // 30)


def test_momentum_forms_under_a_schedule():
    cases = [dict(lr=0.01, momentum=0.9, momentum_form=f, nesterov=n)
             for f in ("torch", "lr_inside", "ema") for n in (False, True)]
    got = sweep_cases(SGD, cases, schedule=SCHEDULE).params.values[:, 0]
    for case, xs in zip(cases, got):
        want = positions(ref.SGDRef(**oracle_kwargs(case)), quad_grad, X0, STEPS, case["lr"], schedule=step_lr)
        assert_close(xs, want)
    # lr outside vs inside the buffer: equal until the first decay (k = 30), then apart
    assert_close(got[2][:31], got[0][:31], rtol=1e-13)
    assert np.max(np.abs(got[2][31:] - got[0][31:])) > 1e-4


def test_rmsprop_momentum_forms_under_a_schedule():
    cases = [dict(lr=0.01, momentum=0.8, momentum_form=f, nesterov=n)
             for f in ("torch", "lr_inside") for n in (False, True)]
    got = sweep_cases(RMSprop, cases, schedule=SCHEDULE).params.values[:, 0]
    for case, xs in zip(cases, got):
        want = positions(ref.RMSpropRef(**oracle_kwargs(case)), quad_grad, X0, STEPS, case["lr"], schedule=step_lr)
        assert_close(xs, want)
    assert np.max(np.abs(got[2][31:] - got[0][31:])) > 1e-6


# -- NAG: the look-ahead form and PyTorch's stored look-ahead point ----------------------------


def test_nag_lookahead_points_are_sgd_nesterov_params():
    """Rewritten NAG: y_t = w_t - gamma u_{t-1} of the lectures' form are exactly the parameters
    SGD(momentum, nesterov=True) stores (torch/optax/Keras), at constant lr."""
    cases = [dict(lr=0.01, momentum=0.9), dict(lr=0.005, momentum=0.8, weight_decay=0.01)]
    nag = sweep_cases(NAG, cases, record=("params", "state"))
    sgd = sweep_cases(SGD, [dict(c, nesterov=True) for c in cases])
    for c, case in enumerate(cases):
        w = nag.params.values[c, 0]
        u = nag.state.values[c, 0, :, 0]  # u after t updates, i.e. u_{t-1} before the next one
        y = w - case["momentum"] * u
        assert_close(y, sgd.params.values[c, 0], rtol=1e-12)
        # the true iterate is not the look-ahead point
        assert np.max(np.abs(w[1:] - y[1:])) > 1e-4
        # and the torch buffer is u / lr
        assert_close(sgd.params.values[c, 0], positions(ref.SGDRef(nesterov=True, **oracle_kwargs(case)),
                                                      quad_grad, X0, STEPS, case["lr"]))


def test_nag_lecture_first_steps():
    """Lecture 002 with eta = 1: w_1 = w_0 - grad(w_0); w_2 = w_1 - (beta m_0 + grad(w_1 - beta m_0))."""
    beta = 0.5
    ds = optsim.sweep(PROBLEM, NAG(lr=1e-3, momentum=beta), steps=2, record_every=1, record=("params",))
    w = ds.params.values[0]
    g = lambda x: 1e-3 * quad_grad(x)  # noqa: E731  (eta folded into the gradient)
    m0 = g(X0)
    w1 = X0 - m0
    w2 = w1 - (beta * m0 + g(w1 - beta * m0))
    assert_close(w, np.array([X0, w1, w2]), rtol=1e-15)


def test_nag_records_the_true_iterate_and_look_ahead_gradient_norm():
    ds = optsim.sweep(PROBLEM, NAG(lr=0.01, momentum=0.9), steps=3, record_every=1, record=("params", "loss"))
    xs = positions(ref.NAGRef(momentum=0.9), quad_grad, X0, 3, 0.01)
    f = [0.5 * (x - CENTER) @ H @ (x - CENTER) for x in xs]
    np.testing.assert_allclose(ds.loss.values[0], f, rtol=1e-13)


# -- the lectures' numbers -----------------------------------------------------------------------


def test_adagrad_lecture_effective_learning_rates():
    """Lecture 002: eta_0 = 0.1; v_0^w = 0.019 gives 0.1/sqrt(0.019) = 0.72, and
    grad b_0 = -9.19 (v_0^b = 84.45) gives 0.1/sqrt(84.45) = 0.01."""
    prob = ReplayGradients(grads=[[math.sqrt(0.019), -9.19]], x0=[-2.0, -2.0])
    ds = optsim.sweep(prob, Adagrad(lr=0.1, eps=1e-8), grid={"eps_inside": [True, False]},
                      steps=1, record_every=1, record=("eff_lr", "params"))
    eff = ds.eff_lr.values[:, 0, 1]
    assert np.all(np.isnan(ds.eff_lr.values[:, 0, 0]))
    assert np.allclose(np.floor(eff * 100) / 100, [0.72, 0.01])  # the lecture truncates 0.7255
    np.testing.assert_allclose(eff[0], [0.1 / math.sqrt(0.019 + 1e-8), 0.1 / math.sqrt(84.4561 + 1e-8)], rtol=1e-14)
    # the first AdaGrad step from a zero accumulator moves every coordinate by exactly lr
    np.testing.assert_allclose(ds.params.values[1, 0, 1], [-2.1, -1.9], rtol=1e-8)


def test_adadelta_lecture_first_step():
    """Lecture 002 (eps = 1e-6, beta = 0.9): at a steep start Delta w_0 ~= -3.16 sqrt(eps)."""
    prob = ReplayGradients(grads=[[100.0]], x0=[0.0])
    ds = optsim.sweep(prob, Adadelta(lr=1.0, rho=0.9, eps=1e-6), steps=1, record_every=1, record=("params", "eff_lr"))
    dw = ds.params.values[0, 1, 0]
    assert round(dw / math.sqrt(1e-6), 2) == -3.16
    np.testing.assert_allclose(ds.eff_lr.values[0, 1, 0], math.sqrt(1e-6) / math.sqrt(0.1 * 1e4 + 1e-6), rtol=1e-14)


def test_rmsprop_lecture_flat_region_learning_rate():
    """Lecture 002: with eta = 0.05, eps = 1e-4 and v = 0 the effective lr is 0.05/sqrt(1e-4) = 5."""
    prob = ReplayGradients(grads=[[0.0, 1.0]], x0=[0.0, 0.0])
    ds = optsim.sweep(prob, RMSprop(lr=0.05, eps=1e-4, eps_inside=True, alpha=0.5), steps=1,
                      record_every=1, record=("eff_lr",))
    np.testing.assert_allclose(ds.eff_lr.values[0, 1], [5.0, 0.05 / math.sqrt(0.5 + 1e-4)], rtol=1e-14)


# -- validation ---------------------------------------------------------------------------------


def test_validation_messages():
    from optsim._components import ParameterError

    with pytest.raises(ParameterError, match="dampening"):
        SGD(momentum=0.9, dampening=0.1, momentum_form="ema")
    with pytest.raises(ParameterError, match="momentum_form"):
        SGD(momentum_form="keras")
    with pytest.raises(ParameterError, match="nesterov"):
        RMSprop(nesterov=True)
    assert Lion(betas=(0.8, 0.9)).beta2 == 0.9
    assert NAG.momentum_param == "momentum" and Lion.momentum_param == "beta1"
    assert Adagrad().eps == 1e-10 and Adagrad().lr == 1e-2
    assert (RMSprop().lr, RMSprop().alpha, RMSprop().eps) == (1e-2, 0.99, 1e-8)
    assert (Adadelta().lr, Adadelta().rho, Adadelta().eps) == (1.0, 0.9, 1e-6)


# -- PyTorch ------------------------------------------------------------------------------------


@pytest.fixture
def torch64():
    torch = pytest.importorskip("torch")
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(old)


def torch_run(torch, make, steps=STEPS, scheduler=None):
    Ht, ct = torch.tensor(H), torch.tensor(CENTER)
    p = torch.tensor(X0.copy(), requires_grad=True)
    opt = make([p])
    sched = scheduler(opt) if scheduler else None
    xs = [X0.copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (p - ct) @ Ht @ (p - ct)
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        xs.append(p.detach().numpy().copy())
    return np.array(xs)


TORCH_CASES = {
    SGD: [
        (dict(lr=0.01, momentum=0.8, dampening=0.5, weight_decay=0.01), "SGD"),
        (dict(lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01), "SGD"),
        (dict(lr=1e-4, momentum=0.5, maximize=True), "SGD"),
    ],
    Adagrad: [
        (dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, eps=1e-3, initial_accumulator_value=0.2), "Adagrad"),
        (dict(lr=0.1), "Adagrad"),
    ],
    RMSprop: [
        (dict(lr=0.005, alpha=0.9, eps=1e-3, momentum=0.8, centered=True, weight_decay=0.01), "RMSprop"),
        (dict(lr=0.01, alpha=0.95, eps=1e-3), "RMSprop"),
        (dict(lr=1e-3, maximize=True), "RMSprop"),
    ],
    Adadelta: [
        (dict(lr=0.5, rho=0.95, eps=1e-3, weight_decay=0.01), "Adadelta"),
        (dict(), "Adadelta"),
    ],
}


@pytest.mark.parametrize("cls", list(TORCH_CASES), ids=[c.name for c in TORCH_CASES])
def test_matches_torch(torch64, cls):
    torch = torch64
    cases = TORCH_CASES[cls]
    got = sweep_cases(cls, [kw for kw, _ in cases]).params.values[:, 0]
    for (kw, tname), xs in zip(cases, got):
        want = torch_run(torch, lambda ps, kw=kw: getattr(torch.optim, tname)(ps, **kw))
        assert_close(xs, want)


def test_sgd_matches_torch_under_step_lr(torch64):
    torch = torch64
    cases = [dict(lr=0.02, momentum=0.9), dict(lr=0.01, momentum=0.9, nesterov=True)]
    got = sweep_cases(SGD, [dict(c, momentum_form="torch") for c in cases], schedule=SCHEDULE).params.values[:, 0]
    for kw, xs in zip(cases, got):
        want = torch_run(torch, lambda ps, kw=kw: torch.optim.SGD(ps, **kw),
                         scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=30, gamma=0.5))
        assert_close(xs, want)


def test_nag_matches_torch_nesterov_look_ahead(torch64):
    torch = torch64
    ds = sweep_cases(NAG, [dict(lr=0.005, momentum=0.8, weight_decay=0.01)], record=("params", "state"))
    y = ds.params.values[0, 0] - 0.8 * ds.state.values[0, 0, :, 0]
    want = torch_run(torch, lambda ps: torch.optim.SGD(ps, lr=0.005, momentum=0.8, nesterov=True, weight_decay=0.01))
    assert_close(y, want)


# -- optax --------------------------------------------------------------------------------------


@pytest.fixture
def optax64():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    old = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield optax
    jax.config.update("jax_enable_x64", old)


def optax_run(optax, tx, steps=STEPS):
    import jax.numpy as jnp

    params = jnp.asarray(X0)
    state = tx.init(params)
    xs = [X0.copy()]
    for _ in range(steps):
        g = jnp.asarray(quad_grad(np.asarray(params)))
        updates, state = tx.update(g, state, params)
        params = optax.apply_updates(params, updates)
        xs.append(np.asarray(params, dtype=float).copy())
    return np.array(xs)


def optax_cases(optax):
    return {
        SGD: [
            (dict(lr=0.01, momentum=0.9), optax.sgd(0.01, momentum=0.9)),
            (dict(lr=0.005, momentum=0.8, nesterov=True), optax.sgd(0.005, momentum=0.8, nesterov=True)),
        ],
        Adagrad: [
            (dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-7, eps_inside=True), optax.adagrad(0.1)),
            (dict(lr=0.1, initial_accumulator_value=0.0, eps=1e-3, eps_inside=True),
             optax.adagrad(0.1, initial_accumulator_value=0.0, eps=1e-3)),
        ],
        RMSprop: [
            (dict(lr=0.01, alpha=0.9, eps=1e-3, eps_inside=True), optax.rmsprop(0.01, eps=1e-3)),
            (dict(lr=0.01, alpha=0.9, eps=1e-3), optax.rmsprop(0.01, eps=1e-3, eps_in_sqrt=False)),
            (dict(lr=0.005, alpha=0.95, eps=1e-3, eps_inside=True, centered=True, momentum=0.8,
                  momentum_form="lr_inside"),
             optax.rmsprop(0.005, decay=0.95, eps=1e-3, centered=True, momentum=0.8)),
            (dict(lr=0.005, alpha=0.9, eps=1e-3, eps_inside=True, momentum=0.8, nesterov=True,
                  momentum_form="lr_inside", bias_correction=True, initial_scale=0.3),
             optax.rmsprop(0.005, eps=1e-3, momentum=0.8, nesterov=True, bias_correction=True, initial_scale=0.3)),
            # (centered + bias_correction from v_0 = 0 has variance 0 at t = 1, up to rounding:
            #  an ill-conditioned first step, so compare with initial_scale > 0)
            (dict(lr=0.01, alpha=0.9, eps=1e-3, centered=True, bias_correction=True, initial_scale=0.5),
             optax.rmsprop(0.01, eps=1e-3, eps_in_sqrt=False, centered=True, bias_correction=True, initial_scale=0.5)),
        ],
        Adadelta: [
            (dict(lr=0.5, rho=0.95, eps=1e-3, weight_decay=0.01),
             optax.adadelta(0.5, rho=0.95, eps=1e-3, weight_decay=0.01)),
        ],
        Lion: [
            (dict(lr=0.01), optax.lion(0.01)),
            (dict(lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.01),
             optax.lion(0.01, b1=0.8, b2=0.95, weight_decay=0.01)),
        ],
    }


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adadelta, Lion], ids=lambda c: c.name)
def test_matches_optax(optax64, cls):
    cases = optax_cases(optax64)[cls]
    got = sweep_cases(cls, [kw for kw, _ in cases]).params.values[:, 0]
    for (kw, tx), xs in zip(cases, got):
        assert_close(xs, optax_run(optax64, tx))


def test_optax_adadelta_without_learning_rate_ascends(optax64):
    """The footgun documented in Adadelta's docstring: learning_rate=None means no sign flip."""
    import jax.numpy as jnp

    tx = optax64.adadelta()
    p = jnp.asarray([0.0])
    u, _ = tx.update(jnp.asarray([2.0]), tx.init(p), p)
    assert float(u[0]) > 0.0
