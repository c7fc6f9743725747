"""ADOPT, AdaBelief, Yogi, LaProp, Adan, Rprop, NovoGrad, LAMB and LARS against their NumPy
oracles (tests/reference/rules_elem.py), open and closed loop, over their options."""

import numpy as np
import pytest

import optsim
from optsim import ParameterError, optimizers

from reference import rules_elem as re_
from reference.loops import run, run_open
from test_rules_adam import (STEPS, X0, closed_loop_mismatches, gradient_sequence, open_loop_mismatches, quadratic,
                             quadratic_oracle, relerr, sweep_cases)
from reference.problems import ReplayGradients

BASE = dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-3)
ADAN = dict(lr=0.01, beta1=0.8, beta2=0.7, beta3=0.95, eps=1e-3)

CASES = {
    "adopt": (optimizers.ADOPT, re_.ADOPTRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, clip=False),
        dict(BASE, clip_step="current"),
        dict(BASE, clip_exponent=0.5, eps=1e-8),
        dict(BASE, weight_decay=0.05),
        dict(BASE, weight_decay=0.05, decouple=True),
        dict(BASE, weight_decay=0.05, decouple=True, decay_first_step=True, clip_step="current"),
        dict(BASE, weight_decay=0.05, decouple=True, fixed_decay=True),
        dict(BASE, nesterov=True),
        dict(BASE, maximize=True, weight_decay=0.01),
    ]),
    "adabelief": (optimizers.AdaBelief, re_.AdaBeliefRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, eps_root=1e-5),
        dict(BASE, weight_decay=0.05),
        dict(BASE, weight_decay=0.05, fixed_decay=True),
        dict(BASE, weight_decay=0.05, weight_decouple=False),
        dict(BASE, amsgrad=True),
        dict(BASE, rectify=True, weight_decay=0.05),
        dict(BASE, rectify=True, degenerated_to_sgd=False),
        dict(BASE, rectify=True, n_sma_threshold=4.0, amsgrad=True),
        dict(BASE, nesterov=True, eps_root=0.0),
        dict(BASE, maximize=True),
    ]),
    "yogi": (optimizers.Yogi, re_.YogiRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, initial_accumulator=0.5),
        dict(BASE, init_m=False, initial_accumulator=0.0),
        dict(BASE, eps_root=1e-4),
        dict(BASE, bias_correction=False),
        dict(BASE, weight_decay=0.05),
        dict(BASE, weight_decay=0.05, fixed_decay=True),
        dict(BASE, weight_decay=0.05, weight_decouple=False, maximize=True),
    ]),
    "laprop": (optimizers.LaProp, re_.LaPropRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, eps_mode="sqrt_v", eps_root=1e-6),
        dict(BASE, weight_decay=0.05),
        dict(BASE, weight_decay=0.05, fixed_decay=False),
        dict(BASE, weight_decay=0.05, weight_decouple=False),
        dict(BASE, centered=True),
        dict(BASE, centered=True, steps_before_using_centered=3, amsgrad=True),
        dict(BASE, centered=True, amsgrad=True, ams_during_centered_warmup=True),
        dict(BASE, amsgrad=True, lr_weighted_correction=False),
        dict(BASE, maximize=True),
    ]),
    "adan": (optimizers.Adan, re_.AdanRef, [
        dict(lr=0.01),
        dict(ADAN),
        dict(ADAN, diff_coefficient="one_minus_beta2"),
        dict(ADAN, eps_root=1e-4),
        dict(ADAN, weight_decay=0.05),
        dict(ADAN, weight_decay=0.05, no_prox=True),
        dict(ADAN, bias_correction=False),
        dict(ADAN, maximize=True, weight_decay=0.01),
    ]),
    "rprop": (optimizers.Rprop, re_.RpropRef, [
        dict(lr=0.01),
        dict(lr=0.003, eta_minus=0.3, eta_plus=1.5, step_size_min=1e-4, step_size_max=0.05),
        dict(lr=0.01, form="optax"),
        dict(lr=0.003, eta_minus=0.3, eta_plus=1.5, step_size_min=1e-4, step_size_max=0.05, form="optax"),
        dict(lr=1e-7, step_size_min=1e-5),  # torch clamps the initial step size on its first step, optax not
        dict(lr=1e-7, step_size_min=1e-5, form="optax"),
        dict(lr=0.01, maximize=True),
        dict(lr=0.01, form="backtracking"),
        dict(lr=0.003, eta_minus=0.3, eta_plus=1.5, step_size_min=1e-4, step_size_max=0.05, form="backtracking",
             maximize=True),
    ]),
    "novograd": (optimizers.NovoGrad, re_.NovoGradRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, beta2=0.25, eps_root=1e-4),
        dict(BASE, weight_decay=0.05),
        dict(BASE, weight_decay=0.05, weight_decouple=True),
        dict(BASE, weight_decay=0.05, weight_decouple=True, fixed_decay=True),
        dict(BASE, grad_averaging=True),
        dict(BASE, maximize=True),
    ]),
    "lamb": (optimizers.LAMB, re_.LAMBRef, [
        dict(lr=0.01),
        dict(BASE),
        dict(BASE, eps_root=1e-4, weight_decay=0.05),
        dict(BASE, weight_decay=0.05, weight_decouple=True),
        dict(BASE, weight_decay=0.05, weight_decouple=True, fixed_decay=True, bias_correction="step_size",
             grad_averaging=False),
        dict(BASE, bias_correction="step_size", max_weight_norm=0.3, trust_eps=1e-3),
        dict(BASE, bias_correction="none", weight_decay=0.05),
        dict(BASE, maximize=True),
    ]),
    "lars": (optimizers.LARS, re_.LARSRef, [
        dict(lr=0.01),
        dict(lr=0.5, momentum=0.8, weight_decay=0.05, trust_coefficient=0.02),
        dict(lr=0.5, momentum=0.8, weight_decay=0.05, trust_coefficient=0.02, ratio_form="update", eps=1e-3),
        dict(lr=0.5, momentum=0.8, weight_decay=0.05, trust_coefficient=0.02, lr_in_buffer=True, nesterov=True),
        dict(lr=0.5, momentum=0.8, dampening=0.3, trust_coefficient=0.02, eps=0.1),
        dict(lr=0.5, momentum=0.0, weight_decay=0.05, trust_coefficient=0.02),
        dict(lr=0.005, momentum=0.8, weight_decay=0.05, exclude_vectors=True),
        dict(lr=0.5, trust_coefficient=0.02, maximize=True),
    ]),
}

