"""Schedule-Free SGD and AdamW, D-Adaptation, DoG and DoWG, MARS, SPAM and Cautious against
their NumPy oracles (tests/reference/rules_adapt.py), closed and open loop, over the options."""

import numpy as np
import pytest

import optsim
from optsim import problems
from optsim._components import ParameterError
from optsim.optimizers.cautious import Cautious, cautious_class
from optsim.optimizers.dadaptation import DAdaptAdam, DAdaptSGD
from optsim.optimizers.dog import DoG, DoWG
from optsim.optimizers.mars import MARS, MARSExact
from optsim.optimizers.spam import SPAM
from optsim.optimizers.schedulefree import ScheduleFreeAdamW, ScheduleFreeSGD

from reference import rules as rr
from reference import rules_adapt as ra
from reference.loops import run, run_open
from test_rules_adam import (STEPS, X0, closed_loop_mismatches, gradient_sequence, open_loop_mismatches, quadratic,
                             quadratic_oracle, relerr)

MARS_BASE = dict(lr=0.01, beta1=0.9, beta2=0.95, gamma=0.05, eps=1e-6)
MARS_CASES = [
    dict(lr=0.003),
    dict(MARS_BASE),
    dict(MARS_BASE, weight_decay=0.1, eps_mode="pytorch_optimizer", eps_root=1e-10),
    dict(MARS_BASE, mars_type="lion", weight_decay=0.1),
    dict(MARS_BASE, max_norm=30.0, gamma=0.5),
]
SF = dict(lr=0.05, warmup_steps=10, weight_decay=0.01)

