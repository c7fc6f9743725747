"""Learning-rate schedules against closed forms, torch.optim.lr_scheduler and optax;
momentum cycling, plateau logic, composition and grids through the engine."""

import math

import numpy as np
import pytest

import optsim
from optsim import optimizers, problems, schedules
from optsim._components import ParameterError
from optsim.problems.replay import Replay

from reference import schedules as rs

BASE = 0.1


# -- helpers ------------------------------------------------------------------------------


def lrs(schedule, n, base=BASE, losses=None):
    """The rate for updates k = 0..n-1, from the jitted value functions (Schedule.learning_rates)."""
    return schedule.learning_rates(n, base, losses)


def moms(schedule, n):
    fn = type(schedule).kernels["momentum"]
    row = schedule.row()
    return np.array([fn(k, row) for k in range(n)])


def assert_rel(a, b, rtol=1e-14, atol=0.0):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    err = np.abs(a - b)
    bad = err > rtol * np.abs(b) + atol
    assert not bad.any(), f"max error {err.max():.3g} at k={np.argmax(err)} ({a[bad][:3]} vs {b[bad][:3]})"


def torch_lrs(make_sched, n, base=BASE, momentum=0.9, adam=False, metrics=None):
    """lr (and momentum) torch uses for optimizer steps 0..n-1 (``opt.step(); sched.step()``)."""
    torch = pytest.importorskip("torch")
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.Adam([p], lr=base) if adam else torch.optim.SGD([p], lr=base, momentum=momentum)
    sched = make_sched(opt)
    lr, mom = [], []
    for k in range(n):
        g = opt.param_groups[0]
        lr.append(float(g["lr"]))
        mom.append(float(g["betas"][0] if adam else g["momentum"]))
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
    return np.array(lr), np.array(mom)


@pytest.fixture(scope="module")
def optax():
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return optax


def optax_lrs(sched, n):
    import jax
    import jax.numpy as jnp

    return np.asarray(jax.jit(jax.vmap(sched))(jnp.arange(n, dtype=jnp.int64)), dtype=float)


# -- closed forms --------------------------------------------------------------------------

N = 400

CLOSED_FORMS = [
    (schedules.MultiStep(milestones=[30, 80, 80, 200], gamma=0.5),
     lambda k: rs.multistep_lr(k, BASE, [30, 80, 80, 200], 0.5)),
    (schedules.MultiStep(milestones=[200, 30], gamma=0.3, convention="keras"),
     lambda k: rs.multistep_lr(k, BASE, [30, 200], 0.3, "keras")),
    (schedules.Exponential(gamma=0.99), lambda k: rs.exponential_lr(k, BASE, 0.99)),
    (schedules.Exponential(gamma=0.5, transition_steps=30, staircase=True, transition_begin=10, end_lr=0.01),
     lambda k: rs.exponential_lr(k, BASE, 0.5, 30, True, 10, 0.01)),
    (schedules.Exponential(gamma=0.7, transition_steps=17.5),
     lambda k: rs.exponential_lr(k, BASE, 0.7, 17.5)),
    (schedules.Exponential(gamma=1.01, end_lr=0.3), lambda k: rs.exponential_lr(k, BASE, 1.01, end=0.3)),
    (schedules.InverseTime(decay_rate=0.5, decay_steps=10), lambda k: rs.inverse_time_lr(k, BASE, 0.5, 10)),
    (schedules.InverseTime(decay_rate=2.0, decay_steps=7, staircase=True),
     lambda k: rs.inverse_time_lr(k, BASE, 2.0, 7, True)),
    (schedules.InverseSqrtDecay(), lambda k: rs.inverse_sqrt_lr(k, BASE)),
    (schedules.Polynomial(total_steps=250, power=2.0), lambda k: rs.polynomial_lr(k, BASE, 250, 2.0)),
    (schedules.Polynomial(total_steps=100, power=0.5, end_lr=1e-3, transition_begin=20),
     lambda k: rs.polynomial_lr(k, BASE, 100, 0.5, 1e-3, 20)),
    (schedules.Polynomial(total_steps=60, power=1.5, end_lr=1e-3, cycle=True),
     lambda k: rs.polynomial_lr(k, BASE, 60, 1.5, 1e-3, cycle=True)),
    (schedules.CosineAnnealing(T_max=150, eta_min=0.01), lambda k: rs.cosine_lr(k, BASE, 150, 0.01)),
    (schedules.CosineAnnealing(T_max=150, eta_min=0.01, convention="clamped", exponent=2.0),
     lambda k: rs.cosine_lr(k, BASE, 150, 0.01, True, 2.0)),
    (schedules.TransformerWarmup(d_model=64, warmup_steps=100),
     lambda k: rs.transformer_lr(k, BASE, 64, 100)),
    (schedules.UntunedLinearWarmup(beta2=0.99), lambda k: BASE * rs.untuned_linear_factor(k, 0.99)),
    (schedules.UntunedExponentialWarmup(beta2=0.98), lambda k: BASE * rs.untuned_exponential_factor(k, 0.98)),
    (schedules.Cyclic(max_lr=0.5, step_size_up=20, step_size_down=35, mode="exp_range", gamma=0.995),
     lambda k: rs.cyclic_lr_mom(k, BASE, 0.5, 20, 35, "exp_range", 0.995)[0]),
    (schedules.OneCycle(total_steps=N, three_phase=True, anneal_strategy="linear"),
     lambda k: rs.onecycle_torch(k, BASE, N, anneal="linear", three_phase=True)[0] if k < N else BASE / 25e4),
    (schedules.OneCycle(total_steps=N - 50, convention="optax"),
     lambda k: rs.onecycle_optax(k, BASE, N - 50)),
    (schedules.OneCycle(total_steps=N - 50, convention="optax", three_phase=True, anneal_strategy="linear",
                        pct_final=0.8),
     lambda k: rs.linear_onecycle_optax(k, BASE, N - 50, pct_final=0.8)),
]