# the layer-wise rules on a parameter of three blocks (a 2x3 and a 4x2 matrix and a bias vector)
LAYERED = ("novograd", "lamb", "lars")
SHAPES = {"A": (2, 3), "B": (4, 2), "bias": (3,)}
SLICES = [slice(0, 6), slice(6, 14), slice(14, 17)]


class ShapedReplay(ReplayGradients):
    """The replay problem with the parameter as three blocks."""

    def param_shapes(self):
        return dict(SHAPES)


def layered_gradients(steps=STEPS, seed=11):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, 17)) * np.repeat([0.1, 3.0, 30.0], [6, 8, 3])
    G[20:25, 6:14] = 0.0  # a block with a zero gradient: its norm is 0
    return G


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_loop_matches_oracle(name):
    bad = closed_loop_mismatches(*CASES[name])
    assert not bad, bad


@pytest.mark.parametrize("name", sorted(CASES))
def test_open_loop_matches_oracle(name):
    bad = open_loop_mismatches(*CASES[name])
    assert not bad, bad


@pytest.mark.parametrize("name", LAYERED)
def test_layerwise_rules_match_the_oracle_per_block(name):
    cls, oracle, cases = CASES[name]
    G = layered_gradients()
    x0 = np.linspace(-1.0, 1.0, 17)
    got = sweep_cases(cls(), cases, ShapedReplay(grads=G, x0=x0))
    bad = {}
    for i, kw in enumerate(cases):
        extra = dict(vector_blocks=(2,)) if name == "lars" else {}
        xs = run_open(oracle(**kw, blocks=SLICES, **extra), G, x0, kw["lr"])
        e = relerr(got[i], xs)
        if not e <= 1e-12:
            bad[str(kw)] = e
    assert not bad, bad


# -- ADOPT -------------------------------------------------------------------------------------


