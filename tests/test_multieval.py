"""Several gradient evaluations per step (``Optimizer.evaluations``, ``point``) and SAM.

SAM is checked against a NumPy oracle on a quadratic, without noise and with Gaussian
noise drawn from the kernels' own streams (the same draw at both points, or two draws).
A probe rule that keeps both gradients of a step in its state shows that ``same_noise``
evaluates the second point on the same sample (additive noise: g(y) - g(x) = H (y - x);
a minibatch: the same rows) and independent draws on another, with common random numbers
across cells either way.
"""

import numpy as np
import pytest
from numba import njit

import optsim
from optsim import _rng, noise, problems
from optsim._components import Param, layout, param_layout
from optsim._roles import Optimizer
from optsim.engine.codegen import STREAMS
from optsim.optimizers import NAG, SAM, SGD

from reference import rules as ref
from reference.loops import run as ref_run
from toy_problems import ToyLeastSquares

CURV = np.array([1.0, 3.0, 0.5])
CENTER = np.array([0.2, -0.1, 0.4])
X0 = np.array([1.0, -1.0, 0.7])
QUAD = problems.Quadratic(curvatures=CURV.tolist(), center=CENTER.tolist(), x0=X0.tolist())
STEPS = 50


def grad(x):
    return CURV * (x - CENTER)


def sam_oracle(rule, lr, steps=STEPS, sigma=0.0, same=True, seed=0, replicate=0, cell=0):
    """The parameters after each step, with the kernels' Gaussian draws where ``sigma`` > 0."""
    stream = _rng.stream_state(seed, replicate, STREAMS["noise0"], cell)
    draw = lambda: np.array([_rng.normal(stream) for _ in range(len(X0))])  # noqa: E731
    x = X0.copy()
    xs = [x.copy()]
    for t in range(1, steps + 1):
        z = draw() if sigma else 0.0
        g0 = grad(x) + sigma * z
        y = rule.ascent(x, g0)
        if sigma and not same:
            z = draw()
        g1 = grad(y) + sigma * z
        x = rule.step(x, g1, t, lr)
        xs.append(x.copy())
    return np.array(xs)


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


CASES = [
    dict(lr=0.1, rho=0.05),
    dict(lr=0.05, rho=0.1, momentum=0.9),
    dict(lr=0.05, rho=0.02, momentum=0.8, dampening=0.1, weight_decay=0.01),
    dict(lr=0.05, rho=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, rho=0.5, adaptive=True, momentum=0.5),
]


@pytest.mark.parametrize("case", CASES)
def test_sam_matches_the_oracle_without_noise(case):
    ds = optsim.sweep(QUAD, SAM(**case), steps=STEPS, record_every=1, record=("params",))
    kw = {k: v for k, v in case.items() if k != "lr"}
    want = sam_oracle(ref.SAMRef(**kw), case["lr"])
    assert rel_err(ds.params.values.reshape(-1, len(X0)), want) <= 1e-12


@pytest.mark.parametrize("case", [dict(lr=0.01, rho=0.05, momentum=0.9, weight_decay=0.01),
                                  dict(lr=0.02, rho=0.2, adaptive=True)])
def test_sam_maximize_matches_the_oracle(case):
    """``maximize``: SAM on -f, ascending the quadratic (a few steps, before it runs off)."""
    ds = optsim.sweep(QUAD, SAM(maximize=True, **case), steps=10, record_every=1, record=("params",),
                      diverge_factor=np.inf)
    kw = {k: v for k, v in case.items() if k != "lr"}
    want = sam_oracle(ref.SAMRef(maximize=True, **kw), case["lr"], steps=10)
    assert rel_err(ds.params.values.reshape(-1, len(X0)), want) <= 1e-12
    assert np.all(np.abs(want[-1] - CENTER) > np.abs(X0 - CENTER))  # it climbed


@pytest.mark.parametrize("same", [True, False])
def test_sam_with_gaussian_noise_matches_the_oracle(same):
    case = dict(lr=0.05, rho=0.05, momentum=0.9)
    ds = optsim.sweep(QUAD, SAM(same_noise=same, **case), noise=noise.Gaussian(sigma=0.3), steps=STEPS,
                      replicates=2, seed=7, record_every=1, record=("params",))
    got = ds.params.values.reshape(2, STEPS + 1, len(X0))
    for r in range(2):
        want = sam_oracle(ref.SAMRef(rho=0.05, momentum=0.9), 0.05, sigma=0.3, same=same, seed=7, replicate=r)
        assert rel_err(got[r], want) <= 1e-12


def test_sam_is_two_evaluations_and_not_elementwise():
    assert SAM.evaluations == 2 and not SAM.elementwise
    assert SAM().same_noise is True


# -- a probe rule: both gradients of a step in its state -----------------------------------------

PROBE_PARAMS = (
    Param("lr", 0.05, "learning rate", low=0.0, low_open=True),
    Param("shift", 0.1, "the second point is x + shift * (1, 2, ...)"),
    Param("same_noise", True, "the second gradient on the same sample", kind="bool"),
)
PH = param_layout(PROBE_PARAMS, "ProbeParams")
PS = layout(("g0", "g1", "step"), "ProbeSlots")


@njit(cache=True)
def probe_init(x, S, sc, hp):
    pass