@pytest.mark.parametrize("schedule, oracle", CLOSED_FORMS, ids=lambda v: getattr(v, "name", ""))
def test_closed_forms(schedule, oracle):
    assert_rel(lrs(schedule, N), [oracle(k) for k in range(N)])


def test_cyclic_exp_range_scale_is_pow_to_the_bit():
    # gamma**k as torch computes it (pow); numba's integer power multiplies instead
    s = schedules.Cyclic(max_lr=0.5, step_size_up=20, step_size_down=35, mode="exp_range", gamma=0.995,
                         cycle_momentum=False)
    want = [rs.cyclic_lr_mom(k, BASE, 0.5, 20, 35, "exp_range", 0.995)[0] for k in range(N)]
    np.testing.assert_array_equal(lrs(s, N), want)


def test_warm_restarts_closed_form():
    for kw in (dict(T_0=30), dict(T_0=10, T_mult=2, eta_min=0.01), dict(T_0=7, T_mult=3, m_mul=0.5, eta_min=0.02)):
        s = schedules.WarmRestarts(**kw)
        ref = rs.warm_restarts_lrs(N, BASE, kw["T_0"], kw.get("T_mult", 1), kw.get("eta_min", 0.0),
                                   kw.get("m_mul", 1.0))
        assert_rel(lrs(s, N), ref)


# -- the lecture settings -----------------------------------------------------------------


def test_lecture_triangular_cycle():
    # eta_min 0.01 (the optimizer's lr), eta_max 0.5, step size 20
    s = schedules.Cyclic(max_lr=0.5, step_size_up=20, cycle_momentum=False)
    got = lrs(s, 200, base=0.01)
    assert_rel(got, [rs.smith_triangular_lr(k, 0.01, 0.5, 20) for k in range(200)], rtol=1e-14, atol=1e-16)
    assert got[0] == 0.01 and got[20] == 0.5 and got[40] == pytest.approx(0.01, abs=1e-16)
    assert got[60] == 0.5 and got[10] == pytest.approx(0.255)


