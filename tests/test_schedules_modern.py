"""The modern schedules (WSD, the warm-up cosines of optax and Keras, SGDR, LinearLR, the
piecewise schedules of optax and the join) against plain-Python oracles written from the
papers and the libraries' formulas; the join through the engine (each piece on its own
count, nested, on a hyperparameter other than lr, gridded without recompiling); Adam's
beta1 on every new schedule against a NumPy Adam."""

import math

import numpy as np
import pytest

import optsim
from optsim import ParameterError, optimizers, problems, registry, schedules
from optsim.problems import Replay
from optsim.sweep import Method
from reference import schedules as rs
from reference import schedules_modern as rm

BASE = 0.1
N = 120


def assert_rel(a, b, rtol=1e-13, atol=1e-300):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    err = np.abs(a - b)
    bad = err > rtol * np.abs(b) + atol
    assert not bad.any(), f"max error {err.max():.3g} at k={np.argmax(err)}: {a[bad][:3]} vs {b[bad][:3]}"


def oracle(fn, n=N):
    return np.array([fn(k) for k in range(n)])


# -- closed forms against the oracles -------------------------------------------------------

CASES = [
    # WSD, the paper's code (epfml wsd_schedule): warm-up from 1/init_div_factor, D = int(fract N)
    (schedules.WSD(total_steps=100, warmup_steps=10, decay_fraction=0.25, shape=shape, final_factor=0.1,
                   warmup_start=0.01),
     lambda k, shape=shape: BASE * rm.wsd_authors_factor(k, 100, 10, 0.25, shape, 0.1, 100.0))
    for shape in ("linear", "cosine", "1-sqrt", "1-square")
] + [
    (schedules.WSD(total_steps=97, warmup_steps=3, decay_fraction=0.33, shape="1-sqrt"),  # floor(32.01) = 32
     lambda k: BASE * rm.wsd_authors_factor(k, 97, 3, 0.33, "1-sqrt", 0.0, math.inf)),
    # transformers: warm-up shapes, stable N - W - D, the warm-up starts from min_lr_ratio
    (schedules.WSD(total_steps=90, warmup_steps=12, decay_steps=25, shape="cosine", cycles=0.3,
                   warmup_shape="cosine", final_factor=0.2, warmup_start=0.2),
     lambda k: BASE * rm.wsd_transformers_factor(k, 12, 53, 25, "cosine", "cosine", 0.2, 0.3)),
    (schedules.WSD(total_steps=90, warmup_steps=12, decay_steps=0, warmup_shape="1-sqrt", final_factor=0.3,
                   warmup_start=0.3),
     lambda k: BASE * rm.wsd_transformers_factor(k, 12, 78, 0, "1-sqrt", "linear", 0.3)),
    # pytorch_optimizer: the non-cosine cooldowns reach 0, then jump to min_lr_ratio
    (schedules.WSD(total_steps=80, warmup_steps=5, decay_steps=40, shape="linear", final_factor=0.25,
                   convention="pytorch_optimizer"),
     lambda k: BASE * rm.wsd_pytorch_optimizer_factor(k, 5, 35, 40, "linear", 0.25)),
    (schedules.WSD(total_steps=80, warmup_steps=5, decay_steps=40, shape="cosine", final_factor=0.25,
                   convention="pytorch_optimizer"),
     lambda k: BASE * rm.wsd_pytorch_optimizer_factor(k, 5, 35, 40, "cosine", 0.25)),
    # optax warmup_cosine_decay_schedule
    (schedules.WarmupCosine(warmup_steps=15, decay_steps=90, init_value=0.02, end_value=0.004, exponent=2.0),
     lambda k: rm.optax_warmup_cosine_lr(k, 0.02, BASE, 15, 90, 0.004, 2.0)),
    (schedules.WarmupCosine(warmup_steps=0, decay_steps=50),
     lambda k: rm.optax_warmup_cosine_lr(k, 0.0, BASE, 0, 50)),
    (schedules.WarmupCosine(warmup_steps=20, decay_steps=70, alpha=0.3),
     lambda k: rm.optax_warmup_cosine_lr(k, 0.0, BASE, 20, 70, 0.3 * BASE)),
    # Keras CosineDecay(warmup_target, warmup_steps): decay_steps after the warm-up
    (schedules.WarmupCosine(warmup_steps=15, decay_steps=40, init_value=0.01, alpha=0.05, convention="keras"),
     lambda k: rm.keras_cosine_warmup_lr(k, 0.01, BASE, 15, 40, 0.05)),
    (schedules.WarmupCosine(warmup_steps=0, decay_steps=60, end_value=0.02, convention="keras"),
     lambda k: rm.keras_cosine_warmup_lr(k, 0.0, BASE, 0, 60, 0.2)),
    # optax sgdr_schedule
    (schedules.SGDR(decay_steps=[20, 35, 10, 30], warmup_steps=[4, 0, 2, 5], init_values=[0.0, 0.0, 0.01, 0.0],
                    peak_scales=[1.0, 0.7, 0.5, 0.25], end_values=[0.001], exponents=[1.0, 2.0, 1.0, 0.5]),
     lambda k: rm.sgdr_lr(k, [dict(init_value=i, peak_value=BASE * p, warmup_steps=w, decay_steps=d,
                                   end_value=0.001, exponent=e) for d, w, i, p, e in
                              zip([20, 35, 10, 30], [4, 0, 2, 5], [0.0, 0.0, 0.01, 0.0], [1.0, 0.7, 0.5, 0.25],
                                  [1.0, 2.0, 1.0, 0.5])])),
    (schedules.SGDR(decay_steps=[50]), lambda k: rm.optax_warmup_cosine_lr(k, 0.0, BASE, 0, 50)),
    # torch LinearLR
    (schedules.LinearLR(), lambda k: rm.linear_lr(k, BASE)),
    (schedules.LinearLR(start_factor=1.0, end_factor=0.0, total_iters=77),
     lambda k: rm.linear_lr(k, BASE, 1.0, 0.0, 77)),
    # optax piecewise schedules (boundaries in any order, as a dict's items)
    (schedules.PiecewiseInterpolate(boundaries=[40, 10, 25], scales=[0.1, 0.5, 2.0]),
     lambda k: rm.piecewise_interpolate_lr(k, BASE, {10: 0.5, 25: 2.0, 40: 0.1})),
    (schedules.PiecewiseInterpolate(interpolation="cosine", boundaries=[0, 12, 13, 90], scales=[0.3, 3.0, 0.5, 0.0]),
     lambda k: rm.piecewise_interpolate_lr(k, BASE, {0: 0.3, 12: 3.0, 13: 0.5, 90: 0.0}, "cosine")),
    (schedules.PiecewiseConstant(boundaries=[10, 30, 31], scales=[0.5, 0.2, 3.0]),
     lambda k: rm.piecewise_constant_lr(k, BASE, {10: 0.5, 30: 0.2, 31: 3.0})),
    (schedules.PiecewiseConstant(boundaries=[10, 30], scales=[0.5, 0.2], convention="keras"),
     lambda k: rm.piecewise_constant_lr(k, BASE, {10: 0.5, 30: 0.2}, keras=True)),
    # joins: each piece from its own count 0 (optax join_schedules, torch SequentialLR)
    (schedules.Join(schedules=[schedules.LinearLR(start_factor=0.1, total_iters=10),
                               schedules.CosineAnnealing(T_max=30, eta_min=0.001),
                               schedules.Exponential(gamma=0.95)], boundaries=[10, 40]),
     lambda k: rm.join_lr(k, [lambda c: rm.linear_lr(c, BASE, 0.1, 1.0, 10), lambda c: rs.cosine_lr(c, BASE, 30, 0.001),
                              lambda c: rs.exponential_lr(c, BASE, 0.95)], [10, 40])),
    (schedules.Join(s0=schedules.StepDecay(step_size=4, gamma=0.5), s1=schedules.Constant(),
                    s2=schedules.LinearWarmup(warmup_steps=8, after=schedules.MultiStep(milestones=[5], gamma=0.3)),
                    boundaries=[13, 13]),
     lambda k: rm.join_lr(k, [lambda c: BASE * 0.5 ** (c // 4), lambda c: BASE,
                              lambda c: rs.warmup_lr(8, 0.0, lambda j, b: rs.multistep_lr(j, b, [5], 0.3))(c, BASE)],
                          [13, 13])),
]


@pytest.mark.parametrize("schedule, ref", CASES, ids=[f"{type(s).__name__}{i}" for i, (s, _) in enumerate(CASES)])
def test_closed_forms(schedule, ref):
    assert_rel(schedule.learning_rates(N, BASE), oracle(ref))


def test_nested_join_and_sgdr_as_a_join_of_warmup_cosines():
    inner = schedules.Join(schedules=[schedules.Exponential(gamma=0.8), schedules.LinearLR(start_factor=0.5,
                                                                                           total_iters=6)],
                           boundaries=[7])
    outer = schedules.Join(schedules=[schedules.LinearLR(start_factor=0.2, total_iters=5), inner], boundaries=[5])
    ref = oracle(lambda k: rm.join_lr(k, [lambda c: rm.linear_lr(c, BASE, 0.2, 1.0, 5),
                                          lambda c: rm.join_lr(c, [lambda j: BASE * 0.8**j,
                                                                   lambda j: rm.linear_lr(j, BASE, 0.5, 1.0, 6)],
                                                               [7])], [5]))
    assert_rel(outer.learning_rates(N, BASE), ref)
    # optax builds sgdr_schedule as this join: the same numbers to the bit
    sgdr = schedules.SGDR(decay_steps=[20, 30], warmup_steps=[5, 3], init_values=[0.0, 0.01],
                          end_values=[0.001, 0.0], exponents=[1.0, 2.0])
    join = schedules.Join(schedules=[schedules.WarmupCosine(warmup_steps=5, decay_steps=20, end_value=0.001),
                                     schedules.WarmupCosine(warmup_steps=3, decay_steps=30, init_value=0.01,
                                                            exponent=2.0)], boundaries=[20])
    np.testing.assert_array_equal(sgdr.learning_rates(N, BASE), join.learning_rates(N, BASE))


def test_wsd_decay_fraction_is_floored_and_1_sqrt_is_the_default_shape_of_the_paper_plots():
    s = schedules.WSD(total_steps=1000, decay_fraction=0.2, shape="1-sqrt", warmup_steps=50)
    lr = s.learning_rates(1001, 1.0)
    assert lr[799] == 1.0 and lr[800] == 1.0 and lr[801] < 1.0 and lr[1000] == 0.0
    assert lr[0] == 0.0 and lr[50] == 1.0
    assert math.isclose(lr[900], 1 - math.sqrt(0.5), rel_tol=1e-15)


# -- the engine -------------------------------------------------------------------------------


def eff_lrs(schedule, n, grid=None, losses=None):
    prob = Replay(grads=np.zeros((n, 1)), losses=losses)
    ds = optsim.sweep(prob, optimizers.SGD(lr=BASE), schedule=schedule, grid=grid, steps=n, record_every=1,
                      record=("eff_lr",))
    return ds["eff_lr"].isel(param=0, replicate=0).values[..., 1:]


def test_engine_runs_each_piece_on_its_own_count_and_grids_without_recompiling():
    from optsim.engine.codegen import KERNEL_LOG

    n = 90
    inner = schedules.Join(schedules=[schedules.WSD(total_steps=20, warmup_steps=4, decay_fraction=0.5),
                                      schedules.PiecewiseInterpolate(boundaries=[5, 9], scales=[0.5, 3.0])],
                           boundaries=[20])
    j = schedules.Join(schedules=[schedules.LinearWarmup(warmup_steps=6, after=schedules.CosineAnnealing(T_max=25)),
                                  inner, schedules.SGDR(decay_steps=[10, 15], warmup_steps=[2])],
                       boundaries=[25, 60])
    np.testing.assert_array_equal(eff_lrs(j, n), j.learning_rates(n, BASE))
    grid = {"schedule.s1.s0.warmup_steps": [2, 8], "schedule.s0.after.T_max": [20.0, 40.0],
            "schedule.boundaries": [[25.0, 60.0], [30.0, 61.0]]}
    eff_lrs(j, n, grid={k: v[:1] for k, v in grid.items()})
    start = len(KERNEL_LOG)
    got = eff_lrs(j, n, grid=grid)
    assert not any(e["compiled"] for e in KERNEL_LOG[start:]), "a grid over a join's parameters compiled code"
    assert got.shape == (2, 2, 2, n)
    for a, w in enumerate([2, 8]):
        for b, T in enumerate([20.0, 40.0]):
            for c, bounds in enumerate([[25.0, 60.0], [30.0, 61.0]]):
                first, wsd = j.children_map["s0"], inner.children_map["s0"]
                s = j.replace(boundaries=bounds, s0=first.replace(after=schedules.CosineAnnealing(T_max=T)),
                              s1=inner.replace(s0=wsd.replace(warmup_steps=w)))
                np.testing.assert_array_equal(got[a, b, c], s.learning_rates(n, BASE))


def test_a_plateau_piece_watches_only_its_own_stretch():
    n = 160
    f = np.concatenate([np.full(40, 5.0), np.linspace(1.0, 0.5, 30), np.full(90, 0.5)])
    plateau = schedules.ReduceOnPlateau(factor=0.5, patience=4)
    j = schedules.Join(schedules=[schedules.Exponential(gamma=0.99), plateau], boundaries=[50])
    got = eff_lrs(j, n, losses=f)
    np.testing.assert_array_equal(got, j.learning_rates(n, BASE, losses=f))
    ref = np.concatenate([[rs.exponential_lr(k, BASE, 0.99) for k in range(50)],
                          rs.plateau_lrs(f[50:], BASE, factor=0.5, patience=4)])
    assert_rel(got, ref, rtol=1e-15)


def test_join_spec_round_trip_and_its_errors():
    j = schedules.Join(schedules=[schedules.WSD(total_steps=30), schedules.Constant(),
                                  schedules.LinearLR(total_iters=3)], boundaries=[30, 40])
    assert registry.build("schedule", j.spec()) == j
    assert j.replace(s1=schedules.Exponential(gamma=0.9)).children_map["s1"] == schedules.Exponential(gamma=0.9)
    assert [type(c).__name__ for c in j.children()] == ["WSD", "Constant", "LinearLR"]
    with pytest.raises(ParameterError, match="3 schedules need 2 boundaries"):
        j.replace(boundaries=[30])
    with pytest.raises(ParameterError, match="increasing order"):
        j.replace(boundaries=[40, 30])
    with pytest.raises(ParameterError, match="at least two"):
        schedules.Join(schedules=[schedules.Constant()], boundaries=[])
    assert np.all(schedules.Join().learning_rates(150, BASE) == BASE)
    with pytest.raises(ParameterError, match="s0, s1"):
        schedules.Join(s0=schedules.Constant(), s2=schedules.Constant(), boundaries=[3])
    with pytest.raises(ParameterError, match="must be a schedule"):
        schedules.Join(schedules=[schedules.Constant(), optimizers.SGD()], boundaries=[3])


def test_a_join_in_a_configuration():
    from optsim.config import parse_config

    kwargs = parse_config("""
[problem]
name = "quadratic"
[optimizer]
name = "sgd"
lr = 0.1
[schedule]
name = "join"
boundaries = [10, 30]
s0 = { name = "linear_lr", start_factor = 0.1, total_iters = 10 }
s1 = { name = "wsd", total_steps = 20, decay_fraction = 0.5, shape = "1-sqrt" }
s2 = { name = "join", boundaries = [5], s0 = { name = "constant" }, s1 = { name = "exponential", gamma = 0.9 } }
[run]
steps = 10
""")
    sched = kwargs["schedule"]
    assert [type(c).__name__ for c in sched.children()] == ["LinearLR", "WSD", "Join"]
    assert sched.children_map["s2"].children_map["s1"].gamma == 0.9


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.WSD(total_steps=100, decay_steps=101), "decay_steps=101"),
    (lambda: schedules.WSD(total_steps=100, warmup_steps=95, decay_fraction=0.1), "warmup_steps=95"),
    (lambda: schedules.WSD(shape="sqrt"), "shape='sqrt'"),
    (lambda: schedules.WarmupCosine(warmup_steps=50, decay_steps=50), "decay_steps=50"),
    (lambda: schedules.WarmupCosine(alpha=0.1, end_value=0.01), "alpha=0.1 and end_value=0.01"),
    (lambda: schedules.SGDR(decay_steps=[10, 20], warmup_steps=[1, 2, 3]), "warmup_steps has 3 values"),
    (lambda: schedules.SGDR(decay_steps=[10, 20], warmup_steps=[10]), r"decay_steps\[0\]=10"),
    (lambda: schedules.LinearLR(start_factor=0.0), "start_factor=0.0"),
    (lambda: schedules.PiecewiseInterpolate(boundaries=[3, 3], scales=[1.0, 2.0]), "twice"),
    (lambda: schedules.PiecewiseConstant(boundaries=[3], scales=[1.0, 2.0]), "one scale per boundary"),
])
def test_bad_values_fail_in_one_line(make, match):
    with pytest.raises(ParameterError, match=match) as e:
        make()
    assert "\n" not in str(e.value)


