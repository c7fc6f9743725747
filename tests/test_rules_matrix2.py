"""Adafactor, SOAP and Sophia against NumPy oracles (open loop on a replayed gradient
sequence and closed loop on a rotated quadratic, both with matrix-shaped parameters), and
against the golden files of their libraries that carry ``param_shapes``."""

import numpy as np
import pytest

import optsim
from golden import fixtures
from optsim import optimizers, problems, registry
from optsim.problems.replay import Replay

from reference import rules_matrix2 as rm
from reference.loops import run, run_open
from reference.problems import quadratic as quadratic_gradient
from optsim.problems.quadratic import rotation_matrix

STEPS = 60
SHAPES = {"A": (3, 4), "B": (5, 2), "c": (3,)}
D = 12 + 10 + 3


def shaped(cls, shapes):
    """``cls`` (a problem class) declaring the parameter as ``shapes``."""
    return type(f"Shaped{cls.__name__}", (cls,), {"param_shapes": lambda self: dict(shapes)})


def gradient_sequence(steps=STEPS, d=D, seed=11):
    """Gradients of mixed scale and sign per coordinate, with a run of zeros and a spike."""
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((steps, d)) * np.geomspace(0.05, 20.0, d)
    G[20:26, 4] = 0.0
    G[30, 0] = 50.0
    return G


def setup(d):
    """``(x0, curvatures, center)`` of the closed-loop quadratic in ``d`` dimensions."""
    return np.random.default_rng(5).standard_normal(d), np.geomspace(1.0, 50.0, d), np.linspace(-0.5, 0.5, d)


X0, CURV, CENTER = setup(D)


def size(shapes):
    return sum(int(np.prod(s)) for s in shapes.values())


def quadratic(shapes=SHAPES):
    x0, curv, center = setup(size(shapes))
    return shaped(problems.Quadratic, shapes)(curvatures=curv, rotation_seed=3, x0=x0, center=center)


def quadratic_oracle(shapes=SHAPES):
    d = size(shapes)
    _, curv, center = setup(d)
    q = rotation_matrix(d, None, 3)
    return quadratic_gradient((q * curv) @ q.T, center)