def test_lecture_warm_restarts():
    # eta_max 1 (the optimizer's lr), eta_min 0.1, T 50: the lecture's cos(pi (t mod (T+1)) / T)
    s = schedules.WarmRestarts(T_0=50, eta_min=0.1, inclusive=True)
    got = lrs(s, 300, base=1.0)
    assert_rel(got, [rs.lecture_restart_lr(t, 1.0, 0.1, 50) for t in range(300)])
    assert got[0] == 1.0 and got[50] == pytest.approx(0.1, abs=1e-15) and got[51] == 1.0
    # torch's form restarts at T_0 without reaching eta_min
    torch_form = lrs(schedules.WarmRestarts(T_0=50, eta_min=0.1), 300, base=1.0)
    assert torch_form[50] == 1.0 and torch_form[49] > 0.1


def test_transformer_peak():
    s = schedules.TransformerWarmup()  # d_model 512, warmup 4000
    got = lrs(s, 10000, base=1.0)
    assert np.argmax(got) == 3999  # k + 1 = 4000
    assert got[3999] == pytest.approx(512**-0.5 * 4000**-0.5, rel=1e-14)
    assert got[3999] == pytest.approx(6.99e-4, abs=5e-7)
    assert_rel(got, [rs.transformer_lr(k, 1.0) for k in range(10000)])
    # linear before the peak, t^-1/2 after
    assert got[1999] == pytest.approx(got[3999] / 2, rel=1e-12)
    assert got[15999 % 10000] == pytest.approx(rs.transformer_lr(5999, 1.0), rel=1e-14)


def test_untuned_warmup_lengths():
    lin = lrs(schedules.UntunedLinearWarmup(), 2500, base=1.0)  # beta2 = 0.999: 2000 updates
    assert lin[1998] < 1.0 and lin[1999] == 1.0 and lin[0] == pytest.approx(5e-4, rel=1e-12)
    ex = lrs(schedules.UntunedExponentialWarmup(), 20000, base=1.0)
    # effective warm-up period sum(1 - omega) = 1 / (exp(1 - beta2) - 1)
    assert np.sum(1 - ex) == pytest.approx(1 / math.expm1(1e-3), rel=1e-6)


# -- torch ----------------------------------------------------------------------------------


def test_multistep_matches_torch():
    got = lrs(schedules.MultiStep(milestones=[30, 80, 80, 200], gamma=0.5), N)
    ref, _ = torch_lrs(lambda o: __import__("torch").optim.lr_scheduler.MultiStepLR(o, [30, 80, 80, 200], 0.5), N)
    assert_rel(got, ref, rtol=1e-14)


def test_exponential_and_polynomial_match_torch():
    import_torch = pytest.importorskip("torch")
    S = import_torch.optim.lr_scheduler
    ref, _ = torch_lrs(lambda o: S.ExponentialLR(o, 0.99), N)
    assert_rel(lrs(schedules.Exponential(gamma=0.99), N), ref, rtol=1e-13)
    ref, _ = torch_lrs(lambda o: S.PolynomialLR(o, total_iters=250, power=2.0), N)
    assert_rel(lrs(schedules.Polynomial(total_steps=250, power=2.0), N), ref, rtol=1e-13, atol=1e-17)
    ref, _ = torch_lrs(lambda o: S.StepLR(o, 30, 0.5), N)
    assert_rel(lrs(schedules.MultiStep(milestones=np.arange(30, N, 30), gamma=0.5), N), ref, rtol=1e-13)


def test_cosine_matches_torch_past_T_max():
    torch = pytest.importorskip("torch")
    ref, _ = torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=150, eta_min=0.01), N)
    got = lrs(schedules.CosineAnnealing(T_max=150, eta_min=0.01), N)
    assert_rel(got, ref, rtol=1e-13)
    assert got[300] == pytest.approx(BASE) and got[150] == pytest.approx(0.01)  # period 2 T_max
    clamped = lrs(schedules.CosineAnnealing(T_max=150, eta_min=0.01, convention="clamped"), N)
    assert_rel(clamped[:151], got[:151])
    assert np.all(clamped[150:] == 0.01)


