"""Contract v2 of the engine: any hyperparameter on a schedule (AdEMAMix's warm-ups) and
named cross-coordinate scalars (Prodigy), each against a NumPy oracle, open loop (a fixed
gradient sequence) and closed loop (a quadratic), 100 float64 steps."""

import math

import numpy as np
import pytest

import optsim
from optsim import ParameterError, optimizers, problems, schedules
from optsim.problems import Replay
from optsim.sweep import Method, build_plan
from reference.rules import AdEMAMixRef, ProdigyRef
from reference.schedules import beta3_warmup

STEPS = 100
RTOL = 1e-12
CURV = np.array([0.5, 2.0, 8.0])
X0 = np.array([1.0, -2.0, 0.5])


def grads(T, d, seed=0):
    return np.random.default_rng(seed).normal(size=(T, d)) * np.array([0.1, 1.0, 3.0])[:d]


def assert_close(a, b, rtol=RTOL):
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.abs(b), 1e-300)
    err = np.max(np.abs(a - b) / scale)
    assert err <= rtol, f"relative error {err:.3g}"


def run_oracle(rule, x0, grad_at, steps=STEPS):
    """The iterates x_0..x_steps of ``rule(x, g, t)`` (t 1-based) on gradients ``grad_at(x, k)``."""
    x = np.array(x0, dtype=float)
    xs = [x.copy()]
    for k in range(steps):
        x = rule(x, grad_at(x, k), k + 1)
        xs.append(x.copy())
    return np.array(xs)


def sweep_params(problem, method, steps=STEPS, **kw):
    ds = optsim.sweep(problem, method, steps=steps, record_every=1, record=("params",), **kw)
    return ds["params"].values.reshape(-1, steps + 1, ds.sizes["param"])


# -- AdEMAMix, with and without its warm-ups ------------------------------------------------


ADEMAMIX_CASES = [
    (dict(lr=0.01), {}),
    (dict(lr=0.02, beta3=0.999, alpha=5.0, weight_decay=0.1), {}),
    (dict(lr=0.01, beta3=0.9999, alpha=8.0), dict(alpha_warmup=60, beta3_warmup=80, beta_start=0.9)),
    (dict(lr=0.01, beta1=0.8, beta3=0.999, alpha=3.0, weight_decay=0.01),
     dict(alpha_warmup=150, beta3_warmup=40, beta_start=0.8, log_eps=1e-8)),
]


def ademamix_method(kw, warm):
    scheds = {}
    if "alpha_warmup" in warm:
        scheds["alpha"] = schedules.LinearWarmup(warmup_steps=warm["alpha_warmup"])
    if "beta3_warmup" in warm:
        scheds["beta3"] = schedules.Beta3Warmup(warmup_steps=warm["beta3_warmup"], beta_start=warm["beta_start"],
                                                log_eps=warm.get("log_eps", 0.0))
    return Method(optimizers.AdEMAMix(**kw), schedules=scheds)


@pytest.mark.parametrize("kw, warm", ADEMAMIX_CASES)
def test_ademamix_open_loop_matches_numpy(kw, warm):
    G = grads(STEPS, 3, seed=1)
    got = sweep_params(Replay(grads=G, x0=X0), ademamix_method(kw, warm))[0]
    want = run_oracle(AdEMAMixRef(**kw, **warm), X0, lambda x, k: G[k])
    assert_close(got, want)


@pytest.mark.parametrize("kw, warm", ADEMAMIX_CASES)
def test_ademamix_closed_loop_matches_numpy(kw, warm):
    got = sweep_params(problems.Quadratic(curvatures=CURV, x0=X0), ademamix_method(kw, warm))[0]
    want = run_oracle(AdEMAMixRef(**kw, **warm), X0, lambda x, k: CURV * x)
    assert_close(got, want)


def test_beta3_warmup_is_the_papers_formula():
    s = schedules.Beta3Warmup(warmup_steps=50, beta_start=0.9)
    got = s.learning_rates(60, 0.9999)
    want = [beta3_warmup(k + 1, 50, 0.9, 0.9999) for k in range(60)]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    # the half-life ln(1/2) / ln(beta) moves linearly from beta_start's to beta3's
    hl = np.log(0.5) / np.log(got[:49])
    hs, he = np.log(0.5) / np.log(0.9), np.log(0.5) / np.log(0.9999)
    np.testing.assert_allclose(hl, hs + (np.arange(1, 50) / 50) * (he - hs), rtol=1e-9)
    assert got[49] == 0.9999 and got[-1] == 0.9999