def relerr(a, b):
    """The largest normwise relative error over the rows (steps)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return float(np.max(num / den))


def sweep_cases(opt, cases, problem, steps=STEPS, sigma=0.0):
    """One sweep with the cases zipped along one grid axis: [the recorded parameters]."""
    keys = sorted({k for c in cases for k in c})
    defaults = opt.values
    rows = [tuple(c.get(k, defaults[k]) for k in keys) for c in cases]
    axis = tuple(f"optimizer.{k}" for k in keys)
    grid = {axis: rows} if len(keys) > 1 else {axis[0]: [r[0] for r in rows]}
    noise = optsim.noise.Gaussian(sigma=sigma) if sigma else None
    ds = optsim.sweep(problem, opt, steps=steps, record_every=1, record=("params",), grid=grid, noise=noise,
                      diverge_factor=np.inf)
    return [ds["params"].values[i, 0] for i in range(len(cases))]


def check_cases(cls, oracle, cases, lr_default, shapes=SHAPES, steps=STEPS, rtol=1e-12, closed_shapes=None,
                sigma=0.0):
    """Every case open loop (a replayed sequence, parameter ``shapes``) and closed loop (a
    rotated quadratic, ``closed_shapes``, default the same) against the oracle: the failures
    {case: (open-loop error, closed-loop error)} are none.  ``sigma``: Gaussian gradient noise
    in the closed loop, drawn as the kernels draw it."""
    d = size(shapes)
    x0 = setup(d)[0]
    G = gradient_sequence(steps, d)
    got_open = sweep_cases(cls(), cases, shaped(Replay, shapes)(grads=G, x0=x0), steps)
    closed_shapes = closed_shapes or shapes
    got_closed = sweep_cases(cls(), cases, quadratic(closed_shapes), steps, sigma)
    grad, loss = quadratic_oracle(closed_shapes)
    x0c = setup(size(closed_shapes))[0]
    bad, errs = {}, []
    for i, kw in enumerate(cases):
        lr = kw.get("lr", lr_default)
        ref = run_open(oracle(shapes, **kw), G, x0, lr)
        e1 = relerr(got_open[i], ref)
        ref, _ = run(oracle(closed_shapes, **kw), grad, loss, x0c, steps, lr, sigma=sigma)
        e2 = relerr(got_closed[i], ref)
        errs.append((e1, e2))
        if not (e1 <= rtol and e2 <= rtol):
            bad[str(kw)] = (e1, e2)
    assert not bad, bad
    return errs


# -- Adafactor ---------------------------------------------------------------------------------

ADAFACTOR_CASES = [
    dict(),
    dict(lr=0.05, beta2_decay=-0.6, eps2=1e-2, d=1.5, weight_decay=0.1),
    dict(lr=0.05, eps_mode="add", eps1=1e-30, decay_scaling="alpha", weight_decay=0.2, beta1=0.9),
    dict(lr=0.02, relative_step=False, scale_parameter=False, d=None, decay_scaling="none", weight_decay=0.01,
         eps_mode="add", eps1=1e-30),
    dict(warmup_init=True, maximize=True, d=2.0),
    dict(lr=0.05, factored=False, beta1=0.5),
    dict(lr=0.05, min_dim_size_to_factor=3, eps1=1e-3),
]


def test_adafactor_matches_the_oracle_open_and_closed_loop():
    check_cases(optimizers.Adafactor, rm.AdafactorRef, ADAFACTOR_CASES, 1e-2)


def test_adafactor_factors_only_the_matrices():
    """On a problem without declared matrices Adafactor is the unfactored rule on one vector;
    with matrices, the factored second moment makes a different trajectory."""
    G = gradient_sequence()
    flat = optsim.replay(optimizers.Adafactor(lr=0.05), G, x0=X0)
    unfactored = sweep_cases(optimizers.Adafactor(lr=0.05), [dict(factored=False), dict(factored=True)],
                             shaped(Replay, SHAPES)(grads=G, x0=X0))
    ref = run_open(rm.AdafactorRef({"x": (D,)}, lr=0.05), G, X0, 0.05)
    assert relerr(flat, ref) <= 1e-12
    assert relerr(unfactored[1], unfactored[0]) > 1e-3


def test_adafactor_bad_input_is_one_line():
    for kw, words in [(dict(d=0.5), "d"), (dict(beta2_decay=0.5), "beta2_decay"), (dict(eps_mode="x"), "eps_mode")]:
        with pytest.raises(optsim.ParameterError) as err:
            optimizers.Adafactor(**kw)
        assert words in str(err.value) and "\n" not in str(err.value)


# -- golden files with matrix parameters --------------------------------------------------------

MATRIX_GOLDEN = [p for p in fixtures.cases("optimizers") if "param_shapes" in fixtures.load(p)[0]
                 and fixtures.load(p)[0]["optimizer"]["name"] in ("adafactor", "soap", "sophia")]


def golden_trajectory(meta, arrays):
    """optsim's trajectory of a golden case whose parameter has ``meta['param_shapes']``."""
    ps = meta["param_shapes"]
    shapes = {k: tuple(s) for k, s in ps.items()} if isinstance(ps, dict) else \
        {f"p{i}": tuple(s) for i, s in enumerate(ps)}
    opt = registry.build("optimizer", meta["optimizer"])
    steps = arrays["xs"].shape[0] - 1
    if meta["loop"] == "open":
        problem = shaped(Replay, shapes)(grads=arrays["grads"], x0=arrays["x0"])
    else:
        problem = shaped(problems.Quadratic, shapes)(curvatures=arrays["curvatures"], center=arrays["center"],
                                                     x0=arrays["x0"])
    ds = optsim.sweep(problem, opt, steps=steps, record_every=1, record=("params",), diverge_factor=np.inf)
    return ds["params"].values.reshape(steps + 1, -1)


@pytest.mark.parametrize("path", MATRIX_GOLDEN, ids=[p.stem for p in MATRIX_GOLDEN])
def test_matrix_golden_files(path):
    meta, arrays = fixtures.load(path)
    err = relerr(golden_trajectory(meta, arrays), arrays["xs"])
    assert err <= meta["rtol"], f"{meta['reference']} ({meta['library']} {meta['library_version']}): {err:.3g}"