CASES = {
    "schedule_free_sgd": (ScheduleFreeSGD, lambda **kw: ra.ScheduleFreeRef(adam=False, **kw), [
        dict(lr=0.01),
        dict(SF, momentum=0.8),
        dict(SF, momentum=0.95, warmup_index="optax"),
        dict(SF, r=1.0, weight_lr_power=1.0),
        dict(SF, decay_at="z", warmup_steps=0),
        dict(lr=0.02, warmup_steps=150),  # still warming up at the end
    ]),
    "schedule_free_adamw": (ScheduleFreeAdamW, lambda **kw: ra.ScheduleFreeRef(adam=True, **kw), [
        dict(lr=0.01),
        dict(SF, beta1=0.8, beta2=0.99, eps=1e-3),
        dict(SF, beta1=0.95, warmup_index="optax"),
        dict(SF, bias_correction="lr", r=0.5),
        dict(SF, bias_correction="lr", decay_at="z", warmup_index="optax"),
        dict(SF, weight_lr_power=0.0, eps=0.0),
        dict(SF, eps=1e-3, eps_root=1e-4),
        dict(SF, eps_root=1e-4, bias_correction="lr"),
    ]),
    "dadapt_sgd": (DAdaptSGD, ra.DAdaptSGDRef, [
        dict(lr=1.0),
        dict(lr=0.5, momentum=0.9, d0=1e-3),
        dict(lr=1.0, momentum=0.5, weight_decay=0.01, growth_rate=1.05),
        dict(lr=1.0, momentum=0.9, weight_decay=0.05, decouple=True),
    ]),
    "dadapt_adam": (DAdaptAdam, ra.DAdaptAdamRef, [
        dict(lr=1.0),
        dict(lr=0.5, beta1=0.8, beta2=0.99, eps=1e-6, d0=1e-4),
        dict(lr=1.0, use_bias_correction=True, growth_rate=1.1),
        dict(lr=1.0, weight_decay=0.01),
        dict(lr=1.0, weight_decay=0.01, decouple=True, use_bias_correction=True),
    ]),
    "dog": (DoG, ra.DoGRef, [
        dict(lr=1.0),
        dict(lr=0.8, reps_rel=1e-3, eps=1e-6, weight_decay=0.01),
        dict(lr=1.0, reps_rel=1e-2, init_step="distance"),
        dict(lr=1.0, init_eta=1e-3),
    ]),
    "dowg": (DoWG, ra.DoWGRef, [
        dict(lr=1.0),
        dict(lr=0.8, eps=1e-6, weight_decay=0.01),
        dict(lr=1.0, init_estim_sq_dist=1e-2),
    ]),
    "mars": (MARS, ra.MARSRef, MARS_CASES),
    "spam": (SPAM, ra.SPAMRef, [
        dict(lr=0.01),
        dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-4, threshold=2.0, grad_accu_steps=5, update_proj_gap=30,
             warmup_epoch=10),
        dict(lr=0.01, threshold=1.5, grad_accu_steps=3, update_proj_gap=25, warmup_epoch=30, death_rate=0.5,
             weight_decay=0.05),
        dict(lr=0.01, threshold=0.0, update_proj_gap=40, warmup_epoch=0),
    ]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_loop_matches_oracle(name):
    bad = closed_loop_mismatches(*CASES[name])
    assert not bad, bad


@pytest.mark.parametrize("name", sorted(CASES))
def test_open_loop_matches_oracle(name):
    bad = open_loop_mismatches(*CASES[name])
    assert not bad, bad


# -- Schedule-Free: x is recorded, y is where the (noisy) gradient is taken ------------------


def test_schedule_free_records_the_average_and_the_gradient_point():
    """params and loss are the average x's; the state row y is the oracle's gradient point;
    Gaussian noise is drawn at y, draw for draw."""
    opt = ScheduleFreeSGD(lr=0.02, momentum=0.9, warmup_steps=5)
    ds = optsim.sweep(quadratic(), opt, noise=optsim.noise.Gaussian(sigma=0.3), steps=STEPS, record_every=1,
                      record=("params", "state", "loss"))
    grad, loss = quadratic_oracle()
    rule = ra.ScheduleFreeRef(lr=0.02, momentum=0.9, warmup_steps=5)
    xs, fs = run(rule, grad, loss, X0, STEPS, 0.02, sigma=0.3)
    assert relerr(ds["params"].values[0], xs) <= 1e-12
    assert np.allclose(ds["loss"].values[0], fs, rtol=1e-12, atol=0)
    y_last = ds["state"].sel(slot="y").values[0, -1]
    assert relerr(y_last, rule.lookahead(xs[-1])) <= 1e-12
    assert relerr(y_last, xs[-1]) > 1e-6  # y and x differ


def test_schedule_free_bad_momentum_names_the_parameter():
    with pytest.raises(ParameterError, match="momentum"):
        ScheduleFreeSGD(momentum=1.0)
    with pytest.raises(ParameterError, match="warmup_index"):
        ScheduleFreeAdamW(warmup_index="two")


# -- D-Adaptation: the early returns on zero gradients, and d approaching the distance ----------


@pytest.mark.parametrize("cls,oracle,kw", [
    (DAdaptSGD, ra.DAdaptSGDRef, dict(lr=1.0, momentum=0.5)),
    (DAdaptAdam, ra.DAdaptAdamRef, dict(lr=1.0, use_bias_correction=True)),
])
def test_dadaptation_skips_zero_gradients_at_the_start(cls, oracle, kw):
    """All-zero first gradients leave x, d and the step count alone, as the reference's early
    return; the run afterwards matches the oracle."""
    G = gradient_sequence()[:40].copy()
    G[:3] = 0.0
    xs = optsim.replay(cls(**kw), G, x0=X0)
    assert np.all(xs[:4] == np.array(X0))
    assert relerr(xs, run_open(oracle(**kw), G, X0, kw["lr"])) <= 1e-12


def test_dadaptation_d_is_a_lower_bound_on_the_distance():
    """On a deterministic quadratic d grows from d0 but stays below the distance from the
    start to the optimum (the paper's lower-bound property), for the oracle as for optsim."""
    grad, _ = quadratic_oracle()
    rule = ra.DAdaptSGDRef(d0=1e-6)
    xs = run(rule, grad, None, X0, 200, 1.0)[0]
    got = optsim.sweep(quadratic(), DAdaptSGD(d0=1e-6), steps=200, record_every=1, record=("params",))
    assert relerr(got["params"].values[0], xs) <= 1e-12
    dist = float(np.linalg.norm(np.array(X0) - np.array([0.1, 0.2, -0.3])))
    assert 1e-3 < rule.history[-1] <= dist


# -- MARS: the exact form takes two gradients on one noise sample ------------------------------


def mars_exact_oracle(kw, grad, sigma, steps=STEPS):
    """The paper's Algorithm 1: the gradients at x_{t-1} and x_{t-2} on one Gaussian draw."""
    from optsim import _rng
    from optsim.engine.codegen import STREAMS

    noise = _rng.stream_state(0, 0, STREAMS["noise0"], 0)
    rule = ra.MARSRef(**kw)
    x = np.array(X0, float)
    x_prev = x.copy()
    xs = [x.copy()]
    for t in range(1, steps + 1):
        z = sigma * np.array([_rng.normal(noise) for _ in range(x.shape[0])])
        g, g_prev = grad(x) + z, grad(x_prev) + z
        x_prev = x
        x = rule.step(x, g, t, kw["lr"], g_prev=g_prev)
        xs.append(x.copy())
    return np.array(xs)


@pytest.mark.parametrize("kw", MARS_CASES[1:4], ids=["adamw", "pytorch_optimizer_eps", "lion"])
def test_mars_exact_takes_both_gradients_on_one_noise_sample(kw):
    grad, _ = quadratic_oracle()
    ds = optsim.sweep(quadratic(), MARSExact(**kw), noise=optsim.noise.Gaussian(sigma=0.5), steps=STEPS,
                      record_every=1, record=("params",))
    assert relerr(ds["params"].values[0], mars_exact_oracle(kw, grad, 0.5)) <= 1e-12
    approx = optsim.sweep(quadratic(), MARS(**kw), noise=optsim.noise.Gaussian(sigma=0.5), steps=STEPS,
                          record_every=1, record=("params",))
    assert relerr(approx["params"].values[0], ds["params"].values[0]) > 1e-3  # the two forms differ


def test_mars_clips_each_parameter_array_on_its_own():
    """On W and b of a matrix regression the unit-norm clip is per array: the oracle run on
    each array with the gradient written in NumPy from the data."""
    problem = problems.MatrixRegression(n_out=3, n_in=4, n_train=16)
    X, Y = problem.data()[:2]
    n, q, p = X.shape[0], Y.shape[1], X.shape[1]

    def grad(x):
        W, b = x[:q * p].reshape(q, p), x[q * p:]
        R = X @ W.T + b - Y
        return np.concatenate([(R.T @ X / n).ravel(), R.mean(0)])

    kw = dict(MARS_BASE, lr=0.05, weight_decay=0.01)
    rules = [ra.MARSRef(**kw), ra.MARSRef(**kw)]
    x = np.zeros(q * p + q)
    xs = [x.copy()]
    for t in range(1, 41):
        g = grad(x)
        x = np.concatenate([rules[0].step(x[:q * p], g[:q * p], t, kw["lr"]),
                            rules[1].step(x[q * p:], g[q * p:], t, kw["lr"])])
        xs.append(x)
    ds = optsim.sweep(problem, MARS(**kw), steps=40, record_every=1, record=("params",))
    assert relerr(ds["params"].values[0], np.array(xs)) <= 1e-12
    assert np.linalg.norm(grad(np.zeros(q * p + q))[:q * p]) > 1.0  # the clip bites


# -- SPAM meets the Spikes noise ------------------------------------------------------------------


def test_spam_clips_the_spikes_that_throw_adam_off():
    """Rare dense spikes (optsim's Spikes noise, magnitude 1e3) on a noisy quadratic: SPAM's
    clipping keeps the median final loss far below Adam's at the same lr (measured: 0.014
    against 1.6; without the spikes both reach about 0.01), and the clipping is what does
    it (SPAM with threshold 0 is as bad as Adam)."""
    noise = [optsim.noise.Gaussian(sigma=0.1), optsim.noise.Spikes(p=0.02, magnitude=1e3)]
    kw = dict(lr=0.01, threshold=10.0, grad_accu_steps=5, update_proj_gap=1000)
    common = dict(noise=noise, steps=300, replicates=16, seed=3, record=("loss",))
    spam = optsim.sweep(quadratic(), SPAM(**kw), **common)["final_loss"].median().item()
    adam = optsim.sweep(quadratic(), optsim.optimizers.Adam(lr=0.01, eps=1e-6), **common)["final_loss"].median().item()
    unclipped = optsim.sweep(quadratic(), SPAM(**dict(kw, threshold=0.0)), **common)["final_loss"].median().item()
    assert spam < 0.2 * adam and spam < 0.2 * unclipped, (spam, adam, unclipped)


# -- Cautious: a wrapper over any rule ------------------------------------------------------------

CAUTIOUS_CASES = [
    ("adam", lambda: optsim.optimizers.Adam(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-3),
     lambda: rr.AdamRef(beta1=0.8, beta2=0.99, eps=1e-3), "count_plus_one"),
    ("adam_mean", lambda: optsim.optimizers.Adam(lr=0.01, beta1=0.8), lambda: rr.AdamRef(beta1=0.8), "mean"),
    ("lion", lambda: optsim.optimizers.Lion(lr=0.003, weight_decay=0.0), lambda: rr.LionRef(weight_decay=0.0),
     "count_plus_one"),
    ("sgd_momentum", lambda: optsim.optimizers.SGD(lr=0.005, momentum=0.9),
     lambda: rr.SGDRef(momentum=0.9), "none"),
    ("mars", lambda: MARS(**MARS_BASE), lambda: ra.MARSRef(**MARS_BASE), "count_plus_one"),
    ("dadapt_adam", lambda: DAdaptAdam(lr=1.0), lambda: ra.DAdaptAdamRef(), "mean"),
]


@pytest.mark.parametrize("case", CAUTIOUS_CASES, ids=[c[0] for c in CAUTIOUS_CASES])
def test_cautious_wraps_any_rule(case):
    _, make, oracle, norm = case
    opt = Cautious(make(), normalization=norm)
    grad, loss = quadratic_oracle()
    G = gradient_sequence()
    closed = optsim.sweep(quadratic(), opt, steps=STEPS, record_every=1, record=("params",))["params"].values[0]
    rule = ra.CautiousRef(oracle(), norm)
    assert relerr(closed, run(rule, grad, loss, X0, STEPS, opt.lr)[0]) <= 1e-12
    opened = optsim.replay(opt, G, x0=X0)
    rule = ra.CautiousRef(oracle(), norm)
    assert relerr(opened, run_open(rule, G, X0, opt.lr)) <= 1e-12
    assert any(0.0 < k < 1.0 for k in rule.kept)  # the mask bites somewhere


def test_cautious_keeps_the_rules_hyperparameters_and_refuses_bad_input():
    opt = Cautious(optsim.optimizers.Adam(lr=0.02, betas=(0.7, 0.9)))
    assert type(opt) is cautious_class(optsim.optimizers.Adam)
    assert (opt.lr, opt.beta1, opt.beta2, opt.normalization) == (0.02, 0.7, 0.9, "count_plus_one")
    assert type(opt).name == "cautious_adam" and type(opt).slot_names[-2:] == ("x_before", "mask_grad")
    with pytest.raises(ParameterError, match="normalization"):
        Cautious(optsim.optimizers.Adam(), normalization="median")
    with pytest.raises(ParameterError, match="Cautious"):
        Cautious("adam")
    with pytest.raises(ParameterError, match="already cautious"):
        Cautious(opt)


def test_cautious_exact_masks_with_the_noise_free_gradient():
    """exact=True: the engine writes the gradient without noise into the mask row; under
    Gaussian noise the trajectory is the oracle's with the noise-free gradient in the mask
    (draw for draw), and it differs from the observed-gradient mask."""
    opt = Cautious(optsim.optimizers.Adam(lr=0.01, beta1=0.8), exact=True)
    assert type(opt).name == "cautious_exact_adam" and type(opt).exact_gradient_row == "mask_grad"
    grad, loss = quadratic_oracle()
    noise = optsim.noise.Gaussian(sigma=3.0)
    ds = optsim.sweep(quadratic(), opt, noise=noise, steps=STEPS, record_every=1, record=("params", "loss"))
    rule = ra.CautiousRef(rr.AdamRef(beta1=0.8), exact_grad=grad)
    xs, fs = run(rule, grad, loss, X0, STEPS, 0.01, sigma=3.0)
    assert relerr(ds["params"].values[0], xs) <= 1e-12
    observed = optsim.sweep(quadratic(), Cautious(optsim.optimizers.Adam(lr=0.01, beta1=0.8)), noise=noise,
                            steps=STEPS, record_every=1, record=("params",))
    assert relerr(observed["params"].values[0], xs) > 1e-3
    # without noise the two masks are the same
    a = optsim.sweep(quadratic(), opt, steps=30, record_every=1, record=("params",))["params"].values
    b = optsim.sweep(quadratic(), Cautious(optsim.optimizers.Adam(lr=0.01, beta1=0.8)), steps=30, record_every=1,
                     record=("params",))["params"].values
    assert relerr(a[0], b[0]) <= 1e-14
    from optsim import registry
    assert registry.get("optimizer", "cautious_exact_adam") is type(opt)