# -- scheduled hyperparameters: the engine's mechanism ----------------------------------------


def test_a_scheduled_beta1_is_the_schedule_of_its_own_value_and_grids_without_recompiling():
    from optsim.engine.codegen import KERNEL_LOG

    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    cos = schedules.CosineAnnealing(T_max=40, eta_min=0.5)
    m = Method(optimizers.Adam(lr=0.05, beta1=0.95), schedules={"beta1": cos})
    betas = cos.learning_rates(STEPS, 0.95)

    class AdamRef:
        m = v = 0.0

        def __call__(self, x, g, t):
            b1, b2 = betas[t - 1], 0.999
            self.m = b1 * self.m + (1 - b1) * g
            self.v = b2 * self.v + (1 - b2) * g * g
            return x - (0.05 / (1 - b1**t)) * self.m / (np.sqrt(self.v) / math.sqrt(1 - b2**t) + 1e-8)

    assert_close(sweep_params(prob, m)[0], run_oracle(AdamRef(), X0, lambda x, k: CURV * x))
    # a grid over the schedule's parameters and the base value: one set of entry points
    optsim.sweep(prob, m, steps=10, grid={"T_max": [5.0, 10.0]})
    start = len(KERNEL_LOG)
    ds = optsim.sweep(prob, m, steps=10, grid={"schedules.beta1.T_max": [20.0, 30.0], "beta1": [0.9, 0.99]})
    assert not any(e["compiled"] for e in KERNEL_LOG[start:])
    assert ds.loss.shape[:2] == (2, 2)
    # the same through sweep(schedules=...), and the state records are unchanged
    a = optsim.sweep(prob, optimizers.Adam(lr=0.05, beta1=0.95), schedules={"beta1": cos}, steps=20)
    b = optsim.sweep(prob, m, steps=20)
    assert np.array_equal(a.loss.values, b.loss.values)
    assert a.attrs == a.attrs


def test_scheduled_hyperparameters_block_and_unblock_like_lr():
    from optsim.engine import codegen

    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    kw = dict(steps=30, replicates=3, noise=optsim.noise.Gaussian(sigma=0.1), record=("loss",))
    plain = build_plan(prob, Method(optimizers.Adam(), schedules={"beta2": schedules.Exponential(gamma=0.999)}),
                       **kw)[0]
    plateau = build_plan(prob, Method(optimizers.Adam(), schedules={"beta2": schedules.ReduceOnPlateau()}), **kw)[0]
    assert plain.groups[0].spec.blocked == codegen.BLOCKS
    assert not plateau.groups[0].spec.blocked
    fn, table = plain.entry_tables(plain.groups[0])
    assert table.shape == (2, len(optsim.engine._driver.SCHED))


def test_cyclic_momentum_is_unchanged_next_to_a_scheduled_hyperparameter():
    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    cyc = schedules.OneCycle(total_steps=STEPS)
    a = sweep_params(prob, Method(optimizers.Adam(lr=0.01), cyc))
    b = sweep_params(prob, Method(optimizers.Adam(lr=0.01), cyc, schedules={"eps": schedules.Constant()}))
    assert np.array_equal(a, b)


def test_cyclic_momentum_is_a_scheduled_hyperparameter():
    """A momentum-cycling schedule gives the engine one more scheduled hyperparameter: a row
    on the schedule's own parameters, whose value goes to the optimizer's momentum."""
    from optsim.engine._driver import HP_LR, NO_TARGET, SCHED

    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    plan = build_plan(prob, Method(optimizers.SGD(lr=0.01, momentum=0.9), schedules.Cyclic(max_lr=0.05)), steps=10)[0]
    _, table = plan.entry_tables(plan.groups[0])
    mom = optimizers.SGD().dynamic_names().index("momentum")
    assert table.shape == (2, len(SCHED))
    cycled, lr = table
    assert (cycled[SCHED.target], cycled[SCHED.base], cycled[SCHED.sp_off]) == (mom, mom, lr[SCHED.sp_off])
    assert (lr[SCHED.target], lr[SCHED.base]) == (NO_TARGET, HP_LR)
    # an optimizer whose momentum follows a schedule of its own gets no such row
    plain = build_plan(prob, Method(optimizers.SGD(lr=0.01, momentum=0.9),
                                    schedules.Cyclic(max_lr=0.05, cycle_momentum=False),
                                    schedules={"momentum": schedules.Constant()}), steps=10)[0]
    _, table = plain.entry_tables(plain.groups[0])
    assert list(table[:, SCHED.target]) == [mom, NO_TARGET]


