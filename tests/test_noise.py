"""Gradient-noise models: exact oracles, statistics, common random numbers, validation.

The engine's trajectories are compared bit for bit (to 1e-12 relative) with the
plain-Python oracles of ``reference/noise.py``, which draw from the same streams.  To
keep compilation to two kernels, every Quadratic test runs the same stack of the five
transform models (neutral settings for the ones not under test), and every minibatch
test runs ``[Minibatch, StudentT]`` on the toy least-squares problem.
"""

import math

import numpy as np
import pytest
from scipy import stats

import optsim
from optsim import ParameterError
from optsim import _rng, registry
from optsim.engine.codegen import STREAMS
from optsim.noise import AlphaStable, CurvatureScaled, Minibatch, Multiplicative, Spikes, StudentT
from optsim.noise.minibatch import minibatch_sample
from optsim.noise.spikes import MODES
from optsim.optimizers import SGD
from optsim.problems import Quadratic

from reference import noise as ref
from toy_problems import ToyLeastSquares, toy_ls_batch_value_and_grad, toy_ls_value_and_grad

SEED = 12345


def stack(**active):
    """The five transform models, neutral unless given: {name: model}."""
    models = {
        "multiplicative": Multiplicative(sigma=0.0),
        "student_t": StudentT(nu=3.0, scale=0.0),
        "alpha_stable": AlphaStable(alpha=1.5, scale=0.0),
        "spikes": Spikes(p=0.0),
        "curvature_scaled": CurvatureScaled(batch_size=math.inf),
    }
    models.update(active)
    return list(models.values())


def run(problem, noises, lr=0.1, steps=8, replicates=3, grid=None, crn=True, seed=SEED):
    return optsim.sweep(
        problem=problem, optimizer=SGD(lr=lr), noise=noises, grid=grid, replicates=replicates,
        steps=steps, record=("params",), record_every=1, seed=seed, common_random_numbers=crn,
    )


def assert_matches(observed, expected):
    observed = np.asarray(observed)
    scale = np.maximum(np.abs(expected), 1e-300)
    err = np.max(np.abs(observed - expected) / np.maximum(scale, 1.0))
    assert err <= 1e-12, f"trajectory differs from the oracle by {err:.3g} (relative)"


QUAD = Quadratic(curvatures=[1.0, 4.0, 0.25], x0=[1.0, -2.0, 0.5])
QUAD_ROT = Quadratic(curvatures=[1.0, 9.0, 0.5], rotation_seed=3, x0=[1.0, -1.0, 2.0])

ORACLE_CASES = {
    "multiplicative": (QUAD, dict(multiplicative=Multiplicative(sigma=0.5))),
    "student_t": (QUAD, dict(student_t=StudentT(nu=2.5, scale=0.3))),
    "alpha_stable": (QUAD, dict(alpha_stable=AlphaStable(alpha=1.5, scale=0.2))),
    "alpha_stable_cauchy": (QUAD, dict(alpha_stable=AlphaStable(alpha=1.0, scale=0.05))),
    "alpha_stable_gaussian": (QUAD, dict(alpha_stable=AlphaStable(alpha=2.0, scale=0.3))),
    "spikes_sign": (QUAD, dict(spikes=Spikes(p=0.4, magnitude=3.0, mode="sign"))),
    "spikes_coordinate": (QUAD, dict(spikes=Spikes(p=0.4, magnitude=3.0, mode="coordinate"))),
    "spikes_scale": (QUAD, dict(spikes=Spikes(p=0.4, magnitude=5.0, mode="scale"))),
    "curvature_diagonal": (QUAD, dict(curvature_scaled=CurvatureScaled(batch_size=4.0))),
    "curvature_rotated": (QUAD_ROT, dict(curvature_scaled=CurvatureScaled(batch_size=2.0))),
    "all": (QUAD_ROT, dict(
        multiplicative=Multiplicative(sigma=0.2), student_t=StudentT(nu=4.0, scale=0.1),
        alpha_stable=AlphaStable(alpha=1.7, scale=0.05), spikes=Spikes(p=0.3, magnitude=2.0),
        curvature_scaled=CurvatureScaled(batch_size=8.0),
    )),
}