@pytest.mark.parametrize("T_0, T_mult, eta_min", [(30, 1, 0.0), (10, 2, 0.01), (50, 1, 0.1)])
def test_warm_restarts_match_torch(T_0, T_mult, eta_min):
    torch = pytest.importorskip("torch")
    S = torch.optim.lr_scheduler
    ref, _ = torch_lrs(lambda o: S.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min), N)
    assert_rel(lrs(schedules.WarmRestarts(T_0=T_0, T_mult=T_mult, eta_min=eta_min), N), ref, rtol=1e-14)


@pytest.mark.parametrize(
    "kw",
    [
        dict(step_size_up=20),
        dict(step_size_up=15, step_size_down=40, mode="triangular2"),
        dict(step_size_up=25, mode="exp_range", gamma=0.997, base_momentum=0.7, max_momentum=0.95),
    ],
)
@pytest.mark.parametrize("adam", [False, True])
def test_cyclic_matches_torch(kw, adam):
    torch = pytest.importorskip("torch")
    s = schedules.Cyclic(max_lr=0.5, **kw)
    ref_lr, ref_m = torch_lrs(lambda o: torch.optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.5, **kw), N,
                              base=0.3, adam=adam)
    assert_rel(lrs(s, N, base=0.01), ref_lr, rtol=1e-14)
    assert_rel(moms(s, N), ref_m, rtol=1e-14)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(anneal_strategy="linear", pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        dict(three_phase=True, base_momentum=0.8, max_momentum=0.9),
        dict(three_phase=True, anneal_strategy="linear"),
    ],
)
def test_one_cycle_matches_torch(kw):
    torch = pytest.importorskip("torch")
    n = 237
    s = schedules.OneCycle(total_steps=n, **kw)
    ref_lr, ref_m = torch_lrs(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=BASE, total_steps=n, **kw), n)
    got = lrs(s, n + 20)
    assert_rel(got[:n], ref_lr, rtol=1e-14, atol=1e-18)
    assert_rel(moms(s, n), ref_m, rtol=1e-14)
    min_lr = BASE / s.div_factor / s.final_div_factor
    assert got[n - 1] == pytest.approx(min_lr, rel=1e-12) and np.all(got[n:] == min_lr)
    assert np.argmax(got) == round(s.pct_start * n) - 1


def test_transformer_matches_torch_lambda():
    torch = pytest.importorskip("torch")
    lam = lambda s: 512**-0.5 * min((s + 1) ** -0.5, (s + 1) * 4000**-1.5)  # noqa: E731
    ref, _ = torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lam), 6000, base=2.0)
    assert_rel(lrs(schedules.TransformerWarmup(), 6000, base=2.0), ref, rtol=1e-15)


def plateau_losses(n=300, seed=0):
    """Improves, stalls, improves a little (below and above the threshold), stalls again."""
    rng = np.random.default_rng(seed)
    f = np.concatenate([np.linspace(10, 5, 40), np.full(30, 5.0), 5.0 - 1e-5 * np.arange(40),
                        np.linspace(5, 3, 20), 3 + 0.1 * rng.random(n - 130)])
    return f[:n]


PLATEAU_CASES = [
    dict(factor=0.5, patience=5),
    dict(factor=0.5, patience=3, threshold=1e-3, threshold_mode="abs", cooldown=4),
    dict(factor=0.1, patience=2, cooldown=1, min_lr=1e-3, threshold=0.0),
    dict(factor=0.5, patience=2, eps=0.02),
]


@pytest.mark.parametrize("kw", PLATEAU_CASES)
def test_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    f = plateau_losses()
    got = lrs(schedules.ReduceOnPlateau(**kw), len(f), losses=f)
    # torch, stepped with the loss seen at update k (k >= 1) before it reads the rate of update k
    ref, _ = torch_lrs(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **kw), len(f),
                       metrics=list(f[1:]) + [0.0])
    assert_rel(got, ref, rtol=0)
    assert_rel(got, rs.plateau_lrs(f, BASE, **kw), rtol=0)
    assert got[-1] < BASE