def test_cyclic_momentum_inside_a_join_counts_its_own_updates():
    """A Cyclic piece of a join cycles the momentum from its own start: SGD with momentum
    under Join(constant for 7 updates, then Cyclic) against a NumPy loop with torch's rule."""
    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    cyc = schedules.Cyclic(max_lr=0.05, step_size_up=5, base_momentum=0.7, max_momentum=0.95)
    join = schedules.Join(schedules=[schedules.Constant(), cyc], boundaries=[7])
    got = sweep_params(prob, Method(optimizers.SGD(lr=0.01, momentum=0.9), join))
    lr_of, mom_of = type(cyc).kernels["value"], type(cyc).kernels["momentum"]
    x, buf, xs = X0.copy(), None, [X0.copy()]
    for k in range(STEPS):
        lr, mu = (0.01, 0.9) if k < 7 else (lr_of(k - 7, 0.01, cyc.row(), np.zeros(0), 0.0), mom_of(k - 7, cyc.row()))
        g = CURV * x
        buf = g.copy() if buf is None else mu * buf + g
        x = x - lr * buf
        xs.append(x.copy())
    assert_close(got, np.array(xs))


@pytest.mark.parametrize("schedules_, words", [
    ({"lr": schedules.Constant()}, "lr follows schedule="),
    ({"bta1": schedules.Constant()}, "no parameter 'bta1'"),
    ({"amsgrad": schedules.Constant()}, "Adam.amsgrad cannot follow"),
    ({"eps_mode": schedules.Constant()}, "Adam.eps_mode cannot follow"),
    ({"beta1": 0.5}, "beta1 must follow an optsim schedule"),
])
def test_bad_scheduled_hyperparameters_are_one_line_errors(schedules_, words):
    with pytest.raises(ParameterError, match=words) as e:
        Method(optimizers.Adam(), schedules=schedules_)
    assert "\n" not in str(e.value)


def test_momentum_cycled_and_scheduled_at_once_is_refused():
    with pytest.raises(ParameterError, match="beta1 follows a schedule"):
        build_plan(problems.Quadratic(curvatures=CURV), Method(optimizers.Adam(), schedules.OneCycle(total_steps=10),
                                                               schedules={"beta1": schedules.Constant()}), steps=10)


# -- Prodigy: named scalars accumulated over all coordinates --------------------------------


PRODIGY_CASES = [
    {},
    dict(lr=0.5, betas=(0.8, 0.99), weight_decay=0.01, d_coef=2.0, growth_rate=1.05),
    dict(beta3=0.9, weight_decay=0.1, decouple=False, use_bias_correction=True, safeguard_warmup=True, d0=1e-4),
    dict(beta1=0.0, eps=1e-6),
]


def _prodigy_ref(kw):
    kw = dict(kw)
    if "betas" in kw:
        kw["beta1"], kw["beta2"] = kw.pop("betas")
    return ProdigyRef(**kw)


@pytest.mark.parametrize("kw", PRODIGY_CASES)
def test_prodigy_open_loop_matches_numpy(kw):
    G = grads(STEPS, 3, seed=2)
    got = sweep_params(Replay(grads=G, x0=X0), optimizers.Prodigy(**kw))[0]
    want = run_oracle(_prodigy_ref(kw), X0, lambda x, k: G[k])
    assert_close(got, want)


@pytest.mark.parametrize("kw", PRODIGY_CASES)
def test_prodigy_closed_loop_matches_numpy(kw):
    ref = _prodigy_ref(kw)
    ds = optsim.sweep(problems.Quadratic(curvatures=CURV, x0=X0), optimizers.Prodigy(**kw), steps=STEPS,
                      record_every=1, record=("params", "loss"), replicates=2)
    want = run_oracle(ref, X0, lambda x, k: CURV * x)
    for r in range(2):
        assert_close(ds["params"].isel(replicate=r).values, want)
    assert ref.ds[-1] > 10 * ref.d0  # D has grown from its initial estimate


def test_prodigy_names_its_scalars_and_is_not_elementwise():
    from optsim._components import layout

    P = optimizers.Prodigy
    assert P.scalars == len(P.scalar_names) == 4
    assert layout(P.scalar_names).d == 0
    assert not P.elementwise
    with pytest.raises(TypeError, match="scalar_names"):
        type("Bad", (optimizers.Optimizer,), {"scalar_names": ("a", "b"), "scalars": 3})