@pytest.mark.parametrize("case", list(ORACLE_CASES))
def test_matches_oracle(case):
    problem, active = ORACLE_CASES[case]
    noises = stack(**active)
    ds = run(problem, noises, lr=0.1, steps=8, replicates=3)
    for r in range(3):
        expected = ref.sgd_trajectory(problem, noises, 0.1, 8, SEED, replicate=r)
        assert_matches(ds["params"].sel(replicate=r).values, expected)
    # the noise did something (against an oracle that ignores the noise models)
    plain = ref.sgd_trajectory(problem, [], 0.1, 8, SEED)
    assert not np.allclose(ds["params"].sel(replicate=0).values, plain)


def test_gridded_noise_parameters_match_oracle():
    """Dynamic noise parameters gridded (batch_size, spike mode) without recompiling."""
    grid = {"batch_size": [1.0, 3.0, 16.0], "mode": list(MODES)}
    base = stack(spikes=Spikes(p=0.5, magnitude=2.0), student_t=StudentT(nu=5.0, scale=0.1))
    ds = run(QUAD_ROT, base, steps=6, replicates=2, grid=grid)
    for B in grid["batch_size"]:
        for mode in MODES:
            noises = stack(spikes=Spikes(p=0.5, magnitude=2.0, mode=mode), student_t=StudentT(nu=5.0, scale=0.1),
                           curvature_scaled=CurvatureScaled(batch_size=B))
            for r in range(2):
                expected = ref.sgd_trajectory(QUAD_ROT, noises, 0.1, 6, SEED, replicate=r)
                got = ds["params"].sel(batch_size=B, mode=mode, replicate=r).values
                assert_matches(got, expected)


# -- common random numbers -----------------------------------------------------------------

FLAT = Quadratic(curvatures=[0.0, 0.0], x0=[0.0, 0.0])  # zero gradient: x1 = -lr * noise


def observed_noise(ds):
    """The noise of the first step read off x1 = -lr * g."""
    x1 = ds["params"].sel(step=1)
    return -x1 / x1["lr"]


@pytest.mark.parametrize("crn", [True, False])
def test_common_random_numbers(crn):
    noises = stack(student_t=StudentT(nu=3.0, scale=1.0), alpha_stable=AlphaStable(alpha=1.5, scale=0.5),
                   spikes=Spikes(p=0.5, magnitude=1.0))
    ds = run(FLAT, noises, steps=1, replicates=4, grid={"lr": [0.5, 1.0, 2.0]}, crn=crn)
    noise = observed_noise(ds).values  # (lr, replicate, param)
    assert np.all(np.isfinite(noise))
    same_across_cells = np.allclose(noise[0], noise[1], rtol=1e-12, atol=0) and np.allclose(
        noise[0], noise[2], rtol=1e-12, atol=0)
    assert same_across_cells == crn
    # replicates always differ from each other
    assert not np.allclose(noise[0, 0], noise[0, 1])
    if crn:  # replicate r uses the key (seed, r, stream, 0)
        for r in range(4):
            expected = ref.sgd_trajectory(FLAT, noises, 1.0, 1, SEED, replicate=r)
            assert_matches(ds["params"].sel(lr=1.0, replicate=r).values, expected)
    else:  # ... and cell c + 1 without common random numbers
        for c, lr in enumerate([0.5, 1.0, 2.0]):
            expected = ref.sgd_trajectory(FLAT, noises, lr, 1, SEED, replicate=2, cell=c + 1)
            assert_matches(ds["params"].sel(lr=lr, replicate=2).values, expected)


# -- statistics of the noise (one step from a point where the exact gradient is known) -----

N_STAT = 20000


def one_step_noise(problem, active, replicates=N_STAT, grid=None):
    """Observed gradient minus exact gradient at the start, for many replicates (lr = 1)."""
    ds = optsim.sweep(problem=problem, optimizer=SGD(lr=1.0), noise=stack(**active), grid=grid,
                      replicates=replicates, steps=1, record=("params",), record_every=1, seed=7)
    x0 = np.asarray(problem.start_point())
    g0 = ref.quadratic_grad(problem.data(), x0)
    x1 = ds["params"].sel(step=1)
    return (x0 - x1) - g0