@njit(cache=True)
def probe_point(x, g_prev, S, sc, t, k, hp, y):
    for i in range(x.shape[0]):
        if k == 1:
            S[PS.g0, i] = g_prev[i]
            S[PS.step, i] = hp[PH.shift] * (i + 1)
            y[i] = x[i] + S[PS.step, i]
        else:
            y[i] = x[i]


@njit(cache=True)
def probe_step(x, g, S, sc, t, lr, hp):
    for i in range(x.shape[0]):
        S[PS.g1, i] = g[i]
        x[i] = x[i] - lr * g[i]


@njit(cache=True)
def probe_eff_lr(S, sc, t, lr, hp, out):
    for i in range(out.shape[0]):
        out[i] = lr


class TwoPointProbe(Optimizer):
    """Gradient descent with the gradient at x + shift; keeps both gradients of the step."""

    name = "two_point_probe"
    params = PROBE_PARAMS
    kernels = {"init": probe_init, "step": probe_step, "eff_lr": probe_eff_lr, "point": probe_point}
    slots = len(PS)
    slot_names = tuple(PS._fields)
    evaluations = 2
    same_noise_param = "same_noise"


class BlockedTwoPointProbe(TwoPointProbe):
    """The probe, advanced in blocks of replicates."""

    name = "blocked_two_point_probe"
    elementwise = True


def probe_gradients(problem, nz, shift, same, replicates=2, lrs=(0.05,), cls=TwoPointProbe):
    ds = optsim.sweep(problem, cls(shift=shift, same_noise=same), noise=nz, steps=10,
                      replicates=replicates, grid={"lr": list(lrs)}, record_every=1, record=("state",))
    st = ds.state.values.reshape(len(lrs), replicates, 11, len(PS), -1)
    return st[..., PS.g0, :], st[..., PS.g1, :], st[..., PS.step, :]


def test_same_noise_takes_the_second_gradient_on_the_same_draw():
    g0, g1, step = probe_gradients(QUAD, noise.Gaussian(sigma=0.5), 0.1, True)
    np.testing.assert_allclose((g1 - g0)[..., 1:, :], (CURV * step)[..., 1:, :], rtol=0, atol=1e-12)
    i0, i1, _ = probe_gradients(QUAD, noise.Gaussian(sigma=0.5), 0.1, False)
    assert np.min(np.abs((i1 - i0 - CURV * step)[..., 1:, :])) > 1e-6  # another draw
    # the first draw of a step is the same either way at step 1, and common to the cells
    np.testing.assert_array_equal(g0[:, :, 1], i0[:, :, 1])
    c0, _, _ = probe_gradients(QUAD, noise.Gaussian(sigma=0.5), 0.1, True, lrs=(0.05, 0.01))
    np.testing.assert_array_equal(c0[0, :, 1], c0[1, :, 1])
    assert np.all(c0[0, 0, 1] != c0[0, 1, 1])  # replicates draw apart


@pytest.mark.parametrize("replace", [False, True])
def test_same_noise_takes_the_second_gradient_on_the_same_minibatch(replace):
    prob = ToyLeastSquares(n=9, d=3, seed=2)
    mb = noise.Minibatch(batch_size=3, with_replacement=replace)
    g0, g1, _ = probe_gradients(prob, mb, 0.0, True)
    np.testing.assert_array_equal(g0[..., 1:, :], g1[..., 1:, :])
    i0, i1, _ = probe_gradients(prob, mb, 0.0, False)
    assert np.any(i0[..., 1:, :] != i1[..., 1:, :])
    np.testing.assert_array_equal(g0[..., 1, :], i0[..., 1, :])


# -- the rules with one evaluation are unchanged -------------------------------------------------


@pytest.mark.parametrize("sigma", [0.0, 0.3])
def test_one_evaluation_rules_still_match_their_oracles(sigma):
    for rule, oracle in ((NAG(lr=0.01, momentum=0.9), ref.NAGRef(momentum=0.9)),
                         (SGD(lr=0.05, momentum=0.9), ref.SGDRef(momentum=0.9))):
        ds = optsim.sweep(QUAD, rule, noise=noise.Gaussian(sigma=sigma) if sigma else None, steps=STEPS,
                          seed=3, record_every=1, record=("params",))
        xs, _ = ref_run(oracle, grad, None, X0, STEPS, rule.lr, sigma=sigma, seed=3)
        assert rel_err(ds.params.values.reshape(-1, len(X0)), xs) <= 1e-13


def test_a_rule_with_several_evaluations_needs_a_point_kernel():
    with pytest.raises(TypeError, match="point"):
        type("Bad", (Optimizer,), {"name": "bad", "evaluations": 2,
                                   "kernels": {"init": probe_init, "step": probe_step}})


@pytest.mark.parametrize("same", [True, False])
def test_several_evaluations_give_the_same_numbers_in_blocks(same):
    mb = noise.Minibatch(batch_size=3)
    prob = ToyLeastSquares(n=9, d=3, seed=2)
    for p, nz in ((QUAD, noise.Gaussian(sigma=0.5)), (prob, mb)):
        one = probe_gradients(p, nz, 0.1, same, replicates=5)
        blocked = probe_gradients(p, nz, 0.1, same, replicates=5, cls=BlockedTwoPointProbe)
        for a, b in zip(one, blocked):
            np.testing.assert_array_equal(a, b)
