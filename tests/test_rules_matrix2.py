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


X0 = np.random.default_rng(5).standard_normal(D)
CURV = np.geomspace(1.0, 50.0, D)
CENTER = np.linspace(-0.5, 0.5, D)


def quadratic(shapes=SHAPES):
    return shaped(problems.Quadratic, shapes)(curvatures=CURV, rotation_seed=3, x0=X0, center=CENTER)


def quadratic_oracle():
    q = rotation_matrix(D, None, 3)
    return quadratic_gradient((q * CURV) @ q.T, CENTER)


def relerr(a, b):
    """The largest normwise relative error over the rows (steps)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    num = np.linalg.norm(a - b, axis=-1)
    den = np.maximum(np.linalg.norm(b, axis=-1), 1e-300)
    return float(np.max(num / den))


def sweep_cases(opt, cases, problem, steps=STEPS):
    """One sweep with the cases zipped along one grid axis: [the recorded parameters]."""
    keys = sorted({k for c in cases for k in c})
    defaults = opt.values
    rows = [tuple(c.get(k, defaults[k]) for k in keys) for c in cases]
    axis = tuple(f"optimizer.{k}" for k in keys)
    grid = {axis: rows} if len(keys) > 1 else {axis[0]: [r[0] for r in rows]}
    ds = optsim.sweep(problem, opt, steps=steps, record_every=1, record=("params",), grid=grid,
                      diverge_factor=np.inf)
    return [ds["params"].values[i, 0] for i in range(len(cases))]


def check_cases(cls, oracle, cases, lr_default):
    G = gradient_sequence()
    got_open = sweep_cases(cls(), cases, shaped(Replay, SHAPES)(grads=G, x0=X0))
    got_closed = sweep_cases(cls(), cases, quadratic())
    grad, loss = quadratic_oracle()
    bad = {}
    for i, kw in enumerate(cases):
        lr = kw.get("lr", lr_default)
        ref = run_open(oracle(SHAPES, **kw), G, X0, lr)
        e1 = relerr(got_open[i], ref)
        ref, _ = run(oracle(SHAPES, **kw), grad, loss, X0, STEPS, lr)
        e2 = relerr(got_closed[i], ref)
        if not (e1 <= 1e-12 and e2 <= 1e-12):
            bad[str(kw)] = (e1, e2)
    assert not bad, bad


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

MATRIX_GOLDEN = [p for p in fixtures.cases("optimizers") if "param_shapes" in fixtures.load(p)[0]]


def golden_trajectory(meta, arrays):
    """optsim's trajectory of a golden case whose parameter has ``meta['param_shapes']``."""
    shapes = {f"p{i}": tuple(s) for i, s in enumerate(meta["param_shapes"])}
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