def test_curvature_scaled_covariance_rotated():
    problem = Quadratic(curvatures=[1.0, 10.0], rotation=30.0, x0=[0.0, 0.0])
    B = 4.0
    xi = one_step_noise(problem, dict(curvature_scaled=CurvatureScaled(batch_size=B))).values
    n = xi.shape[0]
    cov = xi.T @ xi / n  # mean is known to be 0
    target = problem.hessian() / B
    for i in range(2):
        for j in range(2):
            se = math.sqrt((target[i, i] * target[j, j] + target[i, j] ** 2) / n)
            assert abs(cov[i, j] - target[i, j]) <= 5 * se, (cov, target)
    assert abs(target[0, 1]) > 0.5  # the test does exercise the off-diagonal path


def test_curvature_scaled_variance_by_batch_size():
    h = np.array([0.01, 1.0, 100.0])
    problem = Quadratic(curvatures=h, x0=[0.0, 0.0, 0.0])
    xi = one_step_noise(problem, {}, replicates=10000, grid={"batch_size": [1.0, 10.0, 256.0]})
    for B in (1.0, 10.0, 256.0):
        var = (xi.sel(batch_size=B).values ** 2).mean(axis=0)
        target = h / B
        se = target * math.sqrt(2 / 10000)
        assert np.all(np.abs(var - target) <= 5 * se), (B, var, target)


def test_curvature_scaled_prepare():
    diag = CurvatureScaled(batch_size=2.0).prepare(QUAD)
    assert np.allclose(diag[0], np.sqrt([1.0, 4.0, 0.25])) and diag[1].shape == (0, 0)
    root_h, L = CurvatureScaled().prepare(QUAD_ROT)
    assert np.allclose(L @ L.T, QUAD_ROT.hessian(), atol=1e-12)
    with pytest.raises(ParameterError, match="curvatures"):
        CurvatureScaled().prepare(ToyLeastSquares())


def test_multiplicative_statistics():
    problem = Quadratic(curvatures=[1.0, 2.0], x0=[1.0, -3.0])
    g0 = ref.quadratic_grad(problem.data(), problem.start_point())
    sigma = 0.4
    xi = one_step_noise(problem, dict(multiplicative=Multiplicative(sigma=sigma))).values
    rel = xi / g0  # = sigma * z
    within = lambda v, e, se: abs(v - e) <= 5 * se  # noqa: E731
    assert np.all(within(rel.mean(axis=0), 0.0, sigma / math.sqrt(N_STAT)))
    assert np.all(within(rel.std(axis=0), sigma, sigma / math.sqrt(2 * N_STAT)))
    assert stats.kstest(rel[:, 0] / sigma, "norm").pvalue > 1e-4


@pytest.mark.parametrize("nu,scale", [(3.0, 0.5), (1.5, 2.0)])
def test_student_t_scale(nu, scale):
    xi = one_step_noise(FLAT, dict(student_t=StudentT(nu=nu, scale=scale))).values
    for i in range(2):
        assert stats.kstest(xi[:, i], stats.t(nu, scale=scale).cdf).pvalue > 1e-4
    # coordinates are independent
    r = stats.spearmanr(xi[:, 0], xi[:, 1])[0]
    assert abs(r) <= 5 / math.sqrt(N_STAT)


@pytest.mark.parametrize("alpha,scale", [(1.0, 0.5), (1.5, 2.0), (2.0, 0.3)])
def test_alpha_stable_scale(alpha, scale):
    xi = one_step_noise(FLAT, dict(alpha_stable=AlphaStable(alpha=alpha, scale=scale))).values.ravel()
    n = xi.shape[0]
    if alpha == 2.0:  # Gaussian with variance 2 scale^2
        var = 2 * scale**2
        assert abs(xi.var() - var) <= 5 * var * math.sqrt(2 / n)
    # the median of |X| scales linearly with `scale`
    dist = stats.levy_stable(alpha, 0.0)
    med = dist.ppf(0.75)  # median of |S| for a symmetric law
    se = 1 / (2 * math.sqrt(n) * 2 * dist.pdf(med))
    assert abs(np.median(np.abs(xi)) / scale - med) <= 5 * se