# -- SOAP -----------------------------------------------------------------------------------------

# |rows - cols| <= 1 for every preconditioned side, so that no statistic starts with a repeated
# eigenvalue (whose eigenbasis LAPACK and the Jacobi iteration would pick differently)
SOAP_SHAPES = {"A": (3, 4), "B": (3, 2), "c": (2,)}
# closed loop without noise the second gradient is the first (the first call leaves x as it
# is), whose rotation Q_L^T G Q_R is then diagonal: its zero entries are roundoff, and their
# updates roundoff divided by eps.  The closed loop therefore runs with gradient noise.
SOAP_CASES = [
    dict(),
    dict(lr=0.02, betas=(0.9, 0.99), shampoo_beta=0.8, eps=1e-6, weight_decay=0.05, precondition_frequency=3),
    dict(lr=0.02, eigenbasis="eigh", precondition_frequency=4, precondition_1d=True),
    dict(lr=0.02, eps_mode="max_vhat", eps=1e-3, decay_order="before", weight_decay=0.1),
    dict(lr=0.01, bias_correction=False, normalize_grads=True, max_precond_dim=3, precondition_frequency=2),
]


def _flat_cases(cases):
    out = []
    for kw in cases:
        kw = dict(kw)
        if "betas" in kw:
            kw["beta1"], kw["beta2"] = kw.pop("betas")
        out.append(kw)
    return out


def test_soap_matches_the_oracle_open_and_closed_loop():
    check_cases(optimizers.SOAP, rm.SOAPRef, _flat_cases(SOAP_CASES), 3e-3, shapes=SOAP_SHAPES,
                sigma=0.5)


def test_soap_on_vectors_is_adam_after_a_skipped_first_step():
    G = gradient_sequence(40, 6)
    got = optsim.replay(optimizers.SOAP(lr=0.01, weight_decay=0.0), G, x0=np.ones(6))
    ref = optsim.replay(optimizers.Adam(lr=0.01, betas=(0.95, 0.95), eps=1e-8, eps_mode="sqrt_v"), G[1:],
                        x0=np.ones(6))
    np.testing.assert_array_equal(got[1], got[0])
    assert relerr(got[1:], ref) <= 1e-14


def test_soap_eigensolvers_against_lapack():
    from optsim.optimizers.soap import jacobi_eigh, mgs_qr

    rng = np.random.default_rng(2)
    B = rng.standard_normal((6, 6))
    A = B @ B.T
    V = np.zeros(36)
    w = np.zeros(6)
    jacobi_eigh(A.ravel().copy(), V, 6, w)
    lam, Q = np.linalg.eigh(A)
    np.testing.assert_allclose(w, lam[::-1], rtol=1e-13)
    V = V.reshape(6, 6)
    np.testing.assert_allclose(np.abs(np.sum(V * Q[:, ::-1], axis=0)), 1.0, atol=1e-12)
    Qm = np.zeros(36)
    mgs_qr(B.ravel().copy(), Qm, 6)
    Qm = Qm.reshape(6, 6)
    Qh = np.linalg.qr(B)[0]
    np.testing.assert_allclose(np.abs(np.sum(Qm * Qh, axis=0)), 1.0, atol=1e-12)
    np.testing.assert_allclose(Qm.T @ Qm, np.eye(6), atol=1e-14)


def test_soap_refuses_blocks_its_state_cannot_hold():
    prob = shaped(Replay, {"W": (40, 2)})(grads=np.ones((3, 80)))
    with pytest.raises(optsim.ParameterError) as err:
        optsim.replay(optimizers.SOAP(), np.ones((3, 80)))  # one vector block: Adam, no preconditioner
        optsim.sweep(prob, optimizers.SOAP(), steps=2)
    assert "max_precond_dim" in str(err.value) and "\n" not in str(err.value)
    optsim.sweep(prob, optimizers.SOAP(max_precond_dim=39), steps=2)  # W's rows unpreconditioned: it fits


# -- Sophia ---------------------------------------------------------------------------------------

from numba import njit  # noqa: E402

from optsim.optimizers.sophia import sophia_probe  # noqa: E402