# -- any hyperparameter: Adam's beta1 on every new schedule -------------------------------------

CURV = np.array([0.5, 2.0, 8.0])
X0 = np.array([1.0, -2.0, 0.5])
STEPS = 100
BETA_SCHEDULES = {
    "wsd": schedules.WSD(total_steps=80, warmup_steps=10, decay_fraction=0.3, shape="1-sqrt", final_factor=0.5,
                         warmup_start=0.6),
    "warmup_cosine": schedules.WarmupCosine(warmup_steps=10, decay_steps=60, init_value=0.5, end_value=0.3),
    "warmup_cosine_keras": schedules.WarmupCosine(warmup_steps=10, decay_steps=60, init_value=0.5, alpha=0.4,
                                                  convention="keras"),
    "sgdr": schedules.SGDR(decay_steps=[30, 50], warmup_steps=[5, 0], init_values=[0.5], end_values=[0.2]),
    "linear_lr": schedules.LinearLR(start_factor=0.5, end_factor=0.9, total_iters=40),
    "piecewise_interpolate": schedules.PiecewiseInterpolate(interpolation="cosine", boundaries=[20, 60],
                                                            scales=[0.5, 1.8]),
    "piecewise_constant": schedules.PiecewiseConstant(boundaries=[20, 60], scales=[0.5, 1.8]),
    "join": schedules.Join(schedules=[schedules.LinearLR(start_factor=0.5, total_iters=20),
                                      schedules.WSD(total_steps=50, decay_fraction=0.5, final_factor=0.6)],
                           boundaries=[30]),
}