@pytest.mark.parametrize("mode", MODES)
def test_spikes_statistics(mode):
    p, m = 0.1, 3.0
    problem = Quadratic(curvatures=[0.0, 0.0, 0.0, 0.0], x0=[0.0] * 4) if mode != "scale" else \
        Quadratic(curvatures=[1.0] * 4, x0=[1.0, 2.0, -1.0, 0.5])
    g0 = ref.quadratic_grad(problem.data(), problem.start_point())
    obs = one_step_noise(problem, dict(spikes=Spikes(p=p, magnitude=m, mode=mode))).values + g0
    spiked = np.any(obs != g0, axis=1)
    assert abs(spiked.mean() - p) <= 5 * math.sqrt(p * (1 - p) / N_STAT)
    s = obs[spiked]
    if mode == "sign":
        assert np.all(np.abs(s) == m)
        assert abs(np.mean(s > 0) - 0.5) <= 5 * math.sqrt(0.25 / s.size)
    elif mode == "coordinate":
        assert np.all(np.count_nonzero(s, axis=1) == 1)
        assert np.all(np.abs(s.sum(axis=1)) == m)
        coords = np.argmax(s != 0, axis=1)
        assert stats.chisquare(np.bincount(coords, minlength=4)).pvalue > 1e-4
    else:
        assert np.allclose(s, m * g0, rtol=1e-12)


# -- minibatch sampling --------------------------------------------------------------------


def sample_many(n, B, replace, count, key=(3, 0, STREAMS["batch"], 0)):
    """``count`` successive batches from the jitted sampler (lists of indices)."""
    idx = np.empty(n, np.int64)
    perm = np.arange(n)
    mbs = np.zeros(2)
    npar = np.array([float(B), float(replace)])
    rng = _rng.stream_state(*key)
    out = []
    for _ in range(count):
        nb = minibatch_sample(idx, perm, mbs, npar, rng)
        out.append(idx[:nb].copy())
    return out, mbs