def test_adopt_first_step_only_sets_v_and_the_clip_steps_differ_at_step_two():
    """g = (3, 3, ...): no move at t = 1; at t = 2 n = 1 everywhere (sqrt(v_1) = 3), so the clip
    does not bite; a gradient 10 times larger is clipped to 1 ('previous', c = 1^0.25) or 2^0.25."""
    G = np.array([[3.0], [30.0]])
    out = {}
    for form in ("previous", "current"):
        ds = optsim.sweep(ReplayGradients(grads=G, x0=[0.0]), optimizers.ADOPT(lr=1.0, beta1=0.5, clip_step=form),
                          steps=2, record_every=1, record=("params",))
        out[form] = ds.params.values[0, :, 0]
    assert out["previous"][1] == 0.0 and out["current"][1] == 0.0
    assert out["previous"][2] == pytest.approx(-0.5 * 1.0, rel=1e-15)
    assert out["current"][2] == pytest.approx(-0.5 * 2 ** 0.25, rel=1e-15)


def test_bad_options_are_refused_by_name():
    with pytest.raises(ParameterError, match="clip_step"):
        optimizers.ADOPT(clip_step="next")
    with pytest.raises(ParameterError, match="beta2"):
        optimizers.ADOPT(beta2=1.0)


# -- LaProp ------------------------------------------------------------------------------------


def test_laprop_lr_weighted_correction_follows_the_schedule():
    """Under a step schedule the authors' correction L_t / lr_t differs from 1 - beta1^t."""
    from optsim import schedules
    from reference.schedules import step_lr

    cases = [dict(BASE), dict(BASE, lr_weighted_correction=False)]
    got = sweep_cases(optimizers.LaProp(), cases, quadratic(), schedule=schedules.StepDecay(step_size=7, gamma=0.5))
    grad, loss = quadratic_oracle()
    xs = [run(re_.LaPropRef(**kw), grad, loss, X0, STEPS, kw["lr"], schedule=step_lr(7, 0.5))[0] for kw in cases]
    assert relerr(got[0], xs[0]) <= 1e-12 and relerr(got[1], xs[1]) <= 1e-12
    assert relerr(xs[0], xs[1]) > 1e-6


# -- Rprop -------------------------------------------------------------------------------------


def test_rprop_optax_form_is_torch_one_update_late_while_the_sign_holds():
    G = np.ones((6, 1))
    out = sweep_cases(optimizers.Rprop(lr=0.01), [dict(form="torch"), dict(form="optax")],
                      ReplayGradients(grads=G, x0=[0.0]), steps=6)
    np.testing.assert_allclose(out[0][:, 0], -0.01 * np.concatenate([[0.0], np.cumsum(1.2 ** np.arange(6))]),
                               rtol=1e-14)
    np.testing.assert_array_equal(out[1][1:, 0], out[0][:-1, 0])


def test_rprop_ignores_the_learning_rate_schedule():
    from optsim import schedules

    G = gradient_sequence()
    prob = ReplayGradients(grads=G, x0=X0)
    a = optsim.sweep(prob, optimizers.Rprop(lr=0.01), steps=STEPS, record_every=1, record=("params",))
    b = optsim.sweep(prob, optimizers.Rprop(lr=0.01), schedule=schedules.StepDecay(step_size=7, gamma=0.5),
                     steps=STEPS, record_every=1, record=("params",))
    np.testing.assert_array_equal(a.params.values, b.params.values)


# -- the libraries' conventions are real differences ---------------------------------------------

FLIPS = [  # (golden case, the option set back to another library's or the default form)
    ("pytorch_optimizer_adopt_open", dict(clip_step="previous")),
    ("pytorch_optimizer_adopt_decouple_closed", dict(decay_first_step=False)),
    ("optax_contrib_adopt_nesterov_open", dict(nesterov=False)),
    ("adabelief_authors_rectify_open", dict(rectify=False)),
    ("optax_adabelief_nesterov_open", dict(nesterov=False)),
    ("optax_scale_by_yogi_open", dict(initial_accumulator=1e-6)),
    ("pytorch_optimizer_laprop_open", dict(eps_mode="sqrt_vhat", eps_root=0.0)),
    ("pytorch_optimizer_laprop_open", dict(fixed_decay=True)),
    ("laprop_authors_steplr_open", dict(lr_weighted_correction=False)),
    ("pytorch_optimizer_laprop_centered_ams_open", dict(ams_during_centered_warmup=False)),
    ("optax_adan_open", dict(diff_coefficient="beta2")),
    ("adan_authors_open", dict(no_prox=True)),
    ("optax_rprop_open", dict(form="torch")),
    ("pytorch_optimizer_lamb_open", dict(bias_correction="update")),
    ("pytorch_optimizer_lamb_open", dict(weight_decouple=False)),
    ("keras_lamb_decay_open", dict(weight_decouple=False)),
    ("optax_lars_open", dict(ratio_form="paper")),
    ("pytorch_optimizer_lars_vector_open", dict(exclude_vectors=False)),
    ("pytorch_optimizer_novograd_averaging_open", dict(grad_averaging=False)),
]