@pytest.mark.parametrize("metric", ["last", "mean"])
def test_plateau_interval(metric):
    f = plateau_losses(600)
    kw = dict(factor=0.5, patience=2, interval=10, metric=metric)
    got = lrs(schedules.ReduceOnPlateau(**kw), len(f), losses=f)
    assert_rel(got, rs.plateau_lrs(f, BASE, **kw), rtol=0)
    changes = np.flatnonzero(np.diff(got)) + 1
    assert len(changes) > 0 and np.all(changes % 10 == 0)


def test_plateau_lecture_halving():
    # the loss stops improving: the rate halves after `patience` + 1 flat epochs
    f = np.concatenate([np.linspace(2, 1, 10), np.ones(40)])
    got = lrs(schedules.ReduceOnPlateau(factor=0.5, patience=4, threshold=0.0), len(f), losses=f)
    assert got[13] == BASE and got[14] == BASE / 2 and got[18] == BASE / 2 and got[19] == BASE / 4


# -- optax ----------------------------------------------------------------------------------


def test_match_optax(optax):
    n = 300
    cases = [
        (schedules.Exponential(gamma=0.5, transition_steps=30, staircase=True, transition_begin=10, end_lr=0.01),
         optax.exponential_decay(BASE, 30, 0.5, 10, True, 0.01)),
        (schedules.Exponential(gamma=0.9, transition_steps=7),
         optax.exponential_decay(BASE, 7, 0.9)),
        (schedules.Polynomial(total_steps=100, power=2.0, end_lr=1e-3, transition_begin=20),
         optax.polynomial_schedule(BASE, 1e-3, 2.0, 100, 20)),
        (schedules.CosineAnnealing(T_max=150, eta_min=0.02, convention="clamped", exponent=1.5),
         optax.cosine_decay_schedule(BASE, 150, alpha=0.2, exponent=1.5)),
        (schedules.MultiStep(milestones=[30, 100], gamma=0.3),
         optax.piecewise_constant_schedule(BASE, {30: 0.3, 100: 0.3})),
        (schedules.OneCycle(total_steps=250, convention="optax"),
         optax.cosine_onecycle_schedule(250, BASE)),
        (schedules.OneCycle(total_steps=250, convention="optax", pct_start=0.2, div_factor=10.0,
                            final_div_factor=100.0),
         optax.cosine_onecycle_schedule(250, BASE, 0.2, 10.0, 100.0)),
        (schedules.OneCycle(total_steps=250, convention="optax", three_phase=True, anneal_strategy="linear"),
         optax.linear_onecycle_schedule(250, BASE)),
    ]
    for ours, theirs in cases:
        assert_rel(lrs(ours, n), optax_lrs(theirs, n), rtol=1e-14, atol=1e-18), ours


def test_optax_onecycle_is_one_step_later_than_torch():
    n = 200
    t = lrs(schedules.OneCycle(total_steps=n, cycle_momentum=False), n + 1)
    o = lrs(schedules.OneCycle(total_steps=n, convention="optax", cycle_momentum=False), n + 1)
    assert np.argmax(t) == 59 and np.argmax(o) == 60
    assert o[n] == pytest.approx(t[n - 1], rel=1e-12) and o[n - 1] > o[n]


# -- composition ------------------------------------------------------------------------------