@pytest.mark.parametrize("n,B", [(10, 3), (12, 4), (5, 5), (7, 1)])
def test_without_replacement_visits_each_example_once_per_epoch(n, B):
    per_epoch = -(-n // B)
    epochs = 6
    batches, mbs = sample_many(n, B, False, per_epoch * epochs)
    sizes = [len(b) for b in batches]
    expected_sizes = ([B] * (n // B) + ([n % B] if n % B else [])) * epochs
    assert sizes == expected_sizes
    orders = []
    for e in range(epochs):
        seen = np.concatenate(batches[e * per_epoch:(e + 1) * per_epoch])
        assert sorted(seen.tolist()) == list(range(n))
        orders.append(tuple(seen))
    assert mbs[1] == epochs
    if n > 3:
        assert len(set(orders)) > 1  # reshuffled every epoch


def test_without_replacement_permutations_are_uniform():
    # over many epochs of n = 4, B = 4, the 24 orders are equally frequent
    batches, _ = sample_many(4, 4, False, 12000)
    codes = [b[0] * 64 + b[1] * 16 + b[2] * 4 + b[3] for b in batches]
    _, counts = np.unique(codes, return_counts=True)
    assert counts.shape[0] == 24
    assert stats.chisquare(counts).pvalue > 1e-4


def test_with_replacement_is_uniform():
    n, B = 6, 4
    batches, _ = sample_many(n, B, True, 5000)
    assert all(len(b) == B for b in batches)
    flat = np.concatenate(batches)
    assert flat.min() >= 0 and flat.max() < n
    assert stats.chisquare(np.bincount(flat, minlength=n)).pvalue > 1e-4
    # duplicates occur (independent draws): P(all distinct) = 6*5*4*3/6^4
    distinct = np.mean([len(set(b.tolist())) == B for b in batches])
    p = 360 / 1296
    assert abs(distinct - p) <= 5 * math.sqrt(p * (1 - p) / 5000)


def test_sampler_matches_oracle():
    for replace in (False, True):
        batches, _ = sample_many(9, 4, replace, 20)
        rng = _rng.stream_state(3, 0, STREAMS["batch"], 0)
        perm, state = list(range(9)), {"pos": 0, "epochs": 0}
        model = Minibatch(batch_size=4, with_replacement=replace)
        for b in batches:
            assert b.tolist() == list(ref.sample_batch(model, perm, state, rng))


@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_gradient_is_unbiased(replace):
    problem = ToyLeastSquares(n=13, d=3, seed=4)
    data = problem.data()
    x = np.array([0.3, -0.7, 1.1])
    full = np.empty(3)
    toy_ls_value_and_grad(x, full, 0, np.zeros(1), data, np.zeros(4, np.uint64))
    count = 6000
    batches, _ = sample_many(13, 5, replace, count)
    grads = np.empty((count, 3))
    g = np.empty(3)
    for k, b in enumerate(batches):
        idx = np.zeros(13, np.int64)
        idx[:len(b)] = b
        toy_ls_batch_value_and_grad(x, g, idx, len(b), np.zeros(1), data)
        grads[k] = g
    se = grads.std(axis=0) / math.sqrt(count)
    assert np.all(np.abs(grads.mean(axis=0) - full) <= 5 * se), (grads.mean(axis=0), full, se)
    assert np.all(se > 0)


MB_PROBLEM = ToyLeastSquares(n=7, d=3, seed=1, x0=[0.5, -0.5, 0.0])


@pytest.mark.parametrize("replace", [False, True])
def test_minibatch_sweep_matches_oracle(replace):
    """Engine vs oracle, with a further noise model after the minibatch (stream noise0 + 1)."""
    sizes = [1, 3, 7]
    noises = [Minibatch(batch_size=3, with_replacement=replace), StudentT(nu=4.0, scale=0.1)]
    ds = run(MB_PROBLEM, noises, lr=0.05, steps=10, replicates=2, grid={"batch_size": sizes})

    def grad(data, x, rows):
        return ref.least_squares_grad(data, x, range(7) if rows is None else rows)

    for B in sizes:
        model = [Minibatch(batch_size=B, with_replacement=replace), noises[1]]
        for r in range(2):
            expected = ref.sgd_trajectory(MB_PROBLEM, model, 0.05, 10, SEED, replicate=r, grad=grad)
            assert_matches(ds["params"].sel(batch_size=B, replicate=r).values, expected)


def test_minibatch_epochs_end_to_end():
    """With A = I, the coordinates a step moves are exactly the examples of its batch."""
    n, B = 5, 2
    problem = ToyLeastSquares(A=np.eye(n), b=np.arange(1.0, n + 1), x0=np.zeros(n))
    noises = [Minibatch(batch_size=B), StudentT(scale=0.0)]
    steps = 3 * 4  # four epochs of 3 batches (2, 2, 1)
    ds = run(problem, noises, lr=0.1, steps=steps, replicates=2)
    x = ds["params"].sel(replicate=1).values
    moved = [np.flatnonzero(x[t + 1] != x[t]).tolist() for t in range(steps)]
    assert [len(m) for m in moved] == [2, 2, 1] * 4
    for e in range(4):
        assert sorted(sum(moved[3 * e:3 * e + 3], [])) == list(range(n))


def test_minibatch_validation():
    with pytest.raises(ParameterError, match="batch_size"):
        optsim.sweep(problem=ToyLeastSquares(n=5), optimizer=SGD(), noise=Minibatch(batch_size=6), steps=2)
    with pytest.raises(ParameterError, match="dataset"):
        Minibatch(batch_size=2).prepare(QUAD)
    with pytest.raises(ParameterError):
        Minibatch(batch_size=0)


# -- parameters and registry ---------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: Multiplicative(sigma=-1.0),
    lambda: StudentT(nu=0.0),
    lambda: StudentT(scale=-1.0),
    lambda: AlphaStable(alpha=0.0),
    lambda: AlphaStable(alpha=2.5),
    lambda: Spikes(p=1.5),
    lambda: Spikes(magnitude=-1.0),
    lambda: Spikes(mode="dense"),
    lambda: CurvatureScaled(batch_size=0.0),
    lambda: Minibatch(batch_size=2.5),
])
def test_parameter_ranges(make):
    with pytest.raises(ParameterError):
        make()


def test_registry_names():
    table = registry.components("noise")
    for name, cls in [("multiplicative", Multiplicative), ("student_t", StudentT), ("alpha_stable", AlphaStable),
                      ("spikes", Spikes), ("curvature_scaled", CurvatureScaled), ("minibatch", Minibatch)]:
        assert table[name] is cls
        assert cls.__doc__ and ":math:" in cls.__doc__
    assert registry.build("noise", {"name": "spikes", "mode": "coordinate"}) == Spikes(mode="coordinate")