@pytest.mark.parametrize("case, flip", FLIPS, ids=[f"{c}-{next(iter(f))}" for c, f in FLIPS])
def test_each_convention_option_changes_the_library_trajectory(case, flip):
    """The golden file matches with its option set (tests/test_golden.py) and misses without it."""
    from golden import fixtures
    from test_golden import optsim_trajectory

    meta, arrays = fixtures.load(fixtures.ROOT / "optimizers" / f"{case}.npz")
    meta = dict(meta, optimizer=dict(meta["optimizer"], **flip))
    assert relerr(optsim_trajectory(meta, arrays), arrays["xs"]) > 1e-6


@pytest.mark.parametrize("name, kw", [
    ("novograd", dict(lr=0.05, beta1=0.8, beta2=0.5, weight_decay=0.01)),
    ("lamb", dict(lr=0.05, beta1=0.8, beta2=0.99, eps=1e-3, weight_decay=0.01)),
    ("lars", dict(lr=0.5, momentum=0.8, weight_decay=0.01, trust_coefficient=0.05, exclude_vectors=True)),
])
def test_layerwise_rules_closed_loop_on_matrix_regression(name, kw):
    """W (3 x 5) and b are two layers: the closed loop against the oracle with the blocks' slices."""
    cls, oracle, _ = CASES[name]
    prob = optsim.problems.MatrixRegression(n_out=3, n_in=5, n_train=40, l2=0.01, x0=np.linspace(-0.5, 0.5, 18))
    X, Y = prob.data()

    def grad(x):
        W, b = x[:15].reshape(3, 5), x[15:]
        R = X @ W.T + b - Y
        return np.concatenate([(R.T @ X / X.shape[0] + 0.01 * W).ravel(), R.mean(axis=0)])

    ds = optsim.sweep(prob, cls(**kw), steps=50, record_every=1, record=("params", "loss"))
    extra = dict(vector_blocks=(1,)) if name == "lars" else {}
    xs, _ = run(oracle(**kw, blocks=[slice(0, 15), slice(15, 18)], **extra), grad, None, prob.start_point(), 50,
                kw["lr"])
    assert relerr(ds.params.values.reshape(51, -1), xs) <= 1e-12
    loss = ds.loss.values.ravel()
    assert loss[-1] < loss[0]


def test_every_new_rule_reports_a_finite_eff_lr():
    for name in sorted(CASES):
        ds = optsim.sweep(quadratic(), CASES[name][0](lr=0.01), steps=30, record_every=1, record=("eff_lr",))
        eff = ds.eff_lr.isel(step=slice(1, None)).values
        assert np.all(np.isfinite(eff)) and np.all(eff >= 0), name


def test_rprop_backtracking_takes_the_last_step_back_at_a_sign_change():
    G = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    out = sweep_cases(optimizers.Rprop(lr=0.1, form="backtracking"), [dict()], ReplayGradients(grads=G, x0=[0.0]),
                      steps=4)[0][:, 0]
    np.testing.assert_allclose(out, [0.0, -0.1, -0.22, -0.1, -0.1 + 0.06], rtol=1e-14)


def test_laprop_scalar_is_right_for_every_replicate_of_a_block():
    """LaProp's lr_avg is one scalar per block of replicates: each noisy replicate follows the oracle."""
    from optsim import noise, schedules
    from reference.schedules import step_lr

    kw = dict(BASE, centered=True)
    ds = optsim.sweep(quadratic(), optimizers.LaProp(**kw), schedule=schedules.StepDecay(step_size=7, gamma=0.5),
                      noise=noise.Gaussian(sigma=0.3), replicates=3, steps=STEPS, record_every=1,
                      record=("params",), seed=5)
    grad, loss = quadratic_oracle()
    for r in range(3):
        xs, _ = run(re_.LaPropRef(**kw), grad, loss, X0, STEPS, kw["lr"], schedule=step_lr(7, 0.5), sigma=0.3,
                    seed=5, replicate=r)
        assert relerr(ds.params.values[r], xs) <= 1e-12, r