class AdamRef:
    """Adam (Kingma & Ba 2015) with beta1 of step t given by ``betas[t - 1]``; the bias correction
    uses the current beta1, as optax's and optsim's."""

    def __init__(self, lr, betas, beta2=0.999, eps=1e-8):
        self.lr, self.betas, self.b2, self.eps = lr, betas, beta2, eps
        self.m = self.v = 0.0

    def __call__(self, x, g, t):
        b1, b2 = self.betas[t - 1], self.b2
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        return x - (self.lr / (1 - b1**t)) * self.m / (np.sqrt(self.v) / math.sqrt(1 - b2**t) + self.eps)


@pytest.mark.parametrize("name", list(BETA_SCHEDULES))
def test_every_new_schedule_drives_adams_beta1(name):
    sched = BETA_SCHEDULES[name]
    betas = sched.learning_rates(STEPS, 0.95)
    assert np.ptp(betas) > 0.1 and np.all((betas >= 0) & (betas < 1))
    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    ds = optsim.sweep(prob, Method(optimizers.Adam(lr=0.05, beta1=0.95), schedules={"beta1": sched}), steps=STEPS,
                      record_every=1, record=("params",))
    got = ds["params"].values.reshape(STEPS + 1, -1)
    rule = AdamRef(0.05, betas)
    x = X0.copy()
    ref = [x.copy()]
    for k in range(STEPS):
        x = rule(x, CURV * x, k + 1)
        ref.append(x.copy())
    assert_rel(got, np.array(ref), rtol=1e-12, atol=1e-300)


def test_a_join_on_beta1_grids_without_recompiling():
    from optsim.engine.codegen import KERNEL_LOG

    prob = problems.Quadratic(curvatures=CURV, x0=X0)
    m = Method(optimizers.Adam(lr=0.05, beta1=0.95), schedules={"beta1": BETA_SCHEDULES["join"]})
    optsim.sweep(prob, m, steps=10, grid={"schedules.beta1.s1.final_factor": [0.6]})
    start = len(KERNEL_LOG)
    ds = optsim.sweep(prob, m, steps=10, grid={"schedules.beta1.s1.final_factor": [0.3, 0.8],
                                               "schedules.beta1.boundaries": [[3.0], [30.0]], "beta1": [0.9, 0.99]})
    assert not any(e["compiled"] for e in KERNEL_LOG[start:])
    assert ds.loss.shape[:3] == (2, 2, 2)