DECAYS = [
    (schedules.StepDecay(step_size=40, gamma=0.5), lambda k: BASE * 0.5 ** (k // 40)),
    (schedules.MultiStep(milestones=[50, 150]), lambda k: rs.multistep_lr(k, BASE, [50, 150], 0.1)),
    (schedules.Exponential(gamma=0.995), lambda k: rs.exponential_lr(k, BASE, 0.995)),
    (schedules.InverseTime(decay_rate=0.1), lambda k: rs.inverse_time_lr(k, BASE, 0.1)),
    (schedules.InverseSqrtDecay(), lambda k: rs.inverse_sqrt_lr(k, BASE)),
    (schedules.Polynomial(total_steps=200), lambda k: rs.polynomial_lr(k, BASE, 200)),
    (schedules.CosineAnnealing(T_max=200, convention="clamped"), lambda k: rs.cosine_lr(k, BASE, 200, clamped=True)),
    (schedules.WarmRestarts(T_0=60, T_mult=2), lambda k: rs.warm_restarts_lrs(k + 1, BASE, 60, 2)[-1]),
]


@pytest.mark.parametrize("decay, oracle", DECAYS, ids=lambda v: getattr(v, "name", ""))
def test_warmups_compose_with_any_decay(decay, oracle):
    n = 250
    inner = np.array([oracle(k) for k in range(n)])
    cases = [
        (schedules.LinearWarmup(warmup_steps=30, after=decay), [rs.linear_warmup_factor(k, 30) for k in range(n)]),
        (schedules.LinearWarmup(warmup_steps=20, start_factor=0.1, after=decay),
         [rs.linear_warmup_factor(k, 20, 0.1) for k in range(n)]),
        (schedules.UntunedLinearWarmup(beta2=0.98, after=decay), [rs.untuned_linear_factor(k, 0.98) for k in range(n)]),
        (schedules.UntunedExponentialWarmup(beta2=0.95, after=decay),
         [rs.untuned_exponential_factor(k, 0.95) for k in range(n)]),
    ]
    for s, factor in cases:
        assert_rel(lrs(s, n), inner * np.array(factor), rtol=2e-15)


# -- through the engine ---------------------------------------------------------------------


def eff_lrs(schedule, n, base=BASE, losses=None, grid=None, optimizer=None):
    """Rates the engine used for updates 0..n-1 (SGD's recorded effective lr)."""
    prob = Replay(grads=np.zeros((n, 1)), losses=losses)
    ds = optsim.sweep(prob, optimizer or optimizers.SGD(lr=base), schedule=schedule, grid=grid, steps=n,
                      record_every=1, record=("eff_lr",))
    return ds["eff_lr"].isel(param=0, replicate=0).values[..., 1:]


def test_engine_uses_schedule_values():
    n = 150
    for s in (schedules.LinearWarmup(warmup_steps=25, after=schedules.CosineAnnealing(T_max=120, eta_min=0.01)),
              schedules.UntunedExponentialWarmup(beta2=0.99, after=schedules.MultiStep(milestones=[40, 90]))):
        np.testing.assert_array_equal(eff_lrs(s, n), lrs(s, n))


def test_engine_plateau_on_replayed_losses():
    f = plateau_losses(200)
    s = schedules.ReduceOnPlateau(factor=0.5, patience=3, cooldown=2, interval=5, metric="mean")
    got = eff_lrs(s, len(f), losses=f)
    np.testing.assert_array_equal(got, rs.plateau_lrs(f, BASE, factor=0.5, patience=3, cooldown=2, interval=5,
                                                      metric="mean"))


def test_grid_over_nested_schedule_params():
    n = 120
    s = schedules.LinearWarmup(warmup_steps=10, after=schedules.Exponential(gamma=0.99))
    gammas = [0.9, 0.97, 0.995]
    got = eff_lrs(s, n, grid={"schedule.after.gamma": gammas, "warmup_steps": [5.0, 20.0]})
    assert got.shape == (3, 2, n)
    for i, gm in enumerate(gammas):
        for j, w in enumerate([5.0, 20.0]):
            ref = [rs.linear_warmup_factor(k, w) * rs.exponential_lr(k, BASE, gm) for k in range(n)]
            assert_rel(got[i, j], ref, rtol=1e-15)
    # a static parameter of a nested schedule (milestones) is gridded too, and so is "gamma" when unambiguous
    s2 = schedules.LinearWarmup(warmup_steps=10, after=schedules.MultiStep(milestones=[30]))
    got2 = eff_lrs(s2, n, grid={"milestones": [[30.0], [50.0, 60.0]], "gamma": [0.5]})
    for i, ms in enumerate([[30.0], [50.0, 60.0]]):
        ref = [rs.linear_warmup_factor(k, 10) * rs.multistep_lr(k, BASE, ms, 0.5) for k in range(n)]
        assert_rel(got2[i, 0], ref, rtol=1e-15)


def test_sgd_momentum_one_cycle_closed_loop():
    """SGD(momentum) + OneCycle through the engine against a NumPy loop on a quadratic,
    with both the rate and the momentum cycled."""
    h = np.array([1.0, 10.0, 50.0])
    x0 = np.array([1.0, -0.5, 0.25])
    n = 120
    s = schedules.OneCycle(total_steps=n, pct_start=0.25, base_momentum=0.8, max_momentum=0.95)
    ds = optsim.sweep(problems.Quadratic(curvatures=h, x0=x0), optimizers.SGD(lr=0.03, momentum=0.5),
                      schedule=s, steps=n, record_every=1, record=("params",))
    x = x0.copy()
    buf = None
    xs = [x.copy()]
    for k in range(n):
        lr, m = rs.onecycle_torch(k, 0.03, n, pct=0.25, base_m=0.8, max_m=0.95)
        g = h * x
        buf = g.copy() if buf is None else m * buf + g
        x = x - lr * buf
        xs.append(x.copy())
    xs = np.array(xs)
    got = ds["params"].isel(replicate=0).values
    err = np.linalg.norm(got - xs, axis=1) / np.linalg.norm(xs, axis=1)
    assert err.max() <= 1e-12


def test_sgd_momentum_one_cycle_matches_torch():
    torch = pytest.importorskip("torch")
    h = np.array([1.0, 10.0, 50.0])
    x0 = np.array([1.0, -0.5, 0.25])
    n = 80
    ds = optsim.sweep(problems.Quadratic(curvatures=h, x0=x0), optimizers.SGD(lr=0.03, momentum=0.5),
                      schedule=schedules.OneCycle(total_steps=n), steps=n, record_every=1, record=("params",))
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = torch.optim.SGD([p], lr=0.03, momentum=0.5)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.03, total_steps=n)
    ht = torch.tensor(h, dtype=torch.float64)
    xs = [x0]
    for _ in range(n):
        p.grad = ht * p.detach()
        opt.step()
        sched.step()
        xs.append(p.detach().numpy().copy())
    xs = np.array(xs)
    got = ds["params"].isel(replicate=0).values
    assert np.max(np.linalg.norm(got - xs, axis=1) / np.linalg.norm(xs, axis=1)) <= 1e-12


# -- validation ---------------------------------------------------------------------------


def test_validation_and_momentum_switch():
    with pytest.raises(ParameterError, match="milestones"):
        schedules.MultiStep(milestones=np.arange(100))
    with pytest.raises(ParameterError, match="milestones"):
        schedules.MultiStep(milestones=[1.5])
    with pytest.raises(ParameterError, match="pct_start"):
        schedules.OneCycle(total_steps=3, pct_start=0.1)
    with pytest.raises(ParameterError, match="factor"):
        schedules.ReduceOnPlateau(factor=1.0)
    c = schedules.Cyclic(max_lr=1.0)
    c2 = c.replace(cycle_momentum=False)
    assert repr(c2).startswith("Cyclic(") and c2 != c and c2.replace(cycle_momentum=True) == c
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(c2)) == c2 and copy.deepcopy(c) == c
    from optsim import registry

    table = registry.components("schedule")
    for name in ("multistep", "exponential", "inverse_time", "inverse_sqrt", "polynomial", "cosine",
                 "warm_restarts", "plateau", "cyclic", "one_cycle", "transformer", "untuned_linear_warmup",
                 "untuned_exponential_warmup"):
        assert name in table
    built = registry.build("schedule", {"name": "one_cycle", "total_steps": 100, "cycle_momentum": False})
    assert type(built) is schedules.OneCycle
    # cycle_momentum needs an optimizer with momentum, as in torch; without it any optimizer works
    prob = problems.Quadratic(curvatures=[1.0, 2.0])
    with pytest.raises(ParameterError, match="cycle_momentum=True needs an optimizer with momentum"):
        optsim.sweep(prob, optimizers.Adagrad(lr=0.01), schedule=c, steps=5)
    ds = optsim.sweep(prob, optimizers.Adagrad(lr=0.01), schedule=c2, steps=5)
    assert np.isfinite(ds.final_loss.values).all()