@njit(cache=True)
def fixed_hessian_diagonal(x, h, pp, data):
    for i in range(x.shape[0]):
        h[i] = (i % 5) - 1.0  # negative, zero and positive curvatures


def fixed_hessian(x):
    return (np.arange(x.shape[0]) % 5) - 1.0


class ReplayWithHessian(Replay):
    """The replay problem with a fixed Hessian diagonal (1 - 1, 0, 1, 2, 3 repeating)."""

    kernels = {**Replay.kernels, "hessian_diagonal": fixed_hessian_diagonal}


SOPHIA_CASES = [
    dict(lr=0.01),
    dict(lr=0.01, hessian_update="before_step", denominator="max", rho=1.0, clip=0.05, eps=1e-12, update_period=3),
    dict(lr=0.02, betas=(0.9, 0.95), rho=0.5, weight_decay=0.0, update_period=1),
    dict(lr=0.01, denominator="max", update_period=4, weight_decay=0.3),
    dict(lr=0.01, clamp_hessian=True, bias_correction=True, eps=1e-12, rho=0.5, update_period=2),
]


def _sophia_oracle(kw, **extra):
    kw = dict(kw)
    if "betas" in kw:
        kw["beta1"], kw["beta2"] = kw.pop("betas")
    return rm.SophiaRef(**kw, **extra, probe_fn=sophia_probe)


def test_sophia_exact_open_loop_matches_the_oracle():
    G = gradient_sequence(STEPS, 12)
    got = sweep_cases(optimizers.Sophia(), _flat_cases(SOPHIA_CASES), ReplayWithHessian(grads=G, x0=X0[:12]))
    for i, kw in enumerate(SOPHIA_CASES):
        ref = run_open(_sophia_oracle(kw, hess=fixed_hessian), G, X0[:12], kw["lr"])
        assert relerr(got[i], ref) <= 1e-12, kw


@pytest.mark.parametrize("hessian", ["exact", "hutchinson"])
def test_sophia_closed_loop_matches_the_oracle(hessian):
    """On a rotated quadratic: the exact diagonal with gradient noise, Hutchinson's estimate
    (Gaussian and Rademacher probes) without."""
    shapes = {"x": (10,)}
    q = rotation_matrix(10, None, 3)
    _, curv, center = setup(10)
    Hm = (q * curv) @ q.T
    grad, loss = quadratic_oracle(shapes)
    extra = dict(hessian=hessian, hvp_delta=0.1)
    cases = [dict(c, **extra) for c in SOPHIA_CASES]
    if hessian == "hutchinson":
        cases += [dict(SOPHIA_CASES[1], probe="rademacher", probe_seed=3, **extra)]
    sigma = 0.3 if hessian == "exact" else 0.0
    got = sweep_cases(optimizers.Sophia(), _flat_cases(cases), quadratic(shapes), sigma=sigma)
    x0 = setup(10)[0]
    for i, kw in enumerate(cases):
        oracle = _sophia_oracle(kw, hess=lambda x: np.diag(Hm), grad=grad)
        ref, _ = run(oracle, grad, loss, x0, STEPS, kw["lr"], sigma=sigma)
        assert relerr(got[i], ref) <= 1e-12, kw


def test_sophia_hutchinson_estimate_is_unbiased():
    """The mean of u * (H u) over many steps' probes is the Hessian diagonal (a dense H), to
    four standard errors, for both probe distributions."""
    q = rotation_matrix(6, None, 1)
    Hm = (q * np.geomspace(1.0, 10.0, 6)) @ q.T
    for gaussian in (True, False):
        U = np.array([[sophia_probe(0, t, i, gaussian) for i in range(6)] for t in range(1, 4001)])
        samples = U * (U @ Hm)
        se = samples.std(axis=0) / np.sqrt(len(U))
        assert np.all(np.abs(samples.mean(axis=0) - np.diag(Hm)) < 4 * se + 1e-12), gaussian
        if not gaussian:
            assert set(np.unique(U)) == {-1.0, 1.0}
        else:
            assert abs(U.mean()) < 0.05 and abs(U.std() - 1.0) < 0.05


def test_sophia_exact_needs_a_hessian_kernel():
    with pytest.raises(optsim.ParameterError) as err:
        optsim.replay(optimizers.Sophia(hessian="exact"), np.ones((3, 2)))
    assert "hessian_diagonal" in str(err.value) and "\n" not in str(err.value)
    xs = optsim.replay(optimizers.Sophia(hessian="hutchinson", lr=0.1), np.ones((3, 2)))
    assert np.all(np.isfinite(xs)) and xs[-1, 0] < 0.0
    np.testing.assert_array_equal(optsim.replay(optimizers.Sophia(lr=0.1), np.ones((3, 2))), xs)  # auto


def test_sophia_auto_takes_the_exact_diagonal_where_there_is_one():
    prob = problems.Quadratic(curvatures=[1.0, 4.0, 9.0], rotation_seed=2, x0=[1.0, -1.0, 0.5])
    kw = dict(steps=30, record_every=1, record=("params",))
    auto = optsim.sweep(prob, optimizers.Sophia(lr=0.05, update_period=3, rho=5.0), **kw)
    exact = optsim.sweep(prob, optimizers.Sophia(lr=0.05, update_period=3, rho=5.0, hessian="exact"), **kw)
    hutch = optsim.sweep(prob, optimizers.Sophia(lr=0.05, update_period=3, rho=5.0, hessian="hutchinson"), **kw)
    np.testing.assert_array_equal(auto.params.values, exact.params.values)
    assert np.max(np.abs(auto.params.values - hutch.params.values)) > 1e-6


@pytest.mark.parametrize("problem", [problems.Rosenbrock(x0=[-1.2, 1.0]), problems.MatrixRegression(l2=0.1),
                                     problems.Quadratic(curvatures=[1.0, 4.0, 9.0], rotation_seed=2)])
def test_hessian_diagonal_kernels_against_finite_differences(problem):
    """Each problem's hessian_diagonal kernel against central differences of its gradient."""
    vg = type(problem).kernels["value_and_grad"]
    hd = type(problem).kernels["hessian_diagonal"]
    data = tuple(np.ascontiguousarray(a) for a in problem.data())
    pp = np.asarray(problem.row(), float)
    rng = np.random.default_rng(0)
    x = problem.start_point() + 0.3 * rng.standard_normal(problem.dimension())
    h = np.zeros_like(x)
    hd(x, h, pp, data)
    e = 1e-5
    fd = np.zeros_like(x)
    for i in range(x.shape[0]):
        gp, gm = np.zeros_like(x), np.zeros_like(x)
        xp, xm = x.copy(), x.copy()
        xp[i] += e
        xm[i] -= e
        vg(xp, gp, 0, pp, data, np.zeros(4, np.uint64))
        vg(xm, gm, 0, pp, data, np.zeros(4, np.uint64))
        fd[i] = (gp[i] - gm[i]) / (2 * e)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6)


def test_the_conventions_change_the_numbers():
    """Each library's golden trajectory fails under the other library's convention: the
    options are real differences (Sophia's refresh order, Adafactor's weight-decay scaling)."""
    from test_golden import optsim_trajectory

    for stem, change in [("official_sophiag_closed", dict(hessian_update="before_step")),
                         ("pytorch_optimizer_sophiah_exact_closed", dict(hessian_update="after_step"))]:
        meta, arrays = fixtures.load(fixtures.ROOT / "optimizers" / f"{stem}.npz")
        assert relerr(optsim_trajectory(meta, arrays), arrays["xs"]) <= meta["rtol"]
        meta["optimizer"] = dict(meta["optimizer"], **change)
        assert relerr(optsim_trajectory(meta, arrays), arrays["xs"]) > 1e-6, stem
    for stem, change in [("hf_adafactor_open", dict(decay_scaling="lr")),
                         ("torch_adafactor_closed", dict(decay_scaling="alpha"))]:
        meta, arrays = fixtures.load(fixtures.ROOT / "optimizers" / f"{stem}.npz")
        assert relerr(golden_trajectory(meta, arrays), arrays["xs"]) <= meta["rtol"]
        meta["optimizer"] = dict(meta["optimizer"], **change)
        assert relerr(golden_trajectory(meta, arrays), arrays["xs"]) > 1e-6, stem
